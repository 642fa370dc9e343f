"""Losses beside the model's own: cross-entropy with per-class weights."""

from __future__ import annotations

import logging

import numpy as np
import torch

from stance.labels import LABELS

log = logging.getLogger(__name__)


def weighted_loss(class_weights, train_labels):
    """None (the model's own loss) or a cross-entropy with per-class weights.

    ``balanced`` weighs each class by n / (3 * count), as scikit-learn does; a list gives
    the weights in LABELS order (checked by stance.config.validate).
    """
    if not class_weights:
        return None
    if class_weights == "balanced":
        counts = np.bincount(np.asarray(train_labels), minlength=len(LABELS)).astype(float)
        weights = len(train_labels) / (len(LABELS) * np.maximum(counts, 1))
    else:
        weights = np.asarray(list(class_weights), dtype=float)
    log.info("class weights %s", dict(zip(LABELS, np.round(weights, 3))))
    weight_tensor = torch.tensor(weights, dtype=torch.float32)

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"].float()
        return torch.nn.functional.cross_entropy(logits, labels, weight=weight_tensor.to(logits.device))

    return loss
