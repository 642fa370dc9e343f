"""Chunked readers of table files: CSV, TSV, JSONL (or stdin) and Parquet. Cells come back as
read; nothing is dropped, shifted or renamed. Saved ``datasets`` directories and hub data sets
are read by the loader (stance.data.datasets_io), so labeling never imports ``datasets``.
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from stance.errors import DataError
from stance.io.checks import check_header
from stance.io.formats import STDIN, source_format

csv.field_size_limit(2**31 - 1)  # no cap on a cell's length (the csv module's default is 128 KiB)


@dataclass
class Chunk:
    """Consecutive rows of a source, read as strings, with a per-row read error (or None)."""

    frame: pd.DataFrame
    errors: list[str | None]
    start: int  # 0-based index of the chunk's first row in the source
    # JSONL only: each line's object as parsed ({} for a malformed line), so a writer can
    # give every line back with its own keys and value types rather than the frame's union
    records: list[dict] | None = None
    # bytes of the source read so far (None where unknown): the progress bar's estimate of the rows to come
    bytes_read: int | None = None

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
    A row that cannot be read keeps its place with its error in ``Chunk.errors``: a
    malformed JSONL line, a CSV row with more fields than the header (its cells are never
    shifted into other columns). ``-`` reads JSONL from stdin. ``encoding`` is that of
    CSV/TSV files (some public data sets are not UTF-8).
    """
    fmt = source_format(source)
    if fmt in ("csv", "tsv"):
        yield from _iter_delimited(source, chunk_size, sep="," if fmt == "csv" else "\t", encoding=encoding)
    elif fmt == "jsonl":
        yield from _iter_jsonl(source, chunk_size)
    elif fmt == "parquet":
        yield from _iter_parquet(source, chunk_size)
    else:
        raise DataError(f"{source}: a {'saved datasets directory' if fmt == 'saved' else 'hub data set'} is read by the loader (stance.data), not streamed")


def _iter_delimited(source, chunk_size: int, sep: str, encoding: str) -> Iterator[Chunk]:
    # utf-8-sig: a byte-order mark (Excel writes one) is not part of the first column's name
    text_encoding = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    with open(source, encoding=text_encoding, errors="surrogateescape", newline="") as handle:
        # strict: an unclosed quote must fail, not swallow the rest of the file into one cell
        reader = csv.reader(handle, delimiter=sep, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise DataError(f"{source}: line 1, the header: {exc}") from None
        if header is None:
            return
        columns = pd.Index(check_header(header, source), dtype=object)  # object: Arrow strings reject surrogate escapes
        width = len(columns)
        rows: list[list] = []
        errors: list[str | None] = []
        start = 0
        line = reader.line_num
        while True:
            first_line = line + 1
            try:
                record = next(reader, None)
            except csv.Error as exc:
                if "end of data" in str(exc):
                    raise DataError(f"{source}: the quoted cell that opens on line {first_line} is never closed") from None
                record, error = [None] * width, f"line {first_line}: {exc} (a quoted cell ends at its closing quote)"
            else:
                if record is None:
                    break
                error = None
                if not record:
                    line = reader.line_num
                    continue  # a blank line is no row
                if len(record) > width:
                    error = f"line {first_line}: {len(record)} fields where the header has {width} (quote cells that contain {sep!r})"
                    record = record[:width]
                elif len(record) < width:
                    record += [None] * (width - len(record))
            line = reader.line_num
            rows.append(record)
            errors.append(error)
            if len(rows) == chunk_size:
                yield Chunk(_frame(rows, columns), errors, start, bytes_read=handle.buffer.tell())
                start += len(rows)
                rows, errors = [], []
        if rows or start == 0:  # a header without rows is still a table: its columns are written back
            yield Chunk(_frame(rows, columns), errors, start, bytes_read=handle.buffer.tell())


def _frame(rows: list[list], columns: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns, index=range(len(rows)), dtype=object)


def _iter_jsonl(source, chunk_size: int) -> Iterator[Chunk]:
    records: list[dict] = []
    errors: list[str | None] = []
    start = 0
    stdin = str(source) == STDIN
    handle = sys.stdin.buffer if stdin else open(source, "rb")
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
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                records.append({})
                errors.append(f"line {line_number}: malformed JSON ({exc})")
            if len(records) == chunk_size:
                yield _jsonl_chunk(records, errors, start, None if stdin else handle.tell())
                start += len(records)
                records, errors = [], []
    if records:
        yield _jsonl_chunk(records, errors, start, None)


def _jsonl_chunk(records: list[dict], errors: list[str | None], start: int, bytes_read: int | None) -> Chunk:
    # object dtype keeps JSON's own values (an int with a missing neighbour stays an int), and
    # the explicit index keeps a row for every line even when none of them has a key
    frame = pd.DataFrame(records, index=range(len(records)), columns=_keys(records), dtype=object)
    return Chunk(frame, errors, start, records=records, bytes_read=bytes_read)


def _keys(records: list[dict]) -> pd.Index:
    """Every key, in order of first appearance (object dtype: a key may hold a lone surrogate)."""
    return pd.Index(list(dict.fromkeys(key for record in records for key in record)), dtype=object)


def _iter_parquet(source, chunk_size: int) -> Iterator[Chunk]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{source}: not a readable Parquet file ({str(exc).strip().splitlines()[0]})") from None
    check_header(parquet.schema_arrow.names, source)
    start = 0
    batches = parquet.iter_batches(batch_size=chunk_size)
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as exc:  # a file cut short or damaged after its footer was read
            raise DataError(f"{source}: cannot read past row {start} ({str(exc).strip().splitlines()[0]})") from None
        if batch is None:
            break
        frame = _parquet_frame(batch)
        yield Chunk(frame, [None] * len(frame), start)
        start += len(frame)
    if start == 0:  # no rows: the columns still make a table to write back
        frame = parquet.schema_arrow.empty_table().to_pandas()
        yield Chunk(frame, [], 0)


def _parquet_frame(batch) -> pd.DataFrame:
    """A record batch as a frame; nested values as Python's own (pandas would turn an int inside a struct that has a null into a float)."""
    import pyarrow as pa

    frame = batch.to_pandas()
    for position, field in enumerate(batch.schema):
        if pa.types.is_nested(field.type):
            frame.isetitem(position, pd.Series(batch.column(position).to_pylist(), index=frame.index, dtype=object))
    return frame


def read_frame(source: str | Path, **kwargs) -> pd.DataFrame:
    """All rows of ``source``; any row that cannot be read fails with its position."""
    frames = []
    for chunk in iter_chunks(source, **kwargs):
        for error in chunk.errors:
            if error:
                raise DataError(f"{source} {error}")
        frames.append(chunk.frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
