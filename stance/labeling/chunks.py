"""Labeling one chunk of rows: a pure function from rows to the added columns.

Both engines (this process, or Ray actors) call it, so their outputs agree row for row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stance.errors import DataError
from stance.io.checks import require_columns, text_problem
from stance.io.formats import STDIN
from stance.io.readers import Chunk
from stance.labels import ERROR_COLUMN, LABEL_COLUMN, LABELS, PROBABILITY_COLUMNS

ADDED_COLUMNS = (LABEL_COLUMN, *PROBABILITY_COLUMNS, ERROR_COLUMN)
# Arrow type of each added column, for writers that need a schema before the first labeled chunk
ADDED_TYPES = {LABEL_COLUMN: "string", **dict.fromkeys(PROBABILITY_COLUMNS, "float64"), ERROR_COLUMN: "string"}
PROBA_DECIMALS = 4  # enough for any threshold; fewer digits keep files small and diffs stable


def check_columns(chunk: Chunk, text_column: str, target_column: str | None, source) -> None:
    """The first chunk has the columns a job needs and none of the ones it adds."""
    frame = chunk.frame
    if frame.columns.empty and chunk.errors and all(chunk.errors):  # random bytes, a CSV piped as JSONL
        name = "standard input" if str(source) == STDIN else source
        raise DataError(f"{name}: not JSONL: none of its first {len(chunk.errors)} lines is a JSON object ({chunk.errors[0]})")
    require_columns(frame.columns, [text_column] + ([target_column] if target_column else []), source)
    clashing = [column for column in ADDED_COLUMNS if column in frame.columns]
    if clashing:
        raise DataError(f"{source}: already has the output column(s) {', '.join(map(repr, clashing))}; rename them to keep them")


def label_chunk(classifier, chunk: Chunk, job: dict) -> pd.DataFrame:
    """The five added columns for the rows of ``chunk``."""
    texts, targets, errors = prepare_chunk(chunk, job, classifier.default_target)
    return label_rows(classifier, texts, targets, errors, job["batch_size"], index=chunk.frame.index)


def prepare_chunk(chunk: Chunk, job: dict, default_target: str | None) -> tuple[list, list, list]:
    """Each row's text, target and error; a row with an error (unreadable, no usable text, no
    target) has neither text nor target, so what is left is plain strings."""
    frame = chunk.frame
    text_column, target_column = job["text_column"], job["target_column"]
    n = len(frame)
    texts = frame[text_column].tolist() if text_column in frame.columns else [None] * n
    row_targets = frame[target_column].tolist() if target_column and target_column in frame.columns else [None] * n
    fallback = job["target"] or default_target

    errors = list(chunk.errors)
    targets: list[str | None] = [None] * n
    for i in range(n):
        if errors[i] is None:
            errors[i] = text_problem(texts[i])
        if errors[i] is None:
            targets[i] = row_targets[i] if text_problem(row_targets[i]) is None else fallback
            if not targets[i]:
                errors[i] = "empty target cell, and no --target or model default to fall back on"
    texts = [text if error is None else None for text, error in zip(texts, errors)]
    return texts, targets, errors


def label_rows(classifier, texts: list, targets: list, errors: list, batch_size: int, index=None) -> pd.DataFrame:
    """The five added columns for rows as ``prepare_chunk`` gives them."""
    n = len(texts)
    ok = [i for i in range(n) if errors[i] is None]
    proba = np.full((n, len(LABELS)), np.nan)
    if ok:
        proba[ok] = classifier.predict_proba([texts[i] for i in ok], [targets[i] for i in ok], batch_size=batch_size)
    stance = np.full(n, "", dtype=object)
    stance[ok] = np.asarray(LABELS, dtype=object)[proba[ok].argmax(axis=1)]
    added = {LABEL_COLUMN: stance}
    for column, values in zip(PROBABILITY_COLUMNS, proba.round(PROBA_DECIMALS).T):
        added[column] = values
    added[ERROR_COLUMN] = [error or "" for error in errors]
    return pd.DataFrame(added, index=index)


def tally(frame: pd.DataFrame, counts: dict) -> int:
    for label, count in frame[LABEL_COLUMN].value_counts().items():
        if label:
            counts[label] += int(count)
    return len(frame)
