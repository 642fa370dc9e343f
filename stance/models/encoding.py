"""How a (target, statement) pair becomes tokens: the one way training and inference share."""

from __future__ import annotations


def encode_pairs(tokenizer, targets, texts, max_length: int, **kwargs):
    """Tokenize (target, text) pairs; only the statement is truncated, since the target is what the label is about."""
    return tokenizer(list(targets), list(texts), truncation="only_second", max_length=max_length, **kwargs)
