"""Fit the linear model beside a fine-tuned transformer and choose its blend weight on dev."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from stance.artifacts import LINEAR_DIRNAME
from stance.evaluation.metrics import compute_metrics
from stance.inference.predictors import linear_probabilities, mix
from stance.models.linear import LinearStance

log = logging.getLogger(__name__)

BLEND_GRID = np.round(np.linspace(0.0, 1.0, 11), 2)


def fit_blend(linear_cfg, splits, classifier, select_metric: str, directory: str | Path) -> dict:
    """Fit a LinearStance on train, pick its blend weight with ``classifier`` on dev, save it.

    The weight is the one of BLEND_GRID with the best dev ``select_metric`` (ties go to the
    smaller weight); test is never looked at. Returns the weight and the dev score of each.
    """
    model = LinearStance(**OmegaConf.to_container(linear_cfg)).fit(splits["train"]["text"], splits["train"]["target"], splits["train"]["label"])
    dev = splits["dev"]
    transformer = classifier.predict_proba(dev["text"], dev["target"])
    linear = linear_probabilities(model, dev["text"], dev["target"], fallback=transformer)
    scores = {}
    for weight in BLEND_GRID:
        scores[float(weight)] = compute_metrics(mix(transformer, linear, weight).argmax(axis=1), dev["label"])[select_metric]
    best = max(scores, key=lambda w: (scores[w], -w))
    model.settings["blend_weight"] = best
    model.save(Path(directory) / LINEAR_DIRNAME)
    log.info("linear blend: weight %.1f (dev %s %.4f; transformer alone %.4f, linear alone %.4f)",
             best, select_metric, scores[best], scores[0.0], scores[1.0])
    return {"blend_weight": best, f"dev_{select_metric}_by_weight": {f"{w:g}": score for w, score in scores.items()}}
