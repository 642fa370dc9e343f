"""Stance metrics as a local ``evaluate`` module, computed with scikit-learn.

``evaluate.load("f1")`` fetches its script from the hub; this module needs no network.
``f_avg`` is the SemEval-2016 / TweetEval bottom line: the mean of F1(supportive) and
F1(opposed), with ``reserved`` predicted but not scored.
"""

from __future__ import annotations

import datasets
import evaluate
import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from stance.labels import LABEL2ID, LABELS

_DESCRIPTION = "Accuracy, macro-F1 over (supportive, reserved, opposed), F_avg and per-class scores."
_KWARGS = """
Args:
    predictions: label ids (0 supportive, 1 reserved, 2 opposed).
    references: gold label ids, same order.
Returns:
    accuracy, macro_f1, f_avg, per_class {label: {precision, recall, f1, support}},
    confusion_matrix (rows gold, columns predicted, in LABELS order), n.
"""


class StanceMetrics(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Mohammad et al., SemEval-2016 Task 6: Detecting Stance in Tweets.",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int32"), "references": datasets.Value("int32")}),
        )

    def _compute(self, predictions, references) -> dict:
        ids = list(range(len(LABELS)))
        y_pred, y_true = np.asarray(predictions), np.asarray(references)
        precision, recall, f1, support = precision_recall_fscore_support(
            y_true, y_pred, labels=ids, zero_division=0
        )
        scored = [LABEL2ID["supportive"], LABEL2ID["opposed"]]
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=ids, average="macro", zero_division=0)),
            "f_avg": float(np.mean(f1[scored])),
            "per_class": {
                label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                for label, p, r, f, s in zip(LABELS, precision, recall, f1, support)
            },
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=ids).tolist(),
            "n": int(len(y_true)),
        }


def compute_metrics(predictions, references) -> dict:
    """Score label ids (or label names) against gold ones."""
    return StanceMetrics().compute(predictions=_ids(predictions), references=_ids(references))


def _ids(values) -> list[int]:
    return [LABEL2ID[v] if isinstance(v, str) else int(v) for v in values]
