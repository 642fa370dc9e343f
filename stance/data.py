"""The one dataset loader: read -> map columns -> normalise labels -> validate -> split.

Training, evaluation and batch labeling all read through this module. Readers stream
in chunks (``iter_chunks``) so labeling can work on files larger than memory; training
and evaluation read whole splits with ``load_splits``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

import numpy as np
import pandas as pd

from stance.errors import StanceError
from stance.labels import LABELS, normalize_label

if TYPE_CHECKING:  # datasets is imported where it is used: stance-label never needs it (a third of a second)
    from datasets import Dataset, DatasetDict

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
FILE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


class DataError(StanceError):
    """A data file or data config that cannot be used, explained in one line."""


@dataclass
class Chunk:
    """Consecutive rows of a source, read as strings, with a per-row read error (or None)."""

    frame: pd.DataFrame
    errors: list[str | None]
    start: int  # 0-based index of the chunk's first row in the source
    # JSONL only: each line's object as parsed ({} for a malformed line), so a writer can
    # give every line back with its own keys and value types rather than the frame's union
    records: list[dict] | None = None

    def row_name(self, offset: int, source: str) -> str:
        return f"{source} row {self.start + offset + 1}"


# --------------------------------------------------------------------------- reading


STDIN = "-"  # as a source: JSONL read from standard input


def source_format(source: str | Path) -> str:
    """'csv' | 'tsv' | 'jsonl' | 'parquet' | 'saved' (a datasets directory) | 'hub'; ``-`` is JSONL on stdin."""
    if str(source) == STDIN:
        return "jsonl"
    path = Path(source)
    if path.is_dir():
        return "saved"
    suffix = path.suffix.lower()
    if suffix in FILE_FORMATS:
        if not path.exists():
            raise DataError(f"no such file: {source}")
        return FILE_FORMATS[suffix]
    if path.exists():
        raise DataError(f"{source}: unsupported file type {suffix!r}; use one of {', '.join(FILE_FORMATS)}")
    if re.fullmatch(r"[\w.-]+/[\w.-]+", str(source)):
        return "hub"
    raise DataError(f"no such file or directory: {source}")


def iter_chunks(
    source: str | Path,
    chunk_size: int = 10_000,
    *,
    hub_config: str | None = None,
    split: str | None = None,
    encoding: str = "utf-8",
) -> Iterator[Chunk]:
    """Yield the rows of ``source`` in chunks of at most ``chunk_size``, every column as read.

    CSV/TSV cells stay strings exactly as written ("NA" is not turned into a null), and
    bytes that are not UTF-8 survive as surrogate escapes so ``text_problem`` can report
    them per row (and a writer using ``errors="surrogateescape"`` gives the bytes back).
    A malformed JSONL line becomes an empty row with its error; ``-`` reads JSONL from stdin.
    ``split`` picks the split of a saved ``DatasetDict`` or a hub data set; ``encoding``
    is that of CSV/TSV files (some public data sets are not UTF-8).
    """
    fmt = source_format(source)
    if fmt in ("csv", "tsv"):
        yield from _iter_delimited(source, chunk_size, sep="," if fmt == "csv" else "\t", encoding=encoding)
    elif fmt == "jsonl":
        yield from _iter_jsonl(source, chunk_size)
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        start = 0
        for batch in pq.ParquetFile(source).iter_batches(batch_size=chunk_size):
            frame = batch.to_pandas()
            yield Chunk(frame, [None] * len(frame), start)
            start += len(frame)
    else:
        dataset = _open_dataset(source, fmt, hub_config=hub_config, split=split)
        for start in range(0, len(dataset), chunk_size):
            frame = dataset.select(range(start, min(start + chunk_size, len(dataset)))).to_pandas()
            yield Chunk(frame, [None] * len(frame), start)


def _iter_delimited(source, chunk_size: int, sep: str, encoding: str) -> Iterator[Chunk]:
    start = 0
    try:
        reader = pd.read_csv(
            source,
            sep=sep,
            dtype=object,  # pandas' str dtype is Arrow-backed and rejects the surrogate escapes
            keep_default_na=False,
            chunksize=chunk_size,
            encoding=encoding,
            encoding_errors="surrogateescape",
        )
        for frame in reader:
            yield Chunk(frame.reset_index(drop=True), [None] * len(frame), start)
            start += len(frame)
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError as exc:
        raise DataError(f"{source}: cannot parse near row {start + 1}: {str(exc).strip()}") from None


def _iter_jsonl(source, chunk_size: int) -> Iterator[Chunk]:
    records: list[dict] = []
    errors: list[str | None] = []
    start = 0
    handle = sys.stdin.buffer if str(source) == STDIN else open(source, "rb")
    with handle:
        for line_number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue  # blank lines separate nothing in JSONL; they are not rows
            try:
                record = json.loads(raw.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError(f"expected a JSON object, got {type(record).__name__}")
                records.append(record)
                errors.append(None)
            except (ValueError, UnicodeDecodeError) as exc:
                records.append({})
                errors.append(f"line {line_number}: malformed JSON ({exc})")
            if len(records) == chunk_size:
                yield _jsonl_chunk(records, errors, start)
                start += len(records)
                records, errors = [], []
    if records:
        yield _jsonl_chunk(records, errors, start)


def _jsonl_chunk(records: list[dict], errors: list[str | None], start: int) -> Chunk:
    # object dtype keeps JSON's own values (an int with a missing neighbour stays an int), and
    # the explicit index keeps a row for every line even when none of them has a key
    frame = pd.DataFrame(records, index=range(len(records)), dtype=object)
    return Chunk(frame, errors, start, records=records)


def _open_dataset(source, fmt: str, *, hub_config: str | None, split: str | None) -> Dataset:
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


def read_frame(source: str | Path, **kwargs) -> pd.DataFrame:
    """All rows of ``source``; any row that cannot be read fails with its position."""
    frames = []
    for chunk in iter_chunks(source, **kwargs):
        for error in chunk.errors:
            if error:
                raise DataError(f"{source} {error}")
        frames.append(chunk.frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# a lone surrogate: an undecodable byte kept by iter_chunks (surrogateescape), or a
# JSON escape such as \ud800; tokenizers reject both
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: object) -> str | None:
    """Why ``value`` cannot be labeled as a text, or None when it can."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing text"
    if not isinstance(value, str):
        return f"text is not a string ({type(value).__name__})"
    if not value.strip():
        return "empty text"
    if _LONE_SURROGATE.search(value):
        return "text is not valid UTF-8"
    return None


