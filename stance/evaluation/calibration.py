"""Temperature scaling (Guo et al., 2017) fitted on dev, and how calibrated probabilities are.

A fine-tuned transformer is over-confident; one scalar T > 0 that divides its log-probabilities,
chosen to minimise the negative log-likelihood of dev, fixes most of it without moving any
label. Expected calibration error (ECE): the share-weighted gap between accuracy and mean
confidence over equal-width confidence bins.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from stance.inference.predictors import scale_temperature

ECE_BINS = 15  # as in Guo et al.
# fp32 probabilities of 0 (underflow) would give an infinite loss
_TINY = float(np.finfo(np.float32).tiny)


def fit_temperature(proba: np.ndarray, labels) -> float:
    """The T that minimises the dev NLL of softmax(log p / T), searched over log T in [-3, 3] (T in 0.05 to 20)."""
    labels = np.asarray(labels)
    log_p = np.log(np.clip(proba, _TINY, None)).astype(np.float64)

    def nll(log_t: float) -> float:
        return float(-log_softmax(log_p / np.exp(log_t), axis=1)[np.arange(len(labels)), labels].mean())

    result = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded", options={"xatol": 1e-5})
    return float(np.exp(result.x))


def negative_log_likelihood(proba: np.ndarray, labels) -> float:
    labels = np.asarray(labels)
    return float(-np.log(np.clip(proba[np.arange(len(labels)), labels], _TINY, None)).mean())


def reliability_bins(proba: np.ndarray, labels, bins: int = ECE_BINS) -> list[dict]:
    """Per equal-width bin of confidence (the top probability): count, mean confidence, accuracy."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(labels)
    # bin i holds confidences in (i/bins, (i+1)/bins]
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    rows = []
    for i in range(bins):
        members = index == i
        count = int(members.sum())
        rows.append({
            "low": i / bins,
            "high": (i + 1) / bins,
            "count": count,
            "confidence": float(confidence[members].mean()) if count else None,
            "accuracy": float(correct[members].mean()) if count else None,
        })
    return rows


def expected_calibration_error(proba: np.ndarray, labels, bins: int = ECE_BINS) -> float:
    n = len(proba)
    return float(sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in reliability_bins(proba, labels, bins) if b["count"]))


def calibration_scores(proba: np.ndarray, labels, temperature: float | None = None) -> dict:
    """ECE and NLL of ``proba``; with a temperature, of the raw (before) and the scaled (after) probabilities."""
    if temperature is None:
        return {"ece": expected_calibration_error(proba, labels), "nll": negative_log_likelihood(proba, labels), "ece_bins": ECE_BINS}
    scaled = scale_temperature(proba, temperature)
    return {
        "temperature": temperature,
        "ece_before": expected_calibration_error(proba, labels),
        "ece_after": expected_calibration_error(scaled, labels),
        "nll_before": negative_log_likelihood(proba, labels),
        "nll_after": negative_log_likelihood(scaled, labels),
        "ece_bins": ECE_BINS,
    }
