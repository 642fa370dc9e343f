"""Fine-tune one transformer with the Hugging Face ``Trainer``, keeping the best epoch on dev."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

from stance.artifacts import MAX_LENGTH_KEY, RESOLVED_CONFIG_FILE, WEIGHTS_FILE
from stance.errors import ConfigError, StanceError
from stance.evaluation.metrics import compute_metrics
from stance.inference.devices import resolve_device, resolve_precision
from stance.labels import LABELS
from stance.models.build import build_model
from stance.models.encoding import encode_pairs
from stance.training.losses import training_loss
from stance.training.tracking import tracking_callbacks

log = logging.getLogger(__name__)

TRAINER_STATE_FILE = "trainer_state.json"  # the Trainer writes it last into a checkpoint
DATA_HASH_KEY = "training_data_sha256"  # beside the run's config in checkpoints/: a resumed run must train on the same rows


def fit_transformer(cfg, splits, work_dir: str | Path) -> Trainer:
    """Train ``cfg.model`` on ``splits['train']``; the returned Trainer holds the best epoch by dev ``select_metric``.

    Checkpoints go under ``<work_dir>/checkpoints``. Every process of a distributed run calls
    this; only the main process writes files afterwards (``Trainer.is_world_process_zero``).
    """
    set_seed(cfg.seed)
    trainer_cfg = cfg.trainer
    device = resolve_device(trainer_cfg.device)
    precision = resolve_precision(trainer_cfg.precision, device)
    if precision == "int8":
        raise StanceError("trainer.precision=int8 is for inference only; use auto, fp32 or bf16")

    tokenizer, model = build_model(cfg.model, default_target=cfg.data.default_target, seed=cfg.seed)
    setattr(model.config, MAX_LENGTH_KEY, trainer_cfg.max_length)
    with _datasets_progress(trainer_cfg.progress):
        encoded = splits.map(
            lambda batch: encode_pairs(tokenizer, batch["target"], batch["text"], trainer_cfg.max_length),
            batched=True,
            remove_columns=["text", "target"],
            desc="tokenising",
        )

    steps_per_epoch = math.ceil(len(encoded["train"]) / (trainer_cfg.batch_size * trainer_cfg.gradient_accumulation_steps))
    # Evaluate (and keep a checkpoint) once an epoch, or once at the end of a run shorter than that.
    eval_steps = min(steps_per_epoch, trainer_cfg.max_steps) if trainer_cfg.max_steps > 0 else steps_per_epoch
    args = TrainingArguments(
        output_dir=str(Path(work_dir) / "checkpoints"),
        num_train_epochs=trainer_cfg.max_epochs,
        max_steps=trainer_cfg.max_steps,
        learning_rate=trainer_cfg.learning_rate,
        per_device_train_batch_size=trainer_cfg.batch_size,
        per_device_eval_batch_size=trainer_cfg.eval_batch_size,
        gradient_accumulation_steps=trainer_cfg.gradient_accumulation_steps,
        weight_decay=trainer_cfg.weight_decay,
        warmup_steps=trainer_cfg.warmup_ratio,  # transformers 5 reads a float below 1 as a share of the steps
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
        report_to=[],  # trackers come as callbacks from tracking_callbacks, writing where the config says
        run_name=str(work_dir),
        # Each process's loss is the mean over its own batch and DDP averages the gradients;
        # transformers would also multiply the loss by the number of processes, doubling it on two.
        average_tokens_across_devices=False,
        ddp_find_unused_parameters=trainer_cfg.ddp_find_unused_parameters,
        disable_tqdm=not trainer_cfg.progress,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        eval_dataset=encoded["dev"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=headline_metrics,
        compute_loss_func=training_loss(trainer_cfg, splits["train"]["label"], model),
        callbacks=[
            EarlyStoppingCallback(early_stopping_patience=trainer_cfg.early_stopping_patience),
            *tracking_callbacks(trainer_cfg, work_dir, main_process=args.process_index == 0),
        ],
    )
    # Every loss here is a per-batch mean (the model's own cross-entropy ignores num_items_in_batch):
    # transformers 5 would otherwise take it as pre-scaled and sum, not average, accumulated batches.
    trainer.loss_is_scaled_for_ga = False
    checkpoint = checkpoint_to_resume(cfg, Path(args.output_dir), main_process=trainer.is_world_process_zero(),
                                      data_hash=rows_hash(splits))
    log.info("training %s on %d examples (%s, %s)", cfg.model.kind, len(encoded["train"]), device, precision)
    trainer.train(resume_from_checkpoint=checkpoint)
    return trainer


def rows_hash(splits) -> str:
    """A content hash of the train and dev rows: the same config may point at a file edited since."""
    digest = hashlib.sha256()
    for split in ("train", "dev"):
        for column in ("text", "target", "label"):
            digest.update(json.dumps([split, column, list(splits[split][column])], ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def checkpoint_to_resume(cfg, folder: Path, main_process: bool = True, data_hash: str | None = None) -> str | None:
    """The checkpoint that ``trainer.resume=auto`` continues from (model, optimizer, scheduler, RNG state).

    Without it, the checkpoints of an earlier run in the same directory are discarded, saying
    so. A resumed run must have the config and the training rows of the interrupted one, or it
    would be a mix of two.
    """
    found = sorted(
        (int(match.group(1)), path) for path in (folder.iterdir() if folder.is_dir() else ())
        if (match := re.fullmatch(r"checkpoint-(\d+)", path.name)) and path.is_dir()
    )
    complete = [path for _, path in found if _is_complete(path)]  # a kill while saving leaves one half-written
    config = OmegaConf.to_container(cfg, resolve=True)
    config["trainer"].pop("resume", None)
    config[DATA_HASH_KEY] = data_hash
    saved = folder / RESOLVED_CONFIG_FILE
    if cfg.trainer.resume == "auto" and complete:
        previous = OmegaConf.to_container(OmegaConf.load(saved)) if saved.is_file() else config
        changed = [("the training data (train and dev rows)" if key == DATA_HASH_KEY else key)
                   for key in _changed_keys(previous, config)]
        if changed:
            raise ConfigError(f"cannot resume from {complete[-1]}: {', '.join(changed)} differ from the interrupted run; "
                              "rerun with its settings, or without trainer.resume=auto to start over")
        log.info("resuming from %s (step %s of the interrupted run)", complete[-1], complete[-1].name.split("-")[1])
        return str(complete[-1])
    if cfg.trainer.resume == "auto":
        log.warning("trainer.resume=auto: no complete checkpoint in %s, so training starts at step 0 "
                    "(resuming needs the interrupted run's directory: hydra.run.dir=...)", folder)
    elif found:
        log.warning("discarding %d checkpoint(s) of an earlier run in %s (the last at step %d); "
                    "trainer.resume=auto would continue from it", len(found), folder, found[-1][0])
    if main_process:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        OmegaConf.save(config, saved)
    return None


def _is_complete(checkpoint: Path) -> bool:
    try:
        json.loads((checkpoint / TRAINER_STATE_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (checkpoint / WEIGHTS_FILE).is_file()


def _changed_keys(before, after, prefix: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        return [key for name in dict.fromkeys([*before, *after])
                for key in _changed_keys(before.get(name), after.get(name), f"{prefix}{name}.")]
    return [prefix.rstrip(".")] if before != after else []


def save_transformer(trainer: Trainer, cfg, directory: str | Path) -> None:
    """Write the best epoch as a model directory: safetensors, tokenizer, config.json, the resolved config.

    Called by every process (``save_model`` writes on the main one only, as distributed
    training needs); the resolved config is written by the main process.
    """
    trainer.save_model(str(directory))
    if trainer.is_world_process_zero():
        (Path(directory) / "training_args.bin").unlink(missing_ok=True)  # a pickle; the directory holds safetensors and text only
        OmegaConf.save(cfg, Path(directory) / RESOLVED_CONFIG_FILE, resolve=True)


def headline_metrics(prediction) -> dict:
    """The scalars logged at each evaluation (the full report is computed once, at the end)."""
    scores = compute_metrics(np.argmax(prediction.predictions, axis=-1), prediction.label_ids)
    return {
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        "f_avg": scores["f_avg"],
        **{f"f1_{label}": scores["per_class"][label]["f1"] for label in LABELS},
    }


@contextmanager
def _datasets_progress(show: bool):
    """Tokenising bars for this step only (the CLI turns datasets' bars off for everything else)."""
    import datasets

    was_on = datasets.is_progress_bar_enabled()
    (datasets.enable_progress_bars if show else datasets.disable_progress_bars)()
    try:
        yield
    finally:
        (datasets.enable_progress_bars if was_on else datasets.disable_progress_bars)()
