"""Typed config schemas, registered in Hydra's ConfigStore: the one place defaults live.

The YAML files under ``conf/`` only choose among options and override values; a key that is
not declared here fails when the config is composed, naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

DEFAULT_TARGET = "deployment of Western/European troops to Ukraine"


@dataclass
class SourceConfig:
    """One data source: files (or a hub data set) and how their columns map to text, target, label."""

    name: str = "files"
    format: str = "table"  # table (CSV/TSV/JSONL/Parquet/saved/hub) or tweeteval (its folder layout)
    path: Optional[str] = None  # folder that train/dev/test are relative to
    train: Optional[str] = None
    dev: Optional[str] = None
    test: Optional[str] = None
    text_column: str = "text"
    label_column: str = "label"
    target_column: Optional[str] = None  # each row's target; rows without one get default_target
    # wide tables: several (target column, label column) pairs per text, each one example
    target_label_columns: Optional[List[List[str]]] = None
    # untyped so that a whole mapping can be given on the command line (Hydra merges typed dicts key by key)
    targets: Any = None  # tweeteval: folder -> target phrase
    default_target: Optional[str] = DEFAULT_TARGET
    label_map: Any = None  # data-set codes -> labels, e.g. {0: none, 1: against}
    encoding: str = "utf-8"
    on_overlap: str = "error"  # a text in both train and test fails the run; 'warn' only warns
    # when only some split files are given, the others are cut from the first (stratified, by seed)
    split_fractions: Dict[str, float] = field(default_factory=lambda: {"dev": 0.1, "test": 0.1})
    hub_config: Optional[str] = None  # configuration name of a hub data set


@dataclass
class DataConfig(SourceConfig):
    """A source, or a mixture of sources (``sources``) trained together."""

    sources: Dict[str, SourceConfig] = field(default_factory=dict)
    weights: Any = None  # per source: repeat (>1) or subsample (<1) its training rows
    eval_source: Optional[str] = None  # dev and test from this source alone (all sources when null)


@dataclass
class ModelConfig:
    kind: str = "minilm"  # minilm (bundled all-MiniLM-L6-v2), hub (any checkpoint: name=), tiny (tests)
    name: Optional[str] = None  # hub id or local directory; read for kind=hub only
    pooling: str = "cls"  # cls (BERT pooler on [CLS]) or mean (token mean, stance.models.mean_pooling)
    dropout: Optional[float] = None  # of the encoder's hidden states, attention and head while training; null keeps the checkpoint's (MiniLM: 0.1)
    # the random BERT of kind=tiny
    hidden_size: int = 32
    num_layers: int = 2
    num_heads: int = 2
    intermediate_size: int = 64


@dataclass
class TrainerConfig:
    max_epochs: int = 2  # real-statement scores stop rising after 2-3 epochs; 2 keeps corpus 5.0 within 15 min on 2 cores (README, "Real statements")
    max_steps: int = -1  # > 0 stops after this many optimiser steps (smoke runs)
    learning_rate: float = 5.0e-5
    batch_size: int = 16
    eval_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    max_length: int = 128  # tokens of target + statement; longer statements are cut
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1  # share of the steps spent warming up the learning rate
    label_smoothing: float = 0.0
    class_weights: Any = None  # null, balanced, or three weights in label order
    # > 0 adds this weight times a supervised contrastive loss on the head's input (stance.training.losses)
    contrastive_weight: float = 0.0
    contrastive_temperature: float = 0.3  # of the contrastive loss's cosine similarities
    early_stopping_patience: int = 2  # evaluations without a better dev score before stopping
    select_metric: str = "macro_f1"  # the dev score that picks the epoch and a blend weight: macro_f1, f_avg, accuracy
    group_by_length: bool = True  # batches of similar length: less padding, faster on CPU
    precision: str = "auto"  # auto (bf16 where the hardware runs it fast), fp32, bf16
    device: str = "auto"  # auto, cpu or cuda (CUDA_VISIBLE_DEVICES picks the GPU)
    num_workers: int = 0
    logging_steps: int = 20
    progress: bool = True
    resume: Optional[str] = None  # auto: continue from the last checkpoint in this run's directory (after a crash or a kill)
    # where losses and dev scores are logged during training: tensorboard (<run dir>/tensorboard), mlflow; [] for none
    report_to: List[str] = field(default_factory=lambda: ["tensorboard"])
    mlflow_tracking_uri: Optional[str] = None  # null: $MLFLOW_TRACKING_URI, else MLflow's default sqlite:///mlflow.db (working directory)
    mlflow_experiment: str = "stance"
    # data-parallel runs (conf/trainer/ddp.yaml)
    ddp_find_unused_parameters: Optional[bool] = None  # null: the Trainer's choice (true unless gradient checkpointing)


@dataclass
class LinearConfig:
    classifier: str = "logreg"  # logreg (probabilities) or svm (margins)
    C: float = 10.0
    embedding_weight: float = 2.0  # scale of the embedding block against the TF-IDF blocks; 0 = n-grams only
    encoder: str = "minilm"  # the bundled all-MiniLM-L6-v2, or a local directory / hub id
    max_length: int = 128


@dataclass
class EnsembleConfig:
    seeds: List[int] = field(default_factory=list)  # members beside the main model's seed


@dataclass
class ExportConfig:
    """The ONNX / OpenVINO export written at the end of a run (stance.export); ``export=null`` skips it."""

    openvino: bool = True  # also the OpenVINO IR, which OpenVINO loads faster than the ONNX
    tolerance: float = 1.0e-4  # max |Δp| against PyTorch on the check sample; a larger one is not written
    # also an int8 OpenVINO copy (NNCF; pip install 'stance[int8]'), calibrated on the train split and written only
    # if it keeps >= 99.5% of the labels on the dev split; stance-label --precision int8 runs it (opt-in)
    int8: bool = False


@dataclass
class TrainConfig:
    data: DataConfig = MISSING
    model: ModelConfig = MISSING
    trainer: TrainerConfig = MISSING
    linear: Optional[LinearConfig] = None
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    export: Optional[ExportConfig] = field(default_factory=ExportConfig)
    seed: int = 42
    output_dir: str = "${hydra:runtime.output_dir}"  # every artefact of a run goes here


@dataclass
class EvalConfig:
    data: DataConfig = MISSING
    model_path: Optional[str] = None  # a directory written by stance-train
    predictions: Optional[str] = None  # or predicted labels: one a line, or a table with a 'stance' column
    split: str = "test"
    seed: int = 42  # only used when a split has to be cut from a single file
    device: str = "auto"
    precision: str = "fp32"  # scores are reported at full precision unless asked otherwise
    batch_size: int = 64
    allow_pickle: bool = False  # also load pytorch_model.bin (a pickle, which can run code): only a model you trust
    output_dir: str = "${hydra:runtime.output_dir}"


def register() -> None:
    store = ConfigStore.instance()
    store.store(name="train_schema", node=TrainConfig)
    store.store(name="eval_schema", node=EvalConfig)
