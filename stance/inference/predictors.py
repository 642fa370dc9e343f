"""Predictors composed behind one ``predict_proba``: seed ensembles, linear blends, temperature scaling.

A predictor maps (texts, targets) to probabilities of shape (n, 3), columns in LABELS
order. Backends (stance.inference.torch_backend) are the leaves; these combine them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np


class Predictor(Protocol):
    def predict_proba(self, texts: Sequence[str], targets: Sequence[str], batch_size: int) -> np.ndarray: ...


@dataclass
class MeanEnsemble:
    """Several seeds of one recipe: their probabilities averaged (single seeds' picks are noisy)."""

    members: list

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str], batch_size: int) -> np.ndarray:
        return np.mean([member.predict_proba(texts, targets, batch_size) for member in self.members], axis=0)


@dataclass
class LinearBlend:
    """``(1 - weight) * base + weight * linear`` for the targets the linear model knows; ``base`` elsewhere."""

    base: Predictor
    linear: object  # stance.models.linear.LinearStance: knows(targets), predict_proba(texts, targets)
    weight: float

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str], batch_size: int) -> np.ndarray:
        base = self.base.predict_proba(texts, targets, batch_size)
        return mix(base, linear_probabilities(self.linear, texts, targets, fallback=base), self.weight)


def linear_probabilities(linear, texts: Sequence[str], targets: Sequence[str], fallback: np.ndarray) -> np.ndarray:
    """The linear model's probabilities where it knows the target; ``fallback``'s rows elsewhere."""
    out = fallback.copy()
    known = linear.knows(targets)
    if known.any():
        out[known] = linear.predict_proba([t for t, k in zip(texts, known) if k], np.asarray(targets)[known])
    return out


def mix(base: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    return (1 - weight) * base + weight * other


@dataclass
class TemperatureScaled:
    """``base``'s probabilities calibrated by a temperature fitted on dev; the argmax (the label) is unchanged."""

    base: Predictor
    temperature: float

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str], batch_size: int) -> np.ndarray:
        return scale_temperature(self.base.predict_proba(texts, targets, batch_size), self.temperature)


# fp32 softmax underflows to 0 for very sure predictions; the log needs a floor
_TINY = float(np.finfo(np.float32).tiny)


def scale_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): for one transformer the same as softmax(logits / T), and it applies to
    averaged or blended probabilities as well. A monotone map of each row, so the argmax stays."""
    return softmax(np.log(np.clip(proba, _TINY, None)) / temperature).astype(proba.dtype)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of scores or logits, shifted by each row's maximum so that exp cannot overflow."""
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)
