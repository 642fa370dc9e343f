"""Scoring models and predictions: metrics, reports, public benchmarks."""

from stance.evaluation.scoring import evaluate

__all__ = ["evaluate"]
