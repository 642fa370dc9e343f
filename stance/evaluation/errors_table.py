"""errors.csv: the misclassified statements, surest mistakes first: the list an annotator reviews first
(a confident mistake is as often a wrong gold label as a wrong model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stance.io.atomic import atomic_output
from stance.labels import PROBABILITY_COLUMNS


def error_table(texts, targets, gold, predicted, proba: np.ndarray | None = None) -> pd.DataFrame:
    """One row per mistake: row (1-based, in the split), target, text, gold, predicted and, given
    probabilities, confidence (of the predicted label) and p_<label>, sorted by confidence."""
    table = pd.DataFrame({"row": np.arange(1, len(gold) + 1), "target": list(targets), "text": list(texts),
                          "gold": list(gold), "predicted": list(predicted)})
    if proba is not None:
        table["confidence"] = proba.max(axis=1).round(4)
        for i, column in enumerate(PROBABILITY_COLUMNS):
            table[column] = proba[:, i].round(4)
    wrong = table[table["gold"] != table["predicted"]]
    if proba is not None:
        wrong = wrong.sort_values(["confidence", "row"], ascending=[False, True], kind="stable")
    return wrong.reset_index(drop=True)


def write_errors(path: str | Path, texts, targets, gold, predicted, proba: np.ndarray | None = None) -> Path:
    path = Path(path)
    with atomic_output(path, "w", newline="", encoding="utf-8") as handle:
        error_table(texts, targets, gold, predicted, proba).to_csv(handle, index=False)
    return path
