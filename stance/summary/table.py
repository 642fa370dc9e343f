"""Label counts, shares and mean probabilities per group of a labeled file, read a chunk at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stance.errors import DataError
from stance.io.checks import require_columns
from stance.io.readers import iter_chunks
from stance.labels import LABEL_COLUMN, LABELS, PROBABILITY_COLUMNS
PERIOD_COLUMN = "period"
MISSING_GROUP = "(missing)"
NO_DATE = "(no date)"
# --time COLUMN:UNIT -> pandas period frequency
TIME_UNITS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def parse_time(spec: str) -> tuple[str, str]:
    """``date:month`` -> ('date', 'month'); the unit defaults to month."""
    column, _, unit = spec.partition(":")
    unit = unit or "month"
    if not column or unit not in TIME_UNITS:
        raise DataError(f"--time {spec}: give COLUMN or COLUMN:UNIT with UNIT one of {', '.join(TIME_UNITS)}")
    return column, unit


def count_groups(source: str | Path, by: list[str], time: str | None = None, chunk_size: int = 50_000) -> pd.DataFrame:
    """Per group of ``by`` (and period of ``time``): n (labeled rows), n_<label>, sum_p_<label>, n_error.

    A row without a valid label (stance_error, or a line that could not be read) counts in n_error
    and nowhere else; an empty group value is its own group, MISSING_GROUP; an unreadable date its
    own period, NO_DATE. Nothing is dropped.
    """
    time_column, unit = parse_time(time) if time else (None, None)
    keys = [*by, *([PERIOD_COLUMN] if time_column else [])]
    parts = []
    for chunk in iter_chunks(source, chunk_size):
        frame = chunk.frame
        require_columns(frame.columns, [LABEL_COLUMN, *PROBABILITY_COLUMNS, *by, *([time_column] if time_column else [])], source)
        labels = frame[LABEL_COLUMN].where(frame[LABEL_COLUMN].isin(LABELS))
        labeled = labels.notna()
        part = pd.DataFrame({column: frame[column].map(_group_value) for column in by}, index=frame.index)
        if time_column:
            part[PERIOD_COLUMN] = _periods(frame[time_column], unit)
        part["n"] = labeled.astype(int)
        for label in LABELS:
            part[f"n_{label}"] = (labels == label).astype(int)
        for column in PROBABILITY_COLUMNS:
            part[f"sum_{column}"] = pd.to_numeric(frame[column], errors="coerce").where(labeled, 0.0).fillna(0.0)
        part["n_error"] = (~labeled).astype(int)
        parts.append(part.groupby(keys, sort=False).sum() if keys else part.sum().to_frame().T)
    if not parts:
        raise DataError(f"{source}: no rows to summarise")
    combined = pd.concat(parts)
    return combined.groupby(level=keys).sum().reset_index() if keys else combined.sum().to_frame().T


def summary_table(counts: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """``counts`` with the share of each label, the mean probabilities and ``few`` (n below ``min_n``)."""
    table = counts.copy()
    count_columns = ["n", *(f"n_{label}" for label in LABELS), "n_error"]
    table[count_columns] = table[count_columns].astype(int)  # a one-row total comes back as floats
    n = table["n"].where(table["n"] > 0)
    shares = {f"share_{label}": (table[f"n_{label}"] / n).round(4) for label in LABELS}
    means = {f"mean_{column}": (table.pop(f"sum_{column}") / n).round(4) for column in PROBABILITY_COLUMNS}
    n_error = table.pop("n_error")
    table = table.assign(**shares, **means, n_error=n_error, few=table["n"] < min_n)
    return table


def _group_value(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        return MISSING_GROUP
    return str(value)


def _periods(values: pd.Series, unit: str) -> pd.Series:
    stamps = pd.to_datetime(values.replace("", None), errors="coerce", utc=True, format="mixed")
    periods = stamps.dt.tz_localize(None).dt.to_period(TIME_UNITS[unit]).astype(str)
    return periods.where(stamps.notna(), NO_DATE)
