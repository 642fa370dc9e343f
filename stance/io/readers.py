"""Chunked readers of table files: CSV, TSV, JSONL (or stdin) and Parquet. Cells come back as
read; nothing is dropped. Saved ``datasets`` directories and hub data sets are read by the
loader (stance.data.datasets_io), so labeling never imports ``datasets``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from stance.errors import DataError
from stance.io.formats import STDIN, source_format

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


def iter_chunks(
    source: str | Path,
    chunk_size: int = 10_000,
    *,
    encoding: str = "utf-8",
) -> Iterator[Chunk]:
    """Yield the rows of ``source`` in chunks of at most ``chunk_size``, every column as read.

    CSV/TSV cells stay strings exactly as written ("NA" is not turned into a null), and
    bytes that are not UTF-8 survive as surrogate escapes so ``text_problem`` can report
    them per row (and a writer using ``errors="surrogateescape"`` gives the bytes back).
    A malformed JSONL line becomes an empty row with its error; ``-`` reads JSONL from stdin.
    ``encoding`` is that of CSV/TSV files (some public data sets are not UTF-8).
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
        raise DataError(f"{source}: a {'saved datasets directory' if fmt == 'saved' else 'hub data set'} is read by the loader (stance.data), not streamed")


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


def read_frame(source: str | Path, **kwargs) -> pd.DataFrame:
    """All rows of ``source``; any row that cannot be read fails with its position."""
    frames = []
    for chunk in iter_chunks(source, **kwargs):
        for error in chunk.errors:
            if error:
                raise DataError(f"{source} {error}")
        frames.append(chunk.frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
