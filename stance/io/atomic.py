"""Files that appear whole or not at all: written under a hidden partial name beside the target, then renamed."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


@contextmanager
def atomic_output(path: str | Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """A handle on ``.NAME.partial`` beside ``path``; on success it replaces ``path`` (same folder, so
    the rename is atomic), on an error it is removed and ``path`` keeps what it held before."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> Path:
    with atomic_output(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Path(path)