def require_columns(frame: pd.DataFrame, columns: list[str], source: str | Path) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns)) or "none"
        raise DataError(f"{source}: missing column {', '.join(map(repr, missing))}; columns present: {present}")


# --------------------------------------------------------------------------- loading splits


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


def load_splits(
    cfg: Mapping, seed: int = 42, splits: tuple[str, ...] = SPLITS, keep_all_rows: bool = False
) -> DatasetDict:
    """Load the ``splits`` that a data config (``conf/data/*.yaml``) describes.

    Columns are mapped to ``text``, ``target`` and ``label`` (a ClassLabel over LABELS).
    When a config names only some split files, the missing splits are cut from the
    first named one with a split stratified by label and seeded by ``seed``.
    ``keep_all_rows`` keeps empty texts and duplicates, so that row i of the split is
    row i of the file (for scoring a predictions file line by line).
    """
    frames = _mixture_frames(cfg, seed, splits, keep_all_rows) if cfg.get("sources") else _source_frames(cfg, seed, splits, keep_all_rows)
    _check_overlap(frames, on_overlap=cfg.get("on_overlap", "error"))
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({"text": Value("string"), "target": Value("string"), "label": ClassLabel(names=list(LABELS))})
    result = DatasetDict()
    for split in splits:
        frame = frames[split]
        if frame.empty:
            raise DataError(f"split {split!r} is empty after loading {cfg.get(split) or cfg.get('train')}")
        result[split] = Dataset.from_pandas(frame[["text", "target", "label"]], features=features, preserve_index=False)
    return result


def _source_frames(cfg: Mapping, seed: int, splits: tuple[str, ...], keep_all_rows: bool) -> dict[str, pd.DataFrame]:
    frames = {split: _read_split(cfg, split, keep_all_rows) for split in SPLITS if cfg.get(split)}
    if not frames:
        raise DataError(f"data config {cfg.get('name', '')!r} names no split file (set data.train, data.dev or data.test)")
    if "train" in splits and "train" not in frames:
        raise DataError("training needs data.train")
    return _fill_missing_splits(frames, splits, cfg, seed)


