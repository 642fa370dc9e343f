"""The exported backends: a model's graph on ONNX Runtime or OpenVINO, with no torch and no transformers.

``ExportedPredictor`` is the counterpart of stance.inference.torch_backend.TorchPredictor
(same batching, same probabilities within the tolerance stance-export checked), and
``ExportedSentenceEncoder`` that of the linear model's SentenceEncoder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from stance.artifacts import ENCODER_SETTINGS_FILE, ModelDirectory
from stance.errors import StanceError
from stance.inference.predictors import softmax
from stance.inference.runtimes import open_graph, resolve_precision
from stance.inference.tokens import Encoder
from stance.labels import LABELS, label_columns


class ExportedPredictor:
    """One exported transformer: (texts, targets) -> probabilities in LABELS order."""

    device = "cpu"

    def __init__(self, run, encoder: Encoder, columns: list[int], *, backend: str, precision: str):
        self.run = run
        self.encoder = encoder
        self.backend = backend
        self.precision = precision
        self._columns = columns

    @classmethod
    def load(cls, directory: ModelDirectory, *, backend: str, precision: str = "auto", max_length: int | None = None) -> "ExportedPredictor":
        resolved = resolve_precision(backend, precision)
        if resolved == "int8":
            directory.int8_record()  # refuses a missing or stale int8 model, saying which
        else:
            directory.export_record()
        columns = label_columns(directory.config().get("id2label") or {})
        encoder = Encoder(directory.path, max_length or directory.max_length, pairs=True)
        return cls(open_graph(directory.path, backend, resolved), encoder, columns, backend=backend, precision=resolved)

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        if not len(texts):
            return out
        for rows, arrays in self.encoder.batches(self.encoder.encode(texts, targets), batch_size):
            out[rows] = softmax(self.run(arrays)[:, self._columns].astype(np.float32))
        return out


class ExportedSentenceEncoder:
    """Mean-pooled, L2-normalised sentence embeddings from the graph in ``linear/encoder/`` (pooling is in the graph)."""

    def __init__(self, directory: Path, *, backend: str, precision: str = "auto", batch_size: int = 64):
        try:
            settings = json.loads((directory / ENCODER_SETTINGS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StanceError(f"{directory}: no usable exported sentence encoder ({exc}); run stance-export on the model") from None
        self.encoder = Encoder(directory, settings["max_length"], pairs=False)
        self.run = open_graph(directory, backend, resolve_precision(backend, precision))
        self.dim = int(settings["dim"])
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if len(texts):
            for rows, arrays in self.encoder.batches(self.encoder.encode(texts), self.batch_size):
                out[rows] = self.run(arrays)
        return out
