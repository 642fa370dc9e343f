"""Scoring models and predictions: metrics, reports, public benchmarks."""

from stance.evaluation.scoring import evaluate, evaluate_dataset

__all__ = ["evaluate", "evaluate_dataset"]
