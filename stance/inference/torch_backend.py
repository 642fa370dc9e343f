"""The PyTorch backend: a saved transformers model and its tokenizer, run under inference_mode."""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.utils import logging as transformers_logging

import stance.models.mean_pooling  # noqa: F401  registers model_type stance_bert_mean with the Auto classes
from stance.artifacts import ModelDirectory
from stance.errors import StanceError
from stance.inference.devices import resolve_device, resolve_precision
from stance.labels import LABELS, label_columns
from stance.models.encoding import encode_pairs


class TorchPredictor:
    """One transformer: (texts, targets) -> probabilities in LABELS order."""

    backend = "torch"

    def __init__(self, model, tokenizer, *, max_length: int, device: torch.device, precision: str):
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.device = device
        self.precision = precision
        self._columns = label_columns(model.config.id2label)

    @classmethod
    def load(
        cls, directory: ModelDirectory, *, device: str = "auto", precision: str = "auto", max_length: int | None = None,
        allow_pickle: bool = False,
    ) -> "TorchPredictor":
        """``precision`` is auto, fp32, bf16 or int8 (dynamic quantisation of the linear layers, CPU only).

        Weights load from safetensors only, unless ``allow_pickle``; weights that leave part of
        the model uninitialised (a missing classifier, another ``model_type``) are refused.
        """
        torch_device = resolve_device(device)
        resolved = resolve_precision(precision, torch_device)
        path = directory.path
        directory.check_weights(allow_pickle)
        verbosity, bar = transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled()
        transformers_logging.set_verbosity_error()  # its load report would repeat, in a table, what the error below says
        transformers_logging.disable_progress_bar()  # a bar for loading 100 MB of weights is noise before every run
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
            model, info = AutoModelForSequenceClassification.from_pretrained(
                path, trust_remote_code=False, use_safetensors=None if allow_pickle else True, output_loading_info=True
            )
        except (OSError, ValueError) as exc:
            raise StanceError(f"cannot load model from {path}: {str(exc).strip().splitlines()[0]}") from None
        finally:
            transformers_logging.set_verbosity(verbosity)
            if bar:
                transformers_logging.enable_progress_bar()
        _refuse_partial_weights(path, model, info)
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


def _refuse_partial_weights(path, model, info: dict) -> None:
    """Weights that do not cover the model would be freshly initialised: labels that change from run to run."""
    problems = []
    for kind, keys in (("missing", info["missing_keys"]), ("unexpected", info["unexpected_keys"])):
        if keys:
            problems.append(f"{kind} {_some(sorted(keys))}")
    if info["mismatched_keys"]:
        problems.append(f"of another shape {_some(sorted(key for key, *_ in info['mismatched_keys']))}")
    if problems:
        raise StanceError(
            f"{path}: its weights do not fit its config.json (model_type {model.config.model_type}): {'; '.join(problems)}; "
            "refusing a model that would label at random"
        )


def _some(names: list[str], shown: int = 4) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
