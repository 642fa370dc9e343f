"""Batch labeling: stream a file through ``StanceClassifier`` and write it back with labels.

``label_file`` reads with the one loader (``stance.data.iter_chunks``), labels each chunk
and writes each finished chunk as a part file in a hidden folder beside the output. The
parts are joined into a temporary file that is renamed onto the output, so a crash never
leaves a partial file under the final name, and ``resume=True`` continues from the last
finished part with a final file byte-identical to an uninterrupted run.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stance.data import STDIN, Chunk, DataError, iter_chunks, require_columns, source_format, text_problem
from stance.errors import StanceError
from stance.labels import LABELS

log = logging.getLogger(__name__)

STDOUT = "-"  # as an output: JSONL written to standard output
PROBA_COLUMNS = tuple(f"p_{label}" for label in LABELS)
ADDED_COLUMNS = ("stance", *PROBA_COLUMNS, "stance_error")
WRITABLE = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
PROBA_DECIMALS = 4  # enough for any threshold; fewer digits keep files small and diffs stable
JOB_FILE = "job.json"


def default_output(input: str | Path) -> str:
    """``data.csv`` -> ``data.labeled.csv`` beside it; stdin -> stdout."""
    if str(input) == STDIN:
        return STDOUT
    path = Path(input)
    return str(path.with_name(f"{path.stem}.labeled{path.suffix}"))


def partial_dir(output: str | Path) -> Path:
    """Where an unfinished job keeps its finished chunks (hidden, beside the output)."""
    path = Path(output)
    return path.with_name(f".{path.name}.partial")


def label_file(
    model_dir: str | Path,
    input: str | Path,
    output: str | Path | None = None,
    *,
    text_column: str = "text",
    target_column: str | None = None,
    target: str | None = None,
    batch_size: int = 64,
    precision: str = "auto",
    device: str = "auto",
    chunk_size: int = 4096,
    resume: bool = False,
    quiet: bool = False,
) -> dict:
    """Label every row of ``input`` and write ``output`` (format by extension; ``-`` is JSONL stdio).

    The output holds every input column unchanged and in order, then ``stance``,
    ``p_supportive``, ``p_reserved``, ``p_opposed`` and ``stance_error``: one output row
    per input row, in order. A row that cannot be labeled (empty, null or undecodable
    text, a malformed JSONL line, no target) gets an empty label and the reason in
    ``stance_error``. A row's target is its ``target_column`` cell, else ``target``, else
    the model's default target.

    Returns a summary: ``rows`` written, of which ``resumed_rows`` came from an interrupted
    run; over the rest, ``labeled``, ``errors`` (rows with a ``stance_error``), ``counts``
    per label and ``rows_per_second``; then seconds, output, precision, device.
    """
    from stance.classifier import StanceClassifier

    started = time.perf_counter()
    output = str(output) if output is not None else default_output(input)
    out_format = _output_format(output)
    if resume and (str(input) == STDIN or output == STDOUT):
        raise StanceError("--resume needs a file as input and as output (a stream cannot be replayed)")
    if chunk_size < 1 or batch_size < 1:
        raise StanceError("chunk size and batch size must be at least 1")
    in_format = source_format(input)
    if in_format not in ("csv", "tsv", "jsonl", "parquet"):
        raise DataError(f"{input}: label a CSV, TSV, JSONL or Parquet file (or - for JSONL on stdin)")

    classifier = StanceClassifier.from_pretrained(model_dir, device=device, precision=precision)
    if not target_column and not target and not classifier.default_target:
        raise StanceError("this model has no default target: pass --target or --target-column")
    job = {
        "input": _fingerprint(input),
        "model": {"path": str(Path(model_dir).resolve()), "files": _model_files(model_dir)},
        "output_format": out_format,
        "text_column": text_column,
        "target_column": target_column,
        "target": target,
        "chunk_size": chunk_size,
        "batch_size": batch_size,
        "precision": classifier.precision,
        "device": str(classifier.device),
    }
    chunks = iter_chunks(input, chunk_size)
    first = next(chunks, None)
    if first is not None:
        # a wrong column fails here, before anything is written
        _check_columns(first.frame, text_column, target_column, input)
        chunks = itertools.chain([first], chunks)
    # Parquet to Parquet keeps the input's column types; otherwise they come from the first chunk
    writer = _ParquetWriter(input if in_format == "parquet" else None) if out_format == "parquet" else _WRITERS[out_format]()
    rows = resumed = 0
    counts = dict.fromkeys(LABELS, 0)
    progress = _progress(input, in_format, quiet)

    if output == STDOUT:
        sink = sys.stdout.buffer
        for index, chunk in enumerate(chunks):
            frame = _label_chunk(classifier, chunk, job)
            writer.write(frame, chunk, sink, first=index == 0)
            sink.flush()
            rows += _tally(frame, counts)
            progress.update(len(frame))
    else:
        parts = _prepare_parts(output, job, resume)
        done = _finished_parts(parts)
        for index, chunk in enumerate(chunks):
            writer.observe(chunk)  # columns (and a Parquet schema) come from the first chunk, finished or not
            if index < done:
                resumed += len(chunk.frame)
                progress.update(len(chunk.frame))
                continue
            frame = _label_chunk(classifier, chunk, job)
            _write_part(parts / _part_name(index), lambda handle: writer.write(frame, chunk, handle, first=index == 0))
            rows += _tally(frame, counts)
            progress.update(len(frame))
        _join(writer, parts, output)
    progress.close()

    seconds = time.perf_counter() - started
    labeled = sum(counts.values())
    return {
        "rows": rows + resumed,
        "labeled": labeled,
        "errors": rows - labeled,
        "counts": counts,
        "resumed_rows": resumed,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1) if seconds else 0.0,
        "output": output,
        "precision": classifier.precision,
        "device": str(classifier.device),
    }


# --------------------------------------------------------------------------- labeling


def _check_columns(frame: pd.DataFrame, text_column: str, target_column: str | None, source) -> None:
    require_columns(frame, [text_column] + ([target_column] if target_column else []), source)
    clashing = [column for column in ADDED_COLUMNS if column in frame.columns]
    if clashing:
        raise DataError(f"{source}: already has the output column(s) {', '.join(map(repr, clashing))}; rename them to keep them")


def _label_chunk(classifier, chunk: Chunk, job: dict) -> pd.DataFrame:
    """The five added columns for the rows of ``chunk``."""
    frame = chunk.frame
    text_column, target_column = job["text_column"], job["target_column"]
    n = len(frame)
    texts = frame[text_column].tolist() if text_column in frame.columns else [None] * n
    row_targets = frame[target_column].tolist() if target_column and target_column in frame.columns else [None] * n
    fallback = job["target"] or classifier.default_target

    errors = list(chunk.errors)
    targets: list[str | None] = [None] * n
    for i in range(n):
        if errors[i] is None:
            errors[i] = text_problem(texts[i])
        if errors[i] is None:
            targets[i] = row_targets[i] if text_problem(row_targets[i]) is None else fallback
            if not targets[i]:
                errors[i] = "empty target cell, and no --target or model default to fall back on"
    ok = [i for i in range(n) if errors[i] is None]

    proba = np.full((n, len(LABELS)), np.nan)
    if ok:
        proba[ok] = classifier.predict_proba([texts[i] for i in ok], [targets[i] for i in ok], batch_size=job["batch_size"])
    stance = np.full(n, "", dtype=object)
    stance[ok] = np.asarray(LABELS, dtype=object)[proba[ok].argmax(axis=1)]
    added = {"stance": stance}
    for column, values in zip(PROBA_COLUMNS, proba.round(PROBA_DECIMALS).T):
        added[column] = values
    added["stance_error"] = [error or "" for error in errors]
    return pd.DataFrame(added, index=frame.index)


def _tally(frame: pd.DataFrame, counts: dict) -> int:
    for label, count in frame["stance"].value_counts().items():
        if label:
            counts[label] += int(count)
    return len(frame)


# --------------------------------------------------------------------------- writers


def _output_format(output: str) -> str:
    if output == STDOUT:
        return "jsonl"
    suffix = Path(output).suffix.lower()
    if suffix not in WRITABLE:
        raise StanceError(f"{output}: cannot tell the output format from {suffix or 'no extension'!r}; use one of {', '.join(WRITABLE)}")
    return WRITABLE[suffix]


class _DelimitedWriter:
    """CSV (or TSV): columns fixed by the first chunk; a later JSONL chunk may miss keys, not add any."""

    sep = ","

    def __init__(self):
        self.columns: list | None = None

    def observe(self, chunk: Chunk) -> None:
        if self.columns is None:
            self.columns = list(chunk.frame.columns)

    def _aligned(self, frame: pd.DataFrame, chunk: Chunk) -> pd.DataFrame:
        self.observe(chunk)
        extra = [column for column in chunk.frame.columns if column not in self.columns]
        if extra:
            raise DataError(
                f"rows from {chunk.start + 1} add column {extra[0]!r}, absent from the first rows; "
                "write JSONL to keep each line's own keys"
            )
        return pd.concat([chunk.frame.reindex(columns=self.columns), frame], axis=1)

    def write(self, frame: pd.DataFrame, chunk: Chunk, handle, first: bool) -> None:
        table = self._aligned(frame, chunk)
        # surrogateescape writes undecodable input bytes back exactly as they were read
        text = table.to_csv(index=False, header=first, sep=self.sep, lineterminator="\n")
        try:
            handle.write(text.encode("utf-8", errors="surrogateescape"))
        except UnicodeEncodeError:  # a lone surrogate that stands for no byte (a JSON \ud800 escape)
            handle.write(_NOT_A_BYTE.sub("\ufffd", text).encode("utf-8", errors="surrogateescape"))

    def join(self, parts: list[Path], handle) -> None:
        for part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, handle)


class _TsvWriter(_DelimitedWriter):
    sep = "\t"


class _JsonlWriter(_DelimitedWriter):
    """Each JSONL line keeps its own keys and values; other inputs give one object per row."""

    def write(self, frame: pd.DataFrame, chunk: Chunk, handle, first: bool) -> None:
        records = chunk.records if chunk.records is not None else chunk.frame.to_dict("records")
        added = frame.to_dict("records")
        lines = [json.dumps(_jsonable({**record, **extra}), ensure_ascii=False) + "\n" for record, extra in zip(records, added)]
        # a lone surrogate (an undecodable CSV byte, a "\ud800" escape in the input) can only sit
        # inside a JSON string, so backslashreplace writes it as a \u escape: every line stays JSON
        handle.write("".join(lines).encode("utf-8", errors="backslashreplace"))


class _ParquetWriter(_DelimitedWriter):
    """One file per chunk, joined as one row group per chunk; the input's schema (or the first chunk's)."""

    def __init__(self, parquet_source: str | Path | None):
        super().__init__()
        self.parquet_source = parquet_source
        self.schema = None

    def observe(self, chunk: Chunk) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.columns is not None:
            return
        super().observe(chunk)
        if self.parquet_source is not None:
            base = pq.read_schema(self.parquet_source)
        else:
            base = pa.Schema.from_pandas(_valid_utf8(chunk.frame), preserve_index=False)
        added = [pa.field("stance", pa.string()), *(pa.field(c, pa.float64()) for c in PROBA_COLUMNS)]
        self.schema = pa.schema([*base.remove_metadata(), *added, pa.field("stance_error", pa.string())])

    def write(self, frame: pd.DataFrame, chunk: Chunk, handle, first: bool) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pa.Table.from_pandas(_valid_utf8(self._aligned(frame, chunk)), schema=self.schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise DataError(f"rows from {chunk.start + 1} do not fit the Parquet schema of the first rows ({exc}); write JSONL") from None
        pq.write_table(table.replace_schema_metadata(None), handle)

    def join(self, parts: list[Path], handle) -> None:
        import pyarrow.parquet as pq

        if self.schema is None:
            raise DataError("the input has no columns and no rows: nothing to write as Parquet")
        with pq.ParquetWriter(handle, self.schema) as writer:
            for part in parts:
                writer.write_table(pq.read_table(part, schema=self.schema))


_WRITERS = {"csv": _DelimitedWriter, "tsv": _TsvWriter, "jsonl": _JsonlWriter}


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_A_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # surrogates other than surrogateescape's


def _valid_utf8(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet strings must be UTF-8: undecodable input bytes become U+FFFD (stance_error names the row)."""

    def fix(value):
        return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

    objects = [column for column in frame.columns if frame[column].dtype == object]
    return frame.assign(**{column: frame[column].map(fix) for column in objects}) if objects else frame


