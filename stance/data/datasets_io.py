"""Sources that the ``datasets`` library reads: a saved directory or a hub data set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stance.errors import DataError
from stance.io.formats import source_format
from stance.io.readers import read_frame

# the names that public data sets give our three splits
HUB_SPLIT_NAMES = {"train": ("train",), "dev": ("dev", "validation", "val", "valid"), "test": ("test",)}


def read_source(source: str | Path, *, hub_config: str | None, split: str | None, encoding: str) -> pd.DataFrame:
    """All rows of a table file, a saved datasets directory or a hub data set (``split`` of it)."""
    fmt = source_format(source)
    if fmt in ("saved", "hub"):
        return open_dataset(source, fmt, hub_config=hub_config, split=split).to_pandas()
    return read_frame(source, encoding=encoding)


def open_dataset(source, fmt: str, *, hub_config: str | None, split: str | None) :
    import datasets

    if fmt == "saved":
        try:
            loaded = datasets.load_from_disk(str(source))
        except FileNotFoundError as exc:
            raise DataError(f"{source}: not a saved datasets directory ({exc})") from None
    else:
        loaded = datasets.load_dataset(str(source), hub_config)
    if isinstance(loaded, datasets.DatasetDict):
        names = HUB_SPLIT_NAMES.get(split or "", (split,)) if split else tuple(loaded)
        for name in names:
            if name in loaded:
                return loaded[name]
        raise DataError(f"{source}: no split {split!r}; it has {', '.join(loaded)}")
    return loaded


# the names that public data sets give our three splits
HUB_SPLIT_NAMES = {"train": ("train",), "dev": ("dev", "validation", "val", "valid"), "test": ("test",)}
