import math

import pytest
import torch

from stance.config import compose
from stance.data import load_splits
from stance.errors import ConfigError
from stance.training.finetune import fit_transformer
from stance.training.losses import supervised_contrastive, training_loss


class HeadOnly(torch.nn.Module):
    """A stand-in sequence classifier: features in, logits out through a head named like transformers' own."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.classifier = torch.nn.Linear(8, 3)

    def forward(self, features):
        return {"logits": self.classifier(features)}


def trainer_config(*overrides):
    return compose("train", ["model=tiny", *overrides]).trainer


def test_contrastive_loss_is_low_when_labels_are_apart_and_high_when_mixed():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    apart = torch.eye(3).repeat_interleave(2, dim=0) + 0.01 * torch.randn(6, 3)
    mixed = torch.eye(3)[[0, 1, 2, 0, 1, 2]]  # each label's two rows point different ways
    assert supervised_contrastive(apart, labels, 0.3) < supervised_contrastive(mixed, labels, 0.3) - 1


def test_a_batch_without_two_rows_of_one_label_adds_nothing_but_keeps_the_graph():
    features = torch.randn(3, 8, requires_grad=True)
    loss = supervised_contrastive(features, torch.tensor([0, 1, 2]), 0.3)
    loss.backward()
    assert loss.item() == 0 and features.grad is not None


def test_class_weights_and_label_smoothing_apply_together():
    # the Trainer drops label smoothing once a loss function is given: ours must apply both
    model = HeadOnly()
    loss = training_loss(trainer_config("trainer.class_weights=[1,2,3]", "trainer.label_smoothing=0.2"), [0, 1, 2], model)
    features, labels = torch.randn(4, 8), torch.tensor([0, 1, 2, 2])
    logits = model(features)["logits"]
    expected = torch.nn.functional.cross_entropy(logits, labels, weight=torch.tensor([1.0, 2.0, 3.0]), label_smoothing=0.2)
    assert torch.isclose(loss(model(features), labels), expected)


def test_label_smoothing_alone_is_applied_by_the_same_loss():
    model = HeadOnly()
    loss = training_loss(trainer_config("trainer.label_smoothing=0.1"), [0, 1, 2], model)
    features, labels = torch.randn(4, 8), torch.tensor([0, 1, 2, 2])
    expected = torch.nn.functional.cross_entropy(model(features)["logits"], labels, label_smoothing=0.1)
    assert torch.isclose(loss(model(features), labels), expected)


def test_the_contrastive_term_is_added_in_training_only():
    model = HeadOnly()
    loss = training_loss(trainer_config("trainer.contrastive_weight=0.5"), [0, 1, 2], model)
    features, labels = torch.randn(6, 8), torch.tensor([0, 0, 1, 1, 2, 2])
    cross_entropy = torch.nn.functional.cross_entropy(model(features)["logits"], labels)
    model.eval()
    assert torch.isclose(loss(model(features), labels), cross_entropy)
    model.train()
    expected = cross_entropy + 0.5 * supervised_contrastive(features, labels, 0.3)
    assert torch.isclose(loss(model(features), labels), expected)


def test_without_weights_or_contrastive_term_the_models_own_loss_is_used():
    assert training_loss(trainer_config(), [0, 1, 2], HeadOnly()) is None


def test_a_model_without_a_known_head_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="contrastive_weight needs a classification head"):
        training_loss(trainer_config("trainer.contrastive_weight=0.5"), [0, 1, 2], torch.nn.Linear(8, 3))


@pytest.mark.parametrize("accumulation", [1, 2])
def test_accumulated_batches_are_averaged_not_summed(tmp_path, corpus_csv, accumulation):
    # at a learning rate of ~0 the loss stays at its start, ln 3 for an untrained 3-way head
    cfg = compose("train", [
        "model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={tmp_path}",
        "trainer.max_steps=2", "trainer.logging_steps=1", "trainer.learning_rate=1e-12", "trainer.batch_size=8",
        f"trainer.gradient_accumulation_steps={accumulation}", "trainer.report_to=[]", "export=null",
    ])
    splits = load_splits(cfg.data, seed=cfg.seed)
    losses = [entry["loss"] for entry in fit_transformer(cfg, splits, tmp_path).state.log_history if "loss" in entry]
    assert losses and all(abs(loss - math.log(3)) < 0.3 for loss in losses)