def _jsonable(record: dict) -> dict:
    """Values as JSON has them: NaN and NaT become null, numpy and pandas scalars plain values."""
    out = {}
    for key, value in record.items():
        if isinstance(value, float) and math.isnan(value):
            value = None
        elif isinstance(value, np.generic):
            value = None if isinstance(value, np.floating) and np.isnan(value) else value.item()
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, pd.Timestamp):
            value = value.isoformat()
        elif value is pd.NaT or value is pd.NA:
            value = None
        out[str(key)] = value
    return out


# --------------------------------------------------------------------------- parts, resume, atomic join


def _fingerprint(source: str | Path) -> dict:
    if str(source) == STDIN:
        return {"path": STDIN}
    stat = os.stat(source)
    return {"path": str(Path(source).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _model_files(model_dir) -> dict:
    """Size and time of each file of the model: a model retrained in place is a different job."""
    return {f.name: [f.stat().st_size, f.stat().st_mtime_ns] for f in sorted(Path(model_dir).iterdir()) if f.is_file()}


def _prepare_parts(output: str, job: dict, resume: bool) -> Path:
    parts = partial_dir(output)
    job_file = parts / JOB_FILE
    if resume and job_file.is_file():
        previous = json.loads(job_file.read_text())
        changed = [key for key in job if previous.get(key) != job[key]]
        if changed:
            raise StanceError(
                f"cannot resume {output}: {', '.join(changed)} differ from the interrupted run; run without --resume to start over"
            )
        return parts
    if parts.exists():
        log.warning("starting over: discarding the unfinished run in %s%s", parts, "" if resume else " (--resume continues it)")
        shutil.rmtree(parts)
    elif resume:
        log.warning("nothing to resume for %s: starting from the first row", output)
    parts.mkdir(parents=True)
    _write_part(job_file, lambda handle: handle.write(json.dumps(job, indent=2).encode()))
    return parts


def _part_name(index: int) -> str:
    return f"{index:08d}.part"


def _finished_parts(parts: Path) -> int:
    """How many chunks, from the first, have a complete part (parts appear only whole)."""
    done = 0
    while (parts / _part_name(done)).is_file():
        done += 1
    return done


def _write_part(path: Path, write) -> None:
    """Write through a temporary name and rename: a part exists whole or not at all."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _join(writer, parts: Path, output: str) -> None:
    pieces = [parts / _part_name(i) for i in range(_finished_parts(parts))]
    joined = parts / "joined.tmp"
    with open(joined, "wb") as handle:
        writer.join(pieces, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(joined, output)  # same folder, so the rename is atomic
    shutil.rmtree(parts)


# --------------------------------------------------------------------------- progress


def _progress(input, in_format: str, quiet: bool):
    """A rows/s bar on an interactive terminal; nothing with quiet or when stderr is redirected."""
    from tqdm.auto import tqdm

    total = None
    if in_format == "parquet":
        import pyarrow.parquet as pq

        total = pq.ParquetFile(input).metadata.num_rows
    disable = quiet or not sys.stderr.isatty()
    return tqdm(total=total, unit=" rows", unit_scale=True, disable=disable, desc="labeling", smoothing=0.1)
