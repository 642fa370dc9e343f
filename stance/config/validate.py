"""Check a composed config's values before any work starts: one line naming the key.

Types and key names are checked by Hydra when the config is composed (the schemas in
stance.config.schema); this checks what a type cannot say.
"""

from __future__ import annotations

import re

from stance.errors import ConfigError

MODEL_KINDS = ("minilm", "hub", "tiny")
POOLINGS = ("cls", "mean")
TRAIN_PRECISIONS = ("auto", "fp32", "bf16")
SELECT_METRICS = ("macro_f1", "f_avg", "accuracy")
DATA_FORMATS = ("table", "tweeteval")
LINEAR_CLASSIFIERS = ("logreg", "svm")
TRACKERS = ("tensorboard", "mlflow")
MAX_POSITIONS = 512  # BERT-style checkpoints, MiniLM included: longer inputs have no position embedding


def validate(cfg) -> None:
    """Raise ConfigError for the first value that cannot work, naming its key."""
    trainer = cfg.trainer
    _at_least(trainer, "trainer", "max_epochs", 1)
    _at_least(trainer, "trainer", "batch_size", 1)
    _at_least(trainer, "trainer", "eval_batch_size", 1)
    _at_least(trainer, "trainer", "gradient_accumulation_steps", 1)
    _at_least(trainer, "trainer", "early_stopping_patience", 1)
    _at_least(trainer, "trainer", "logging_steps", 1)
    _at_least(trainer, "trainer", "num_workers", 0)
    if trainer.max_steps == 0 or trainer.max_steps < -1:
        raise ConfigError(f"trainer.max_steps={trainer.max_steps}: give a number of steps >= 1, or -1 to train by epochs")
    if not 0 < trainer.learning_rate < 1:
        raise ConfigError(f"trainer.learning_rate={trainer.learning_rate}: must be above 0 and below 1 (fine-tuning uses 1e-5 to 1e-4)")
    _fraction(trainer, "trainer", "warmup_ratio")
    _fraction(trainer, "trainer", "label_smoothing")
    if trainer.contrastive_weight < 0:
        raise ConfigError(f"trainer.contrastive_weight={trainer.contrastive_weight}: must be >= 0 (0 turns it off)")
    if not 0 < trainer.contrastive_temperature <= 1:
        raise ConfigError(f"trainer.contrastive_temperature={trainer.contrastive_temperature}: must be above 0 and at most 1")
    if trainer.weight_decay < 0:
        raise ConfigError(f"trainer.weight_decay={trainer.weight_decay}: must be >= 0")
    # room for [CLS], the target, two [SEP] and some of the statement
    if not 16 <= trainer.max_length <= MAX_POSITIONS:
        raise ConfigError(f"trainer.max_length={trainer.max_length}: must be between 16 and {MAX_POSITIONS} tokens")
    _one_of(trainer.precision, "trainer.precision", TRAIN_PRECISIONS)
    _one_of(trainer.select_metric, "trainer.select_metric", SELECT_METRICS)
    if not re.fullmatch(r"auto|cpu|cuda", trainer.device):
        raise ConfigError(f"trainer.device={trainer.device}: use auto, cpu or cuda (CUDA_VISIBLE_DEVICES=1 picks the second GPU)")
    _class_weights(trainer.class_weights)
    if trainer.resume not in (None, "auto"):
        raise ConfigError(f"trainer.resume={trainer.resume}: use auto (continue this run directory's last checkpoint) or leave it unset")
    for tracker in trainer.report_to:
        _one_of(tracker, "trainer.report_to", TRACKERS)

    model = cfg.model
    _one_of(model.kind, "model.kind", MODEL_KINDS)
    _one_of(model.pooling, "model.pooling", POOLINGS)
    if model.dropout is not None:
        _fraction(model, "model", "dropout")
    if model.kind == "hub" and not model.name:
        raise ConfigError("model=hub needs model.name (a hub id or a local directory)")
    if model.kind != "hub" and model.name:
        raise ConfigError(f"model.name is read for model=hub only; model={model.kind} ignores it")
    if model.kind == "tiny":
        for key in ("hidden_size", "num_layers", "num_heads", "intermediate_size"):
            _at_least(model, "model", key, 1)
        if model.hidden_size % model.num_heads:
            raise ConfigError(f"model.hidden_size={model.hidden_size} must be a multiple of model.num_heads={model.num_heads}")

    validate_data(cfg.data)
    if cfg.linear:
        _one_of(cfg.linear.classifier, "linear.classifier", LINEAR_CLASSIFIERS)
        if cfg.linear.C <= 0:
            raise ConfigError(f"linear.C={cfg.linear.C}: must be above 0")
        if cfg.linear.embedding_weight < 0:
            raise ConfigError(f"linear.embedding_weight={cfg.linear.embedding_weight}: must be >= 0")
    if cfg.export and not 0 < cfg.export.tolerance < 1:
        raise ConfigError(f"export.tolerance={cfg.export.tolerance}: must be above 0 and below 1 (a probability difference)")
    if cfg.export and cfg.export.int8 and not cfg.export.openvino:
        raise ConfigError("export.int8=true quantises the OpenVINO model: it needs export.openvino=true")
    if cfg.seed in cfg.ensemble.seeds:
        raise ConfigError(f"ensemble.seeds {list(cfg.ensemble.seeds)} repeats the main model's seed={cfg.seed}")


