"""Tokenizing without transformers: the fast ``tokenizers`` library over a model's ``tokenizer.json``.

Gives the ids that ``transformers`` gives for the same files, (target, statement) pairs cut
as in training (only the statement, stance.models.encoding), in length-sorted batches padded
to their own longest row. stance-export checks that the ids are equal before it writes a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from stance.artifacts import TOKENIZER_CONFIG_FILE, TOKENIZER_FILE
from stance.errors import StanceError

FALLBACK_MAX_LENGTH = 512  # as the torch backend: the tokenizer's own limit, at most 512


class Encoder:
    """Texts, or (target, statement) pairs, to padded int64 arrays named as the graph's inputs."""

    def __init__(self, directory: Path, max_length: int | None, pairs: bool):
        from tokenizers import Tokenizer

        try:
            self.tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises a bare Exception for a missing or unreadable file
            raise StanceError(f"{directory}: cannot read {TOKENIZER_FILE} ({exc})") from None
        settings = _tokenizer_settings(directory)
        self.max_length = int(max_length or min(settings.get("model_max_length") or FALLBACK_MAX_LENGTH, FALLBACK_MAX_LENGTH))
        self.pairs = pairs
        self.tokenizer.no_padding()  # each batch is padded to its own longest row below
        self.tokenizer.enable_truncation(self.max_length, strategy="only_second" if pairs else "longest_first")
        pad = settings.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self.pad_id = self.tokenizer.token_to_id(pad) if pad else 0
        self.pad_type_id = int(settings.get("pad_token_type_id") or 0)

    def encode(self, texts: Sequence[str], targets: Sequence[str] | None = None) -> list:
        if not self.pairs:
            return self.tokenizer.encode_batch(list(texts))
        # as stance.models.encoding.encode_pairs: a target that leaves the statement no room is cut too (longest first)
        targets = list(targets)
        unique = list(dict.fromkeys(targets))
        room = self.max_length - self.tokenizer.num_special_tokens_to_add(True)
        self.tokenizer.no_truncation()
        try:
            long = {t for t, e in zip(unique, self.tokenizer.encode_batch(unique, add_special_tokens=False)) if len(e.ids) >= room}
            self.tokenizer.enable_truncation(self.max_length, strategy="longest_first")
            cut = iter(self.tokenizer.encode_batch([(t, text) for t, text in zip(targets, texts) if t in long]) if long else [])
        finally:
            self.tokenizer.enable_truncation(self.max_length, strategy="only_second")
        usual = iter(self.tokenizer.encode_batch([(t, text) for t, text in zip(targets, texts) if t not in long]))
        return [next(cut) if target in long else next(usual) for target in targets]

    def batches(self, encodings: list, batch_size: int) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """(rows, arrays) by increasing length, so short texts do not pay for the longest one."""
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            types = np.full((len(rows), width), self.pad_type_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for k, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[k, :n], types[k, :n], mask[k, :n] = encodings[i].ids, encodings[i].type_ids, 1
            yield rows, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _tokenizer_settings(directory: Path) -> dict:
    try:
        return json.loads((directory / TOKENIZER_CONFIG_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StanceError(f"{directory / TOKENIZER_CONFIG_FILE}: cannot read ({exc})") from None
