"""Score a model, or any system's predictions file, on a split: ``evaluate(cfg) -> metrics``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from stance.artifacts import ModelDirectory
from stance.config.validate import validate_eval
from stance.data import load_splits
from stance.errors import DataError, StanceError
from stance.evaluation.calibration import calibration_scores
from stance.evaluation.metrics import compute_metrics
from stance.evaluation.reports import write_reports
from stance.io.atomic import atomic_write_text
from stance.io.checks import require_columns
from stance.io.formats import table_format
from stance.io.readers import iter_chunks
from stance.labels import LABEL_COLUMN, LABELS, PROBABILITY_COLUMNS, normalize_label

log = logging.getLogger(__name__)

PREDICTION_COLUMN = LABEL_COLUMN  # stance-label's output scores as it is
METRICS_FILE = "metrics.json"


def evaluate(cfg: DictConfig) -> dict:
    """Score ``cfg.model_path`` (or the labels in ``cfg.predictions``) on ``cfg.split`` of ``cfg.data``.

    Writes ``metrics.json``, ``report.md``, ``errors.csv``, ``confusion_matrix.png`` and, given
    probabilities, ``calibration.png`` to ``cfg.output_dir``.
    """
    validate_eval(cfg)
    split = cfg.split
    # scoring a predictions file pairs line i with row i, so no row may be dropped on load
    dataset = load_splits(cfg.data, seed=cfg.seed, splits=(split,), keep_all_rows=bool(cfg.predictions))[split]
    if cfg.predictions:
        predicted, proba = read_predictions(cfg.predictions, extra_aliases=dict(cfg.data.label_map or {}))
        if len(predicted) != len(dataset):
            raise DataError(
                f"{cfg.predictions}: {len(predicted)} predictions for {len(dataset)} {split} examples"
            )
        metrics = score_predictions(predicted, dataset)
        if proba is not None:
            metrics["calibration"] = calibration_scores(proba, dataset["label"])
        system = str(cfg.predictions)
    elif cfg.model_path:
        from stance.inference import StanceClassifier

        # the raw probabilities, so that ECE is reported before and after the model's temperature
        classifier = StanceClassifier.from_pretrained(
            cfg.model_path, device=cfg.device, precision=cfg.precision, allow_pickle=cfg.allow_pickle, calibrated=False
        )
        proba = predict_split(classifier, dataset, batch_size=cfg.batch_size, desc=f"scoring {split}")
        metrics = score_probabilities(proba, dataset, ModelDirectory.open(cfg.model_path).temperature)
        predicted = [LABELS[i] for i in proba.argmax(axis=1)]
        system = str(cfg.model_path)
    else:
        raise StanceError("give model_path=DIR (a trained model) or predictions=FILE (labels to score)")
    metrics["system"] = system
    metrics["split"] = split

    output_dir = Path(cfg.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output_dir / METRICS_FILE, json.dumps(metrics, indent=2))
    write_reports(output_dir, metrics, dataset, predicted, proba, title=f"{split}: {system}")
    log.info("f_avg %.4f  macro_f1 %.4f  accuracy %.4f  (n=%d); reports in %s",
             metrics["f_avg"], metrics["macro_f1"], metrics["accuracy"], metrics["n"], output_dir)
    return metrics


def predict_split(classifier, dataset, batch_size: int = 64, desc: str = "scoring") -> np.ndarray:
    """``classifier``'s probabilities for a loaded split, with a progress bar on a terminal."""
    texts, targets = list(dataset["text"]), list(dataset["target"])
    step = batch_size * 8  # long enough for length-sorted batches, short enough for a moving bar
    parts = []
    with tqdm(total=len(texts), desc=desc, unit=" statements", disable=None, leave=False) as bar:
        for start in range(0, len(texts), step):
            parts.append(classifier.predict_proba(texts[start:start + step], targets[start:start + step], batch_size=batch_size))
            bar.update(len(parts[-1]))
    return np.concatenate(parts) if parts else np.zeros((0, len(LABELS)), dtype=np.float32)


def score_probabilities(proba: np.ndarray, dataset, temperature: float | None = None) -> dict:
    """Metrics of the labels that ``proba`` picks, and their calibration before and after ``temperature``."""
    metrics = score_predictions([LABELS[i] for i in proba.argmax(axis=1)], dataset)
    metrics["calibration"] = calibration_scores(proba, dataset["label"], temperature)
    return metrics


def score_predictions(predicted, dataset) -> dict:
    """Metrics pooled over all rows (TweetEval's official F_avg pools its targets), and per target."""
    metrics = compute_metrics(predicted, dataset["label"])
    targets = np.asarray(dataset["target"])
    metrics["per_target"] = {}
    for target in dict.fromkeys(targets):
        rows = np.flatnonzero(targets == target)
        scores = compute_metrics([predicted[i] for i in rows], [dataset["label"][i] for i in rows])
        metrics["per_target"][str(target)] = {key: scores[key] for key in ("accuracy", "macro_f1", "f_avg", "n")}
    return metrics


def read_predictions(path: str | Path, extra_aliases: dict | None = None) -> tuple[list[str], np.ndarray | None]:
    """Predicted labels from a file: one label a line, or a table with a ``stance`` column; and the
    probabilities when the table has ``p_supportive``, ``p_reserved``, ``p_opposed`` (stance-label's output).

    Labels go through the same aliases as gold labels (and the data config's label_map),
    so 'FAVOR', 'against', or a data set's numeric codes all work.
    """
    path = Path(path)
    if table_format(path):
        labels, proba = [], []
        for chunk in iter_chunks(path):
            require_columns(chunk.frame.columns, [PREDICTION_COLUMN], path)
            for error in chunk.errors:
                if error:
                    raise DataError(f"{path} {error}")
            for offset, value in enumerate(chunk.frame[PREDICTION_COLUMN]):
                labels.append(normalize_label(value, where=chunk.row_name(offset, str(path)), extra_aliases=extra_aliases))
            if all(column in chunk.frame.columns for column in PROBABILITY_COLUMNS):
                proba.append(chunk.frame[list(PROBABILITY_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float))
        # probabilities only when every row has all three
        proba = np.concatenate(proba) if proba else None
        complete = proba is not None and len(proba) == len(labels) and not np.isnan(proba).any()
        return labels, proba if complete else None
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    # a blank line is a missing prediction, reported with its line number, not skipped
    return [normalize_label(line, where=f"{path} line {i}", extra_aliases=extra_aliases) for i, line in enumerate(lines, start=1)], None
