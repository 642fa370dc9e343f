"""The PyTorch backend: a saved transformers model and its tokenizer, run under inference_mode."""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

import stance.models.mean_pooling  # noqa: F401  registers model_type stance_bert_mean with the Auto classes
from stance.artifacts import ModelDirectory
from stance.errors import StanceError
from stance.inference.devices import resolve_device, resolve_precision
from stance.labels import LABELS, label_columns
from stance.models.encoding import encode_pairs


class TorchPredictor:
    """One transformer: (texts, targets) -> probabilities in LABELS order."""

    def __init__(self, model, tokenizer, *, max_length: int, device: torch.device, precision: str):
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.device = device
        self.precision = precision
        self._columns = label_columns(model.config.id2label)

    @classmethod
    def load(cls, directory: ModelDirectory, *, device: str = "auto", precision: str = "auto", max_length: int | None = None) -> "TorchPredictor":
        """``precision`` is auto, fp32, bf16 or int8 (dynamic quantisation of the linear layers, CPU only)."""
        torch_device = resolve_device(device)
        resolved = resolve_precision(precision, torch_device)
        path = directory.path
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
            model = AutoModelForSequenceClassification.from_pretrained(path, trust_remote_code=False)
        except OSError as exc:
            raise StanceError(f"cannot load model from {path}: {str(exc).splitlines()[0]}") from None
        model.eval()
        if resolved == "bf16":
            model = model.to(torch.bfloat16)
        elif resolved == "int8":
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao is deprecated in favour of torchao; still the in-tree way
                # a scale per output row keeps more labels equal to fp32 than one per matrix, at the same speed
                model = quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        model = model.to(torch_device)
        length = max_length or directory.max_length or min(tokenizer.model_max_length, 512)
        return cls(model, tokenizer, max_length=int(length), device=torch_device, precision=resolved)

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Texts sorted by length and padded per batch, so short statements do not pay for the longest."""
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        if not len(texts):
            return out
        encoded = encode_pairs(self.tokenizer, targets, texts, self.max_length)
        order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = self.tokenizer.pad(
                    {key: [encoded[key][i] for i in rows] for key in encoded.keys()}, return_tensors="pt"
                ).to(self.device)
                logits = self.model(**batch).logits.float()
                out[rows] = torch.softmax(logits[:, self._columns], dim=-1).cpu().numpy()
        return out
