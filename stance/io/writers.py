"""Writers of labeled chunks, one per output format, and the join of finished parts into one file.

Every writer gives each input row back as it came (CSV cells as the strings they were, JSONL
lines with their own keys and value types, Parquet with its column types), then the added
columns. A value that the output format has no type for is written the one way every writer
shares (``cell_text``, ``jsonable``): dates and times in ISO 8601, decimals as strings, bytes
in base64, nested values as JSON, so that any input format converts into any output format.
"""

from __future__ import annotations

import base64
import datetime
import decimal
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


def jsonable(value):
    """``value`` as JSON has it: NaN and NaT null, numpy and pandas scalars plain, the rest as ``cell_text`` says."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(item) for item in value]
    return _scalar_text(value)


def cell_text(value) -> str | None:
    """``value`` as one cell of a CSV/TSV file; None for a missing value (an empty cell)."""
    if isinstance(value, str):
        return value
    value = jsonable(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"  # JSON's spelling, as a JSONL input had it
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _scalar_text(value) -> str:
    if isinstance(value, (pd.Timestamp, datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (pd.Timedelta, datetime.timedelta, np.timedelta64)):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)  # a string keeps every digit; a JSON number would pass through a float
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


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
        table = _as_text(self._aligned(frame, chunk), len(self.columns))
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


def _as_text(table: pd.DataFrame, n_input: int) -> pd.DataFrame:
    """The input columns as cells of text (numbers stay numbers: pandas writes them as read)."""
    converted = {}
    for position in range(n_input):
        series = table.iloc[:, position]
        if series.dtype == object:
            if all(type(value) is str for value in series):  # CSV input: nothing to do
                continue
        elif pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            continue
        converted[position] = [cell_text(value) for value in series]
    if not converted:
        return table
    table = table.copy()
    for position, values in converted.items():
        table.isetitem(position, pd.Series(values, index=table.index, dtype=object))
    return table


class TsvWriter(DelimitedWriter):
    sep = "\t"


class JsonlWriter(DelimitedWriter):
    """Each JSONL line keeps its own keys and values; other inputs give one object per row."""

    def write(self, frame: pd.DataFrame, chunk: Chunk, handle, first: bool) -> None:
        records = chunk.records if chunk.records is not None else chunk.frame.to_dict("records")
        added = frame.to_dict("records")
        lines = [json.dumps(jsonable({**record, **extra}), ensure_ascii=False) + "\n" for record, extra in zip(records, added)]
        # a lone surrogate (an undecodable CSV byte, a "\ud800" escape in the input) can only sit
        # inside a JSON string, so backslashreplace writes it as a \u escape: every line stays JSON
        handle.write("".join(lines).encode("utf-8", errors="backslashreplace"))


class ParquetWriter(DelimitedWriter):
    """One file per chunk, joined as one row group per chunk.

    The schema is the input's (Parquet to Parquet) or else the first chunk's: a column whose
    values have one Arrow type keeps it, a column of mixed values (JSONL's 1 and "two")
    becomes a string column with ``cell_text`` of each value.
    """

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
            base = list(pq.read_schema(self.parquet_source).remove_metadata())
        else:
            base = [pa.field(str(name), _column_type(chunk.frame[name])) for name in self.columns]
        added = [pa.field(name, pa.type_for_alias(kind)) for name, kind in self.added.items()]
        self.schema = pa.schema([*base, *added])

    def write(self, frame: pd.DataFrame, chunk: Chunk, handle, first: bool) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = self._aligned(frame, chunk)
        arrays = []
        for position, field in enumerate(self.schema):
            series = table.iloc[:, position]
            try:
                arrays.append(_array(series, field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                raise DataError(
                    f"rows from {chunk.start + 1}: column {field.name!r} does not fit the Parquet type {field.type} "
                    f"that the first rows gave it ({exc}); write JSONL, or put such a row first"
                ) from None
        pq.write_table(pa.Table.from_arrays(arrays, schema=self.schema), handle)

    def join(self, parts: list[Path], handle) -> None:
        import pyarrow.parquet as pq

        if self.schema is None:
            raise DataError("the input has no columns and no rows: nothing to write as Parquet")
        with pq.ParquetWriter(handle, self.schema) as writer:
            for part in parts:
                writer.write_table(pq.read_table(part, schema=self.schema))


def _column_type(series: pd.Series):
    """The Arrow type of a column's values, or string where they have none in common."""
    import pyarrow as pa

    try:
        inferred = pa.array(series, from_pandas=True).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.string()
    return inferred if _parquet_can_hold(inferred) else pa.string()


def _parquet_can_hold(kind) -> bool:
    """False for the types that Parquet cannot write: null (a column of only nulls) and a struct without fields."""
    import pyarrow as pa

    if pa.types.is_null(kind) or (pa.types.is_struct(kind) and kind.num_fields == 0):
        return False
    if pa.types.is_struct(kind):
        return all(_parquet_can_hold(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _parquet_can_hold(kind.value_type) or pa.types.is_null(kind.value_type)
    return True


def _array(series: pd.Series, kind):
    import pyarrow as pa

    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        # any value fits a string column as its text; Parquet strings must be UTF-8, so an
        # undecodable input byte becomes U+FFFD (stance_error names the row)
        values = [None if (text := cell_text(value)) is None else LONE_SURROGATE.sub("\ufffd", text) for value in series]
        return pa.array(values, type=kind)
    return pa.array(series, type=kind, from_pandas=True)


WRITERS = {"csv": DelimitedWriter, "tsv": TsvWriter, "jsonl": JsonlWriter}


_NOT_A_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # surrogates other than surrogateescape's
