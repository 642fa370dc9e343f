"""The public model API: ``StanceClassifier.from_pretrained(DIR).predict(texts)``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from stance.ensemble import member_dirs
from stance.errors import StanceError
from stance.labels import LABELS, LabelError, normalize_label
from stance.modeling import DEFAULT_TARGET_KEY, encode_pairs
from stance.runtime import resolve_device, resolve_precision

if TYPE_CHECKING:
    from stance.linear import LinearStance

MAX_LENGTH_KEY = "stance_max_length"


class StanceClassifier:
    """Label statements as supportive, reserved or opposed toward a target.

    Loads any directory written by ``stance-train`` (or another three-way stance model
    whose ``id2label`` maps onto the labels through the aliases). ``targets`` is None
    (the model's own target), one phrase for every text, or one phrase per text.

    >>> from stance import StanceClassifier
    >>> clf = StanceClassifier.from_pretrained(model_dir)  # e.g. "outputs/2026-11-25/09-00-00/model"
    >>> clf.labels
    ('supportive', 'reserved', 'opposed')
    >>> clf.predict("We are ready to send troops as part of a reassurance force.") in clf.labels
    True
    >>> len(clf(["No soldiers of ours will go.", "Not on the agenda now."], targets="troops to Ukraine"))
    2
    >>> proba = clf.predict_proba(["No soldiers of ours will go.", "Not on the agenda now."])
    >>> proba.shape, bool(abs(proba.sum(axis=1) - 1).max() < 1e-5)
    ((2, 3), True)
    """

    labels: tuple[str, ...] = LABELS

    def __init__(
        self, model, tokenizer, *, default_target: str | None, max_length: int, device, precision: str,
        linear: LinearStance | None = None, members: Sequence["StanceClassifier"] = (),
    ):
        self.model = model
        self.linear = linear  # blended in for the targets it was trained on (stance.linear)
        self.members = list(members)  # more seeds of the same recipe, averaged in (stance.ensemble)
        self.tokenizer = tokenizer
        self.default_target = default_target
        self.max_length = max_length
        self.device = device
        self.precision = precision
        # Column of each of our labels in the model's logits (a model may order them differently).
        try:
            model_labels = {normalize_label(name): int(i) for i, name in model.config.id2label.items()}
        except LabelError as exc:
            raise StanceError(f"model labels {model.config.id2label} do not map onto {LABELS}: {exc}") from None
        if set(model_labels) != set(LABELS):
            raise StanceError(f"model labels {model.config.id2label} do not cover {LABELS}")
        self._columns = [model_labels[label] for label in LABELS]

    @classmethod
    def from_pretrained(
        cls, path: str | Path, *, device: str = "auto", precision: str = "auto", max_length: int | None = None
    ) -> "StanceClassifier":
        """Load a saved model directory; ``precision`` is auto, fp32, bf16 or int8 (CPU only)."""
        if not Path(path).is_dir():
            raise StanceError(f"model directory not found: {path}")
        torch_device = resolve_device(device)
        resolved = resolve_precision(precision, torch_device)
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
        config = model.config
        length = max_length or getattr(config, MAX_LENGTH_KEY, None) or min(tokenizer.model_max_length, 512)
        return cls(
            model,
            tokenizer,
            default_target=getattr(config, DEFAULT_TARGET_KEY, None),
            max_length=int(length),
            device=torch_device,
            precision=resolved,
            linear=_linear_beside(Path(path)),
            members=[
                cls.from_pretrained(member, device=device, precision=precision, max_length=max_length)
                for member in member_dirs(path)
            ],
        )

    def _targets(self, n: int, targets: str | Sequence[str] | None) -> list[str]:
        if targets is None:
            if not self.default_target:
                raise StanceError("this model has no default target: pass targets=")
            return [self.default_target] * n
        if isinstance(targets, str):
            return [targets] * n
        targets = list(targets)
        if len(targets) != n:
            raise StanceError(f"{len(targets)} targets given for {n} texts")
        return targets

    def predict_proba(
        self, texts: str | Sequence[str], targets: str | Sequence[str] | None = None, batch_size: int = 64
    ) -> np.ndarray:
        """Probabilities, shape (n, 3) (shape (3,) for one string), columns in ``self.labels`` order; rows sum to 1.

        Texts are sorted by length and padded per batch, so a batch of short statements
        does not pay for the longest one in the input.
        """
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        pair_targets = self._targets(len(texts), targets)
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        if not texts:
            return out
        encoded = encode_pairs(self.tokenizer, pair_targets, texts, self.max_length)
        order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = self.tokenizer.pad(
                    {key: [encoded[key][i] for i in rows] for key in encoded.keys()}, return_tensors="pt"
                ).to(self.device)
                logits = self.model(**batch).logits.float()
                out[rows] = torch.softmax(logits[:, self._columns], dim=-1).cpu().numpy()
        if self.members:
            out = np.mean([out] + [member.predict_proba(texts, pair_targets, batch_size) for member in self.members], axis=0)
        if self.linear is not None and self.linear.blend_weight:
            known = self.linear.knows(pair_targets)
            if known.any():
                weight = self.linear.blend_weight
                linear = self.linear.predict_proba([t for t, k in zip(texts, known) if k], np.asarray(pair_targets)[known])
                out[known] = (1 - weight) * out[known] + weight * linear
        return out[0] if single else out

    def predict(
        self, texts: str | Sequence[str], targets: str | Sequence[str] | None = None, batch_size: int = 64
    ) -> str | list[str]:
        """One label for one string; a list of labels for a list of strings."""
        proba = self.predict_proba(texts, targets, batch_size)
        if isinstance(texts, str):
            return LABELS[int(proba.argmax())]
        return [LABELS[i] for i in proba.argmax(axis=1)]

    __call__ = predict


def _linear_beside(path: Path):
    """The linear model saved in ``path`` to blend with the transformer (stance.linear), or None."""
    # "linear" is stance.linear.LINEAR_DIRNAME, spelled out so that models without one never
    # import scikit-learn and scipy (half a second of every stance-label start)
    if not (path / "linear").is_dir():
        return None
    from stance.linear import LINEAR_DIRNAME, LinearStance

    return LinearStance.load(path / LINEAR_DIRNAME)
