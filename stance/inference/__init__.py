"""Running a saved model: StanceClassifier over a predictor (a backend, seed members, a linear blend)."""

from stance.inference.classifier import StanceClassifier

__all__ = ["StanceClassifier"]