def _mixture_frames(cfg: Mapping, seed: int, splits: tuple[str, ...], keep_all_rows: bool) -> dict[str, pd.DataFrame]:
    """Training data from several sources, each repeated or subsampled by its weight.

    Dev and test come from ``eval_source`` alone when it is set (so model selection and
    the reported score are those of the benchmark), else from every source together.
    """
    sources, eval_source = cfg["sources"], cfg.get("eval_source")
    if eval_source and eval_source not in sources:
        raise DataError(f"data.eval_source {eval_source!r} is not one of the sources: {', '.join(sources)}")
    weights = cfg.get("weights") or {}
    rng = np.random.default_rng(seed)
    frames: dict[str, list[pd.DataFrame]] = {split: [] for split in splits}
    for name, source_cfg in sources.items():
        wanted = splits if not eval_source or name == eval_source else tuple(s for s in splits if s == "train")
        if not wanted:
            continue
        loaded = _source_frames(source_cfg, seed, wanted, keep_all_rows)
        for split in wanted:
            frame = loaded[split]
            if split == "train":
                frame = _reweight(frame, float(weights.get(name, 1.0)), rng)
                log.info("mixture: %d training examples from %s (weight %s)", len(frame), name, weights.get(name, 1.0))
            frames[split].append(frame)
    return {split: pd.concat(parts, ignore_index=True) for split, parts in frames.items()}


def _reweight(frame: pd.DataFrame, weight: float, rng: np.random.Generator) -> pd.DataFrame:
    """Each example ``floor(weight)`` times, plus a random share for the fraction left."""
    whole, fraction = int(weight), weight - int(weight)
    extra = frame.iloc[rng.permutation(len(frame))[: round(fraction * len(frame))]]
    return pd.concat([frame] * whole + [extra], ignore_index=True)


def _read_split(cfg: Mapping, split: str, keep_all_rows: bool) -> pd.DataFrame:
    examples = _read_examples(cfg, split)
    report = SplitReport(rows_read=len(examples))
    extra_aliases = dict(cfg.get("label_map") or {})
    default_target = cfg.get("default_target")

    rows = []
    for text, target, label, where in examples.itertuples(index=False):
        problem = text_problem(text)
        if problem and not keep_all_rows:
            report.skipped_text[problem] = report.skipped_text.get(problem, 0) + 1
            continue
        if text_problem(target):
            if not default_target:
                raise DataError(f"{where}: no target and no data.default_target")
            target = default_target
        label = normalize_label(label, where=where, extra_aliases=extra_aliases)
        rows.append(("" if problem else text.strip(), str(target).strip(), label))

    frame = pd.DataFrame(rows, columns=["text", "target", "label"])
    if not keep_all_rows:
        before = len(frame)
        frame = frame.drop_duplicates(ignore_index=True)
        report.duplicates_dropped = before - len(frame)
    conflicts = frame.duplicated(["text", "target"]).sum()
    if conflicts:
        log.warning("%s %s: %d (text, target) pairs carry more than one label", cfg.get("name", ""), split, conflicts)
    report.log(f"{cfg.get('name', '')} {split}".strip())
    return frame


def _read_examples(cfg: Mapping, split: str) -> pd.DataFrame:
    """Raw (text, target, label, where) rows of one split, before any validation."""
    fmt = cfg.get("format") or "table"
    if fmt == "tweeteval":
        return _read_tweeteval(cfg, split)
    if fmt != "table":
        raise DataError(f"unknown data.format {fmt!r}; use table or tweeteval")
    source = str(Path(cfg["path"]) / cfg[split]) if cfg.get("path") else cfg[split]
    raw = read_frame(source, hub_config=cfg.get("hub_config"), split=split, encoding=cfg.get("encoding") or "utf-8")
    text_column = cfg.get("text_column", "text")
    # A wide table carries several (target, label) column pairs per text, e.g. RUW's
    # (Target 1, Stance 1), (Target 2, Stance 2): each pair is one example.
    pairs = [tuple(pair) for pair in cfg.get("target_label_columns") or []]
    if not pairs:
        pairs = [(cfg.get("target_column"), cfg.get("label_column", "label"))]
    require_columns(raw, [text_column] + [column for pair in pairs for column in pair if column], source)
    where = [f"{source} row {i + 1}" for i in range(len(raw))]
    parts = [
        pd.DataFrame({
            "text": raw[text_column],
            "target": raw[target_column] if target_column else None,
            "label": raw[label_column],
            "where": where,
        })
        for target_column, label_column in pairs
    ]
    return pd.concat(parts, ignore_index=True)


