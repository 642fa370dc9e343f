"""A per-target linear stance model on TF-IDF n-grams and frozen sentence embeddings.

all-MiniLM-L6-v2 was trained to carry sentence meaning in its *mean-pooled* tokens, not in
[CLS]; those frozen embeddings beside word and character n-grams make a linear model that
rivals a fine-tune on a few thousand tweets, and blending its probabilities with the
fine-tuned transformer's beats either alone. With ``embedding_weight: 0`` and
``classifier: svm`` it is the SemEval-2016 organisers' TF-IDF SVM baseline.

Saved as JSON (settings, vocabularies) and safetensors (idf, coefficients): no pickles.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sparse
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer

from stance.errors import StanceError
from stance.labels import LABELS

log = logging.getLogger(__name__)

SETTINGS_NAME = "linear.json"
WEIGHTS_NAME = "linear.safetensors"
# word 1-3 and character 2-5 n-grams: the SemEval-2016 organisers' feature set
ANALYZERS = {"word": ("word", (1, 3)), "char": ("char_wb", (2, 5))}
CLASSIFIERS = ("logreg", "svm")
DEFAULTS = {"classifier": "logreg", "C": 10.0, "embedding_weight": 2.0, "encoder": "minilm", "max_length": 128}


class SentenceEncoder:
    """Mean-pooled, L2-normalised token states of a frozen transformer (sentence-transformers' recipe)."""

    def __init__(self, source: str, max_length: int = 128, batch_size: int = 64):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
            self.model = AutoModel.from_pretrained(source, trust_remote_code=False).eval()
        except OSError as exc:
            raise StanceError(f"cannot load sentence encoder {source!r}: {str(exc).splitlines()[0]}") from None
        self.max_length, self.batch_size = max_length, batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        torch = self.torch
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        order = np.argsort([len(text) for text in texts], kind="stable")  # similar lengths pad less
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt")
                out[rows] = mean_pool(self.model(**batch).last_hidden_state.float(), batch["attention_mask"]).numpy()
        return out


def mean_pool(states, attention_mask):
    """The L2-normalised mean of the unmasked token states (torch tensors; stance-export traces it too)."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(states.dtype)
    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def encoder_source(encoder: str) -> str:
    """``minilm`` is the bundled all-MiniLM-L6-v2; anything else is a local directory or hub id."""
    from stance.models.build import bundled_minilm_path

    return bundled_minilm_path() if encoder == "minilm" else encoder


class LinearStance:
    """One linear classifier per target over [TF-IDF word 1-3 | char 2-5 | w * sentence embedding].

    ``predict_proba`` columns follow LABELS; it is exact for ``logreg`` and a softmax of
    margins for ``svm``. Targets not seen in training cannot be scored (see ``knows``).
    """

    def __init__(self, **settings):
        unknown = set(settings) - set(DEFAULTS) - {"blend_weight"}
        if unknown:
            raise StanceError(f"unknown linear model setting(s) {', '.join(sorted(unknown))}; use {', '.join(DEFAULTS)}")
        self.settings = {**DEFAULTS, **settings}
        if self.settings["classifier"] not in CLASSIFIERS:
            raise StanceError(f"unknown linear.classifier {self.settings['classifier']!r}; use {' or '.join(CLASSIFIERS)}")
        self.vectorizers: dict[str, TfidfVectorizer] = {}
        self.coef: dict[str, np.ndarray] = {}  # target -> (n_features, len(LABELS))
        self.intercept: dict[str, np.ndarray] = {}
        # turns texts into sentence embeddings: the torch SentenceEncoder of the settings unless a
        # loader sets another (stance.inference.exported_backend.ExportedSentenceEncoder)
        self.encoder = None

    @property
    def blend_weight(self) -> float:
        return float(self.settings.get("blend_weight") or 0.0)

    @property
    def needs_encoder(self) -> bool:
        return bool(self.settings["embedding_weight"])

    def knows(self, targets: Sequence[str]) -> np.ndarray:
        return np.array([target in self.coef for target in targets], dtype=bool)

    # ------------------------------------------------------------------ features

    def _embed(self, texts: Sequence[str]) -> np.ndarray | None:
        if not self.needs_encoder:
            return None
        if self.encoder is None:
            self.encoder = SentenceEncoder(encoder_source(self.settings["encoder"]), self.settings["max_length"])
        return self.encoder.encode(list(texts))

    def _features(self, texts: Sequence[str], embeddings: np.ndarray | None) -> sparse.csr_matrix:
        parts = [self.vectorizers[name].transform(texts) for name in ANALYZERS]
        if embeddings is not None:
            parts.append(sparse.csr_matrix(embeddings * float(self.settings["embedding_weight"])))
        return sparse.hstack(parts, format="csr")

    # ------------------------------------------------------------------ fit / predict

    def fit(self, texts: Sequence[str], targets: Sequence[str], labels: Sequence[int]) -> "LinearStance":
        """Fit shared vocabularies on all texts, then one classifier per target; labels are LABELS ids."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        texts, targets, labels = list(texts), np.asarray(targets), np.asarray(labels)
        for name, (analyzer, ngram_range) in ANALYZERS.items():
            self.vectorizers[name] = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, sublinear_tf=True).fit(texts)
        features = self._features(texts, self._embed(texts))
        for target in dict.fromkeys(targets):
            rows = np.flatnonzero(targets == target)
            if len(set(labels[rows])) < len(LABELS):
                log.warning("linear model: target %r lacks a label in training; left to the transformer", target)
                continue
            C = float(self.settings["C"])
            model = LogisticRegression(C=C, max_iter=3000) if self.settings["classifier"] == "logreg" else LinearSVC(C=C)
            model.fit(features[rows], labels[rows])
            self.coef[target] = model.coef_.T.astype(np.float32)
            self.intercept[target] = model.intercept_.astype(np.float32)
        if not self.coef:
            raise StanceError(f"linear model: no target has training examples of all of {', '.join(LABELS)}")
        return self

    def decision_function(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        texts, targets = list(texts), np.asarray(targets)
        unknown = sorted(set(targets[~self.knows(targets)]))
        if unknown:
            raise StanceError(f"linear model has no classifier for target(s) {', '.join(map(repr, unknown))}")
        features = self._features(texts, self._embed(texts))
        scores = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        for target in dict.fromkeys(targets):
            rows = np.flatnonzero(targets == target)
            scores[rows] = features[rows] @ self.coef[target] + self.intercept[target]
        return scores

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        scores = self.decision_function(texts, targets)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], targets: Sequence[str]) -> list[str]:
        return [LABELS[i] for i in self.decision_function(texts, targets).argmax(axis=1)]

    # ------------------------------------------------------------------ save / load

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        targets = list(self.coef)
        tensors = {f"idf.{name}": vectorizer.idf_.astype(np.float64) for name, vectorizer in self.vectorizers.items()}
        for i, target in enumerate(targets):  # safetensors keys are positions; names go in the JSON
            tensors[f"coef.{i}"], tensors[f"intercept.{i}"] = self.coef[target], self.intercept[target]
        save_file(tensors, str(directory / WEIGHTS_NAME))
        vocabularies = {name: {term: int(i) for term, i in v.vocabulary_.items()} for name, v in self.vectorizers.items()}
        settings = {"settings": self.settings, "labels": list(LABELS), "targets": targets, "vocabularies": vocabularies}
        (directory / SETTINGS_NAME).write_text(json.dumps(settings, ensure_ascii=False))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "LinearStance":
        directory = Path(directory)
        try:
            saved = json.loads((directory / SETTINGS_NAME).read_text())
            tensors = load_file(str(directory / WEIGHTS_NAME))
        except (OSError, ValueError) as exc:
            raise StanceError(f"cannot load linear model from {directory}: {exc}") from None
        if tuple(saved["labels"]) != LABELS:
            raise StanceError(f"{directory}: linear model labels {saved['labels']} are not {list(LABELS)}")
        model = cls(**saved["settings"])
        for name, (analyzer, ngram_range) in ANALYZERS.items():
            vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, sublinear_tf=True,
                                         vocabulary=saved["vocabularies"][name])
            vectorizer.idf_ = tensors[f"idf.{name}"]
            model.vectorizers[name] = vectorizer
        for i, target in enumerate(saved["targets"]):
            model.coef[target], model.intercept[target] = tensors[f"coef.{i}"], tensors[f"intercept.{i}"]
        return model
