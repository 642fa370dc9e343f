"""The three stance labels, defined once, in a fixed order, and the aliases accepted on load."""

from __future__ import annotations

import math

from stance.errors import StanceError

LABELS: tuple[str, ...] = ("supportive", "reserved", "opposed")
LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))
# the columns stance-label adds to a file: the label, its probabilities in LABELS order, the reason it is missing
LABEL_COLUMN = "stance"
PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"p_{label}" for label in LABELS)
ERROR_COLUMN = "stance_error"

ALIASES: dict[str, str] = {
    **{alias: "supportive" for alias in ("supportive", "favor", "favour", "pro", "support", "for")},
    **{alias: "opposed" for alias in ("opposed", "against", "con", "oppose")},
    **{alias: "reserved" for alias in ("reserved", "none", "neutral", "neither", "hesitant")},
}


class LabelError(StanceError):
    """A label value that none of the aliases maps to one of LABELS."""


def normalize_label(value: object, *, where: str = "", extra_aliases: dict | None = None) -> str:
    """Map ``value`` to one of LABELS (case-insensitive), or raise LabelError naming ``where``.

    ``extra_aliases`` lets a data config map data-set specific codes (e.g. ``0``/``1``/``2``)
    onto the canonical names before the built-in aliases are consulted.
    """
    key = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
    if extra_aliases:
        # config keys may arrive as ints (YAML `0: none`); the file's cells are strings
        key = str({str(k).lower(): v for k, v in extra_aliases.items()}.get(key.lower(), key))
    label = ALIASES.get(key.lower())
    if label is None:
        accepted = ", ".join(sorted(set(ALIASES) | set(extra_aliases or {})))
        prefix = f"{where}: " if where else ""
        raise LabelError(f"{prefix}unknown label {key!r}; accepted (case-insensitive): {accepted}")
    return label


def label_columns(id2label) -> list[int]:
    """Column of each of LABELS in a model's logits, from its ``id2label`` (a model may order them differently)."""
    try:
        model_labels = {normalize_label(name): int(i) for i, name in id2label.items()}
    except LabelError as exc:
        raise StanceError(f"model labels {dict(id2label)} do not map onto {LABELS}: {exc}") from None
    if set(model_labels) != set(LABELS):
        raise StanceError(f"model labels {dict(id2label)} do not cover {LABELS}")
    return [model_labels[label] for label in LABELS]
