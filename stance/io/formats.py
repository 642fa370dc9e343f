"""The one table of file formats, by suffix, shared by reading, labeling and scoring."""

from __future__ import annotations

import re
from pathlib import Path

from stance.errors import DataError, StanceError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
STDIN = "-"  # as a source: JSONL read from standard input
STDOUT = "-"  # as an output: JSONL written to standard output


def table_format(path: str | Path) -> str | None:
    """'csv' | 'tsv' | 'jsonl' | 'parquet' by suffix, or None for any other name."""
    return FORMATS.get(Path(path).suffix.lower())


def source_format(source: str | Path) -> str:
    """A table format, 'saved' (a datasets directory) or 'hub'; ``-`` is JSONL on stdin."""
    if str(source) == STDIN:
        return "jsonl"
    path = Path(source)
    if path.is_dir():
        return "saved"
    fmt = table_format(path)
    if fmt:
        if not path.exists():
            raise DataError(f"no such file: {source}")
        return fmt
    if path.exists():
        raise DataError(f"{source}: unsupported file type {path.suffix.lower()!r}; use one of {', '.join(FORMATS)}")
    if re.fullmatch(r"[\w.-]+/[\w.-]+", str(source)):
        return "hub"
    raise DataError(f"no such file or directory: {source}")


def output_format(output: str | Path) -> str:
    if str(output) == STDOUT:
        return "jsonl"
    fmt = table_format(output)
    if fmt is None:
        suffix = Path(output).suffix.lower()
        raise StanceError(f"{output}: cannot tell the output format from {suffix or 'no extension'!r}; use one of {', '.join(FORMATS)}")
    return fmt
