"""Per-row and per-table checks that every reader's caller shares."""

from __future__ import annotations

import math
import re
from pathlib import Path

from stance.errors import DataError

# a lone surrogate: an undecodable byte kept by the readers (surrogateescape), or a JSON
# escape such as \ud800; tokenizers reject both
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# nothing a reader can see: whitespace, NUL and the other control characters
BLANK = re.compile("[\\s\x00-\x1f\x7f]*")


def text_problem(value: object) -> str | None:
    """Why ``value`` cannot be labeled as a text, or None when it can."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing text"
    if not isinstance(value, str):
        return f"text is not a string ({type(value).__name__})"
    if BLANK.fullmatch(value):
        return "empty text"
    if LONE_SURROGATE.search(value):
        return "text is not valid UTF-8"
    return None


def require_columns(columns, wanted: list[str], source: str | Path) -> None:
    """Fail naming the missing columns and the ones present."""
    missing = [column for column in wanted if column not in columns]
    if missing:
        present = ", ".join(map(str, columns)) or "none"
        raise DataError(f"{source}: missing column {', '.join(map(repr, missing))}; columns present: {present}")


def check_header(names, source: str | Path) -> list[str]:
    """The column names of a table, refused when two are the same or when they are not text."""
    names = list(names)
    for name in names:
        if LONE_SURROGATE.search(name) or "\x00" in name:
            raise DataError(f"{source}: the header (line 1) is not UTF-8 text; is it a binary file, or in another encoding?")
    seen = set()
    for name in names:
        if name in seen:
            raise DataError(f"{source}: the header names column {name!r} twice; rename one, so that neither is lost")
        seen.add(name)
    return names
