"""Per-row and per-table checks that every reader's caller shares."""

from __future__ import annotations

import math
import re
from pathlib import Path

from stance.errors import DataError

# a lone surrogate: an undecodable byte kept by the readers (surrogateescape), or a JSON
# escape such as \ud800; tokenizers reject both
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: object) -> str | None:
    """Why ``value`` cannot be labeled as a text, or None when it can."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing text"
    if not isinstance(value, str):
        return f"text is not a string ({type(value).__name__})"
    if not value.strip():
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
