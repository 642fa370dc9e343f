"""One source of examples (schema ``SourceConfig``): its split files read as text, target, label."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from stance.data.datasets_io import read_source
from stance.data.splits import fill_missing_splits
from stance.data.tweeteval import read_tweeteval
from stance.errors import DataError
from stance.io.checks import require_columns, text_problem
from stance.labels import normalize_label

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")


@dataclass
class SplitReport:
    """What happened to the rows of one split on the way in: nothing is dropped silently."""

    rows_read: int = 0
    skipped_text: dict[str, int] = field(default_factory=dict)
    duplicates_dropped: int = 0

    def log(self, split: str) -> None:
        reasons = ", ".join(f"{count} {reason}" for reason, count in self.skipped_text.items()) or "none"
        log.info(
            "%s: %d rows read; skipped for their text: %s; exact duplicates dropped: %d",
            split, self.rows_read, reasons, self.duplicates_dropped,
        )


def source_frames(cfg, seed: int, splits: tuple[str, ...], keep_all_rows: bool) -> dict[str, pd.DataFrame]:
    """The ``splits`` of one source (schema ``SourceConfig``) as frames of text, target, label."""
    frames = {split: _read_split(cfg, split, keep_all_rows) for split in SPLITS if cfg[split]}
    if not frames:
        raise DataError(f"data config {cfg.name!r} names no split file (set data.train, data.dev or data.test)")
    if "train" in splits and "train" not in frames:
        raise DataError("training needs data.train")
    return fill_missing_splits(frames, splits, cfg, seed)


def _read_split(cfg, split: str, keep_all_rows: bool) -> pd.DataFrame:
    examples = _read_examples(cfg, split)
    report = SplitReport(rows_read=len(examples))
    extra_aliases = dict(cfg.label_map or {})

    rows = []
    for text, target, label, where in examples.itertuples(index=False):
        problem = text_problem(text)
        if problem and not keep_all_rows:
            report.skipped_text[problem] = report.skipped_text.get(problem, 0) + 1
            continue
        if text_problem(target):
            if not cfg.default_target:
                raise DataError(f"{where}: no target and no data.default_target")
            target = cfg.default_target
        label = normalize_label(label, where=where, extra_aliases=extra_aliases)
        rows.append(("" if problem else text.strip(), str(target).strip(), label))

    if not rows and report.rows_read:
        skipped = ", ".join(f"{count} {reason}" for reason, count in report.skipped_text.items())
        raise DataError(f"{cfg[split]}: none of its {report.rows_read} rows has a text to learn from or score ({skipped})")
    frame = pd.DataFrame(rows, columns=["text", "target", "label"])
    if not keep_all_rows and split == "train":  # dev and test are scored as given
        before = len(frame)
        frame = frame.drop_duplicates(ignore_index=True)
        report.duplicates_dropped = before - len(frame)
    conflicts = frame.duplicated(["text", "target"]).sum()
    if conflicts:
        log.warning("%s %s: %d (text, target) pairs carry more than one label", cfg.name, split, conflicts)
    report.log(f"{cfg.name} {split}")
    return frame


def _read_examples(cfg, split: str) -> pd.DataFrame:
    """Raw (text, target, label, where) rows of one split, before any validation."""
    if cfg.format == "tweeteval":
        return read_tweeteval(cfg, split)
    if cfg.format != "table":
        raise DataError(f"unknown data.format {cfg.format!r}; use table or tweeteval")
    source = str(Path(cfg.path) / cfg[split]) if cfg.path else cfg[split]
    raw = read_source(source, hub_config=cfg.hub_config, split=split, encoding=cfg.encoding)
    # A wide table carries several (target, label) column pairs per text, e.g. RUW's
    # (Target 1, Stance 1), (Target 2, Stance 2): each pair is one example.
    pairs = [tuple(pair) for pair in cfg.target_label_columns or []] or [(cfg.target_column, cfg.label_column)]
    require_columns(raw.columns, [cfg.text_column] + [column for pair in pairs for column in pair if column], source)
    where = [f"{source} row {i + 1}" for i in range(len(raw))]
    parts = [
        pd.DataFrame({
            "text": raw[cfg.text_column],
            "target": raw[target_column] if target_column else None,
            "label": raw[label_column],
            "where": where,
        })
        for target_column, label_column in pairs
    ]
    return pd.concat(parts, ignore_index=True)