def validate_data(data, key: str = "data") -> None:
    if "sources" in data and data.sources:  # a mixture; its sources are plain SourceConfig nodes
        unknown = [name for name in (data.weights or {}) if name not in data.sources]
        if unknown:
            raise ConfigError(f"{key}.weights names {unknown[0]!r}, which is not one of {key}.sources: {', '.join(data.sources)}")
        if data.eval_source and data.eval_source not in data.sources:
            raise ConfigError(f"{key}.eval_source={data.eval_source} is not one of {key}.sources: {', '.join(data.sources)}")
        for name, weight in (data.weights or {}).items():
            if weight < 0:
                raise ConfigError(f"{key}.weights.{name}={weight}: must be >= 0")
        for name, source in data.sources.items():
            validate_data(source, f"{key}.sources.{name}")
        return
    _one_of(data.format, f"{key}.format", DATA_FORMATS)
    _one_of(data.on_overlap, f"{key}.on_overlap", ("error", "warn"))
    for split, share in data.split_fractions.items():
        if split not in ("dev", "test") or not 0 < share < 0.5:
            raise ConfigError(f"{key}.split_fractions.{split}={share}: give dev and test shares between 0 and 0.5")


def _at_least(node, prefix: str, key: str, minimum: int) -> None:
    if node[key] < minimum:
        raise ConfigError(f"{prefix}.{key}={node[key]}: must be >= {minimum}")


def _fraction(node, prefix: str, key: str) -> None:
    if not 0 <= node[key] < 1:
        raise ConfigError(f"{prefix}.{key}={node[key]}: must be >= 0 and below 1")


def _one_of(value, key: str, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{key}={value}: use one of {', '.join(choices)}")


def _class_weights(weights) -> None:
    if weights is None or weights == "balanced":
        return
    if isinstance(weights, str) or len(weights) != 3 or not all(isinstance(w, (int, float)) and w > 0 for w in weights):
        raise ConfigError(f"trainer.class_weights={weights}: use null, balanced, or three positive weights in label order")


def validate_eval(cfg) -> None:
    """The values of a stance-eval config."""
    if cfg.batch_size < 1:
        raise ConfigError(f"batch_size={cfg.batch_size}: must be >= 1")
    _one_of(cfg.precision, "precision", ("auto", "fp32", "bf16", "int8"))
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", cfg.device):
        raise ConfigError(f"device={cfg.device}: use auto, cpu, cuda or cuda:N")
    if cfg.split not in ("train", "dev", "test"):
        raise ConfigError(f"split={cfg.split}: use train, dev or test")
    validate_data(cfg.data)
