"""Writers of labeled chunks, one per output format, and the join of finished parts into one file.

Every writer gives each input row back as it came (CSV cells as the strings they were, JSONL
lines with their own keys and value types, Parquet with its column types), then the added columns.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from stance.errors import DataError
from stance.io.checks import LONE_SURROGATE
from stance.io.readers import Chunk


def make_writer(fmt: str, added: dict[str, str], parquet_source: str | Path | None = None):
    """A writer for ``fmt``; Parquet to Parquet keeps the input's column types (``parquet_source``)."""
    return ParquetWriter(added, parquet_source) if fmt == "parquet" else WRITERS[fmt]()


class DelimitedWriter:
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


class TsvWriter(DelimitedWriter):
    sep = "\t"


class JsonlWriter(DelimitedWriter):
    """Each JSONL line keeps its own keys and values; other inputs give one object per row."""

    def write(self, frame: pd.DataFrame, chunk: Chunk, handle, first: bool) -> None:
        records = chunk.records if chunk.records is not None else chunk.frame.to_dict("records")
        added = frame.to_dict("records")
        lines = [json.dumps(_jsonable({**record, **extra}), ensure_ascii=False) + "\n" for record, extra in zip(records, added)]
        # a lone surrogate (an undecodable CSV byte, a "\ud800" escape in the input) can only sit
        # inside a JSON string, so backslashreplace writes it as a \u escape: every line stays JSON
        handle.write("".join(lines).encode("utf-8", errors="backslashreplace"))


class ParquetWriter(DelimitedWriter):
    """One file per chunk, joined as one row group per chunk; the input's schema (or the first chunk's)."""

    def __init__(self, added: dict[str, str], parquet_source: str | Path | None):
        super().__init__()
        self.added = added  # the columns appended to the input's, with their Arrow types
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
        added = [pa.field(name, pa.type_for_alias(kind)) for name, kind in self.added.items()]
        self.schema = pa.schema([*base.remove_metadata(), *added])

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


WRITERS = {"csv": DelimitedWriter, "tsv": TsvWriter, "jsonl": JsonlWriter}


_NOT_A_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # surrogates other than surrogateescape's


def _valid_utf8(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet strings must be UTF-8: undecodable input bytes become U+FFFD (stance_error names the row)."""

    def fix(value):
        return LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

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
