"""The training loss beside the model's own: weighted, smoothed cross-entropy and a supervised contrastive term."""

from __future__ import annotations

import logging

import numpy as np
import torch

from stance.errors import ConfigError
from stance.labels import LABELS

log = logging.getLogger(__name__)

HEAD_NAMES = ("classifier", "score")  # the layer that turns a sequence's representation into logits


def training_loss(trainer_cfg, train_labels, model):
    """None (the model's own cross-entropy) or a loss for ``Trainer(compute_loss_func=...)``.

    The one place the config's loss settings apply: cross-entropy with its class weights
    and label smoothing, plus, with ``contrastive_weight`` > 0 and in training only, that
    weight times a supervised contrastive loss (Khosla et al. 2020) on what the
    classification head reads: it pulls statements of one label together and pushes the
    others apart within each batch, so the representation, not only the head, has to
    carry the stance.
    """
    weights = _class_weights(trainer_cfg.class_weights, train_labels)
    contrastive_weight = trainer_cfg.contrastive_weight
    if weights is None and not trainer_cfg.label_smoothing and not contrastive_weight:
        return None
    head_input = _HeadInput(model) if contrastive_weight else None
    temperature = trainer_cfg.contrastive_temperature

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"].float()
        value = torch.nn.functional.cross_entropy(
            logits, labels, weight=None if weights is None else weights.to(logits.device),
            label_smoothing=trainer_cfg.label_smoothing)
        if head_input is not None and model.training:
            value = value + contrastive_weight * supervised_contrastive(head_input.latest, labels, temperature)
        return value

    return loss


def supervised_contrastive(features: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over anchors of -log p(positive | anchor) on cosine similarities; 0 where no anchor has a positive."""
    unit = torch.nn.functional.normalize(features.float(), dim=-1)
    similarity = unit @ unit.T / temperature
    not_self = ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    positives = (labels[:, None] == labels[None, :]) & not_self
    log_prob = similarity - torch.logsumexp(similarity.masked_fill(~not_self, float("-inf")), dim=1, keepdim=True)
    counts = positives.sum(dim=1)
    anchors = counts > 0
    if not anchors.any():
        return similarity.sum() * 0.0  # keeps the graph: every process of a DDP run must reach backward
    per_anchor = (log_prob * positives).sum(dim=1)[anchors] / counts[anchors]
    return -per_anchor.mean()


class _HeadInput:
    """Keeps the latest input of the model's classification head (a forward pre-hook)."""

    def __init__(self, model):
        head = next((getattr(model, name) for name in HEAD_NAMES if isinstance(getattr(model, name, None), torch.nn.Module)), None)
        if head is None:
            raise ConfigError(f"trainer.contrastive_weight needs a classification head named {' or '.join(HEAD_NAMES)}; "
                              f"{type(model).__name__} has none")
        self.latest = None
        head.register_forward_pre_hook(self._keep)

    def _keep(self, module, args):
        features = args[0]
        # heads such as RoBERTa's read the whole sequence and take its first token themselves
        self.latest = features[:, 0] if features.dim() == 3 else features


def _class_weights(class_weights, train_labels) -> torch.Tensor | None:
    """``balanced`` weighs each class by n / (3 * count), as scikit-learn does; a list gives them in LABELS order."""
    if not class_weights:
        return None
    if class_weights == "balanced":
        counts = np.bincount(np.asarray(train_labels), minlength=len(LABELS)).astype(float)
        weights = len(train_labels) / (len(LABELS) * np.maximum(counts, 1))
    else:
        weights = np.asarray(list(class_weights), dtype=float)
    log.info("class weights %s", dict(zip(LABELS, np.round(weights, 3))))
    return torch.tensor(weights, dtype=torch.float32)
