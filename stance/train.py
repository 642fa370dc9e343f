"""Fine-tune a stance classifier with the Hugging Face ``Trainer``: ``train(cfg) -> metrics``."""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from transformers import (
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    Trainer,
    TrainingArguments,
    set_seed,
)

from stance.classifier import MAX_LENGTH_KEY, StanceClassifier
from stance.data import load_splits
from stance.ensemble import train_members
from stance.errors import StanceError
from stance.evaluation import evaluate_dataset
from stance.labels import LABELS
from stance.linear import LINEAR_DIRNAME, LinearStance, fit_blend
from stance.metrics import compute_metrics
from stance.modeling import build_model, encode_pairs
from stance.runtime import resolve_device, resolve_precision

log = logging.getLogger(__name__)

MODEL_DIRNAME = "model"
RESOLVED_CONFIG_NAME = "stance_config.yaml"
METRICS_NAME = "metrics.json"


def train(cfg: DictConfig) -> dict:
    """Train on ``cfg.data``, keep the epoch with the best dev ``trainer.select_metric``, save it, score dev and test.

    Writes ``<cfg.output_dir>/model`` (weights as safetensors, tokenizer, ``config.json``
    with ``id2label`` and the default target, the resolved config, ``metrics.json``) and
    returns the metrics with the model path under ``model_dir``.
    """
    started = time.perf_counter()
    output_dir = Path(cfg.output_dir)
    set_seed(cfg.seed)
    trainer_cfg = cfg.trainer
    device = resolve_device(trainer_cfg.device)
    precision = resolve_precision(trainer_cfg.precision, device)
    if precision == "int8":
        raise StanceError("trainer.precision=int8 is for inference only; use auto, fp32 or bf16")

    splits = load_splits(cfg.data, seed=cfg.seed)
    tokenizer, model = build_model(cfg.model, default_target=cfg.data.default_target, seed=cfg.seed)
    setattr(model.config, MAX_LENGTH_KEY, trainer_cfg.max_length)
    encoded = splits.map(
        lambda batch: encode_pairs(tokenizer, batch["target"], batch["text"], trainer_cfg.max_length),
        batched=True,
        remove_columns=["text", "target"],
    )

    steps_per_epoch = math.ceil(len(encoded["train"]) / (trainer_cfg.batch_size * trainer_cfg.gradient_accumulation_steps))
    # Evaluate (and keep a checkpoint) once an epoch, or once at the end of a run shorter than that.
    eval_steps = min(steps_per_epoch, trainer_cfg.max_steps) if trainer_cfg.max_steps > 0 else steps_per_epoch
    args = TrainingArguments(
        output_dir=str(output_dir / "checkpoints"),
        num_train_epochs=trainer_cfg.max_epochs,
        max_steps=trainer_cfg.max_steps,
        learning_rate=trainer_cfg.learning_rate,
        per_device_train_batch_size=trainer_cfg.batch_size,
        per_device_eval_batch_size=trainer_cfg.eval_batch_size,
        gradient_accumulation_steps=trainer_cfg.gradient_accumulation_steps,
        weight_decay=trainer_cfg.weight_decay,
        warmup_steps=trainer_cfg.warmup_ratio,
        label_smoothing_factor=trainer_cfg.label_smoothing,
        eval_strategy="steps",
        save_strategy="steps",
        eval_steps=eval_steps,
        save_steps=eval_steps,
        save_total_limit=1,
        load_best_model_at_end=True,
        metric_for_best_model=trainer_cfg.select_metric,
        greater_is_better=True,
        logging_steps=trainer_cfg.logging_steps,
        seed=cfg.seed,
        bf16=precision == "bf16",
        use_cpu=device.type == "cpu",
        train_sampling_strategy="group_by_length" if trainer_cfg.group_by_length else "random",
        dataloader_num_workers=trainer_cfg.num_workers,
        report_to=[],
        disable_tqdm=not trainer_cfg.progress,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        eval_dataset=encoded["dev"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=_headline_metrics,
        compute_loss_func=_weighted_loss(trainer_cfg.class_weights, splits["train"]["label"]),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=trainer_cfg.early_stopping_patience)],
    )
    log.info("training %s on %d examples (%s, %s)", cfg.model.kind, len(encoded["train"]), device, precision)
    train_output = trainer.train()

    model_dir = output_dir / MODEL_DIRNAME
    staging = output_dir / (MODEL_DIRNAME + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    trainer.save_model(str(staging))  # the best checkpoint, reloaded by load_best_model_at_end
    (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle; the model directory holds safetensors and text only
    OmegaConf.save(cfg, staging / RESOLVED_CONFIG_NAME, resolve=True)

    members = train_members(cfg, staging) if cfg.get("ensemble") else None  # more seeds, averaged with this one
    classifier = StanceClassifier.from_pretrained(staging, device=str(device), precision="fp32")
    blend = None
    if cfg.get("linear"):  # a linear model beside the transformer, blended by a weight chosen on dev
        blend = fit_blend(cfg.linear, splits, classifier, trainer_cfg.select_metric, staging)
        # only the linear part is new: read it back as saved, keep the loaded transformer(s)
        classifier.linear = LinearStance.load(staging / LINEAR_DIRNAME)
    train_seconds = time.perf_counter() - started
    metrics = {
        "dev": evaluate_dataset(classifier, splits["dev"], batch_size=trainer_cfg.eval_batch_size),
        "test": evaluate_dataset(classifier, splits["test"], batch_size=trainer_cfg.eval_batch_size),
        "best_checkpoint": Path(trainer.state.best_model_checkpoint or "").name,
        "train_steps": train_output.global_step,
        "train_seconds": round(train_seconds, 1),
        "device": str(device),
        "precision": precision,
        "examples": {split: len(splits[split]) for split in splits},
        **({"linear_blend": blend} if blend else {}),
        **({"ensemble_members": members} if members else {}),
    }
    (staging / METRICS_NAME).write_text(json.dumps(metrics, indent=2))
    shutil.rmtree(model_dir, ignore_errors=True)
    staging.rename(model_dir)  # a crash before this line never leaves a half-written model/ behind
    log.info("dev macro-F1 %.4f  test macro-F1 %.4f  test F_avg %.4f", metrics["dev"]["macro_f1"],
             metrics["test"]["macro_f1"], metrics["test"]["f_avg"])
    return {**metrics, "model_dir": str(model_dir)}


def _headline_metrics(prediction) -> dict:
    """The scalars logged at each evaluation (the full report is computed once, at the end)."""
    scores = compute_metrics(np.argmax(prediction.predictions, axis=-1), prediction.label_ids)
    return {
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        "f_avg": scores["f_avg"],
        **{f"f1_{label}": scores["per_class"][label]["f1"] for label in LABELS},
    }


def _weighted_loss(class_weights, train_labels):
    """None (the model's own loss) or a cross-entropy with per-class weights.

    ``balanced`` weighs each class by n / (3 * count), as scikit-learn does; a list gives
    the weights in LABELS order.
    """
    if not class_weights:
        return None
    if class_weights == "balanced":
        counts = np.bincount(np.asarray(train_labels), minlength=len(LABELS)).astype(float)
        weights = len(train_labels) / (len(LABELS) * np.maximum(counts, 1))
    else:
        weights = np.asarray(list(class_weights), dtype=float)
        if weights.shape != (len(LABELS),):
            raise StanceError(f"trainer.class_weights needs {len(LABELS)} numbers in the order {LABELS}, or 'balanced'")
    log.info("class weights %s", dict(zip(LABELS, np.round(weights, 3))))
    weight_tensor = torch.tensor(weights, dtype=torch.float32)

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"].float()
        return torch.nn.functional.cross_entropy(logits, labels, weight=weight_tensor.to(logits.device))

    return loss
