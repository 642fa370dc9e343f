"""The public model API: ``StanceClassifier.from_pretrained(DIR).predict(texts)``."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from stance.artifacts import ModelDirectory
from stance.errors import StanceError
from stance.labels import LABELS


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

    def __init__(self, predictor, *, default_target: str | None, device, precision: str, backend: str = "torch"):
        self.predictor = predictor  # stance.inference.predictors.Predictor
        self.default_target = default_target
        self.device = device
        self.precision = precision
        self.backend = backend

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        *,
        backend: str = "auto",
        device: str = "auto",
        precision: str = "auto",
        max_length: int | None = None,
        allow_pickle: bool = False,
        calibrated: bool = True,
    ) -> "StanceClassifier":
        """Load a saved model directory (or the run directory holding it).

        ``backend`` is auto, torch, onnxruntime or openvino. ``auto`` runs the model that
        stance-export wrote beside the weights where there is one and no GPU (OpenVINO in bf16
        on CPUs with bf16 units, ONNX Runtime in fp32 elsewhere; neither imports torch), and
        torch otherwise. ``precision`` is auto (bf16 where the hardware runs it fast), fp32,
        bf16 (torch, openvino) or int8 (OpenVINO's int8 copy where ``stance-export --int8`` checked
        and wrote one, else torch's dynamic quantisation on the CPU). Weights load from safetensors; ``allow_pickle=True`` also loads ``pytorch_model.bin``,
        a pickle that can run code: only for a model from a source you trust.
        ``calibrated=False`` gives the probabilities before temperature scaling (the labels are the same).
        """
        from stance.inference.loading import load_predictor

        directory = ModelDirectory.open(path)
        predictor, transformer = load_predictor(
            directory, backend=backend, device=device, precision=precision, max_length=max_length,
            allow_pickle=allow_pickle, calibrated=calibrated,
        )
        return cls(predictor, default_target=directory.default_target, device=transformer.device,
                   precision=transformer.precision, backend=transformer.backend)

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

        Temperature-scaled when the model has a temperature (``stance_temperature`` in its config.json).
        """
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        proba = self.predictor.predict_proba(texts, self._targets(len(texts), targets), batch_size)
        return proba[0] if single else proba

    def predict(
        self, texts: str | Sequence[str], targets: str | Sequence[str] | None = None, batch_size: int = 64
    ) -> str | list[str]:
        """One label for one string; a list of labels for a list of strings."""
        proba = self.predict_proba(texts, targets, batch_size)
        if isinstance(texts, str):
            return LABELS[int(proba.argmax())]
        return [LABELS[i] for i in proba.argmax(axis=1)]

    __call__ = predict
