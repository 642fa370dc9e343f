"""The one dataset loader: read -> map columns -> normalise labels -> validate -> split."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stance.data.mixture import mixture_frames
from stance.data.sources import SPLITS, source_frames
from stance.data.splits import check_overlap
from stance.errors import DataError
from stance.labels import LABELS

if TYPE_CHECKING:  # datasets is imported where a split is built
    from datasets import DatasetDict


def load_splits(cfg, seed: int = 42, splits: tuple[str, ...] = SPLITS, keep_all_rows: bool = False) -> DatasetDict:
    """Load the ``splits`` that a data config (``cfg.data``, schema ``DataConfig``) describes.

    Columns are mapped to ``text``, ``target`` and ``label`` (a ClassLabel over LABELS).
    When a config names only some split files, the missing splits are cut from the
    first named one with a split stratified by label and seeded by ``seed``.
    ``keep_all_rows`` keeps empty texts and duplicates, so that row i of the split is
    row i of the file (for scoring a predictions file line by line).
    """
    frames = mixture_frames(cfg, seed, splits, keep_all_rows) if cfg.sources else source_frames(cfg, seed, splits, keep_all_rows)
    check_overlap(frames, on_overlap=cfg.on_overlap)
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({"text": Value("string"), "target": Value("string"), "label": ClassLabel(names=list(LABELS))})
    result = DatasetDict()
    for split in splits:
        frame = frames[split]
        if frame.empty:
            raise DataError(f"split {split!r} is empty after loading {cfg[split] or cfg.train}")
        result[split] = Dataset.from_pandas(frame[["text", "target", "label"]], features=features, preserve_index=False)
    return result