def _read_tweeteval(cfg: Mapping, split: str) -> pd.DataFrame:
    """TweetEval's stance layout: ``<path>/<target>/<split>_{text,labels}.txt``, aligned by line.

    ``path`` may instead be the hub data set ``cardiffnlp/tweet_eval`` (configs ``stance_<target>``).
    """
    root, split_name = str(cfg["path"]), cfg[split]
    parts = []
    for key, phrase in cfg["targets"].items():
        if Path(root).is_dir():
            folder = Path(root) / key
            text_file, label_file = folder / f"{split_name}_text.txt", folder / f"{split_name}_labels.txt"
            for file in (text_file, label_file):
                if not file.is_file():
                    raise DataError(f"no such file: {file} (set data.path to the tweeteval stance folder)")
            texts = text_file.read_text(encoding="utf-8").splitlines()
            labels = label_file.read_text(encoding="utf-8").splitlines()
            if len(texts) != len(labels):
                raise DataError(f"{folder}: {len(texts)} texts but {len(labels)} labels in split {split_name!r}")
            where = [f"{text_file} line {i + 1}" for i in range(len(texts))]
        else:
            hub = _open_dataset(root, "hub", hub_config=f"stance_{key}", split=split)
            texts, labels = hub["text"], [str(label) for label in hub["label"]]
            where = [f"{root}/stance_{key} {split} row {i + 1}" for i in range(len(texts))]
        parts.append(pd.DataFrame({"text": texts, "target": phrase, "label": labels, "where": where}))
    return pd.concat(parts, ignore_index=True)


def _fill_missing_splits(frames: dict, wanted: tuple[str, ...], cfg: Mapping, seed: int) -> dict:
    missing = [split for split in wanted if split not in frames]
    if not missing:
        return frames
    # cut the missing splits from the training file when there is one, else from what there is
    donor = "train" if "train" in frames else next(iter(frames))
    fractions = cfg.get("split_fractions") or {"dev": 0.1, "test": 0.1}
    pool = frames[donor]
    total = len(pool)
    for split in missing:
        # fractions are of the donor file as read, not of what is left of it
        pool, frames[split] = _stratified_cut(pool, fractions[split] * total / len(pool), seed, source=cfg.get(donor))
        log.info("split %r: %d rows cut from %s (stratified, seed %d)", split, len(frames[split]), cfg.get(donor), seed)
    frames[donor] = pool
    return frames


def _stratified_cut(frame: pd.DataFrame, share: float, seed: int, source) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into (rest, cut) with rows of the same text kept on one side."""
    from sklearn.model_selection import train_test_split

    keys = frame["text"].map(normalize_text)
    groups = frame.assign(key=keys).groupby("key", sort=False)["label"].first()
    try:
        rest_keys, cut_keys = train_test_split(
            groups.index.to_numpy(), test_size=share, random_state=seed, stratify=groups.to_numpy()
        )
    except ValueError as exc:
        raise DataError(f"{source}: cannot make a stratified split ({exc})") from None
    in_cut = keys.isin(set(cut_keys))
    return frame[~in_cut].reset_index(drop=True), frame[in_cut].reset_index(drop=True)


def normalize_text(text: str) -> str:
    """The form under which two texts count as the same for overlap checks."""
    return " ".join(text.lower().split())


def _check_overlap(frames: dict, on_overlap: str) -> None:
    if "train" not in frames or "test" not in frames:
        return
    shared = set(frames["train"]["text"].map(normalize_text)) & set(frames["test"]["text"].map(normalize_text))
    if not shared:
        return
    example = next(iter(shared))
    message = f"{len(shared)} texts occur in both train and test, e.g. {example[:80]!r}"
    if on_overlap == "warn":
        log.warning(message)
    else:
        raise DataError(message + " (set data.on_overlap=warn to only warn)")
