"""Score a model, or any system's predictions file, on a split: ``evaluate(cfg) -> metrics``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from stance.config.validate import validate_eval
from stance.data import load_splits
from stance.errors import DataError, StanceError
from stance.evaluation.metrics import compute_metrics
from stance.evaluation.reports import plot_confusion_matrix
from stance.io.checks import require_columns
from stance.io.formats import table_format
from stance.io.readers import iter_chunks
from stance.labels import normalize_label

log = logging.getLogger(__name__)

PREDICTION_COLUMN = "stance"


def evaluate(cfg: DictConfig) -> dict:
    """Score ``cfg.model_path`` (or the labels in ``cfg.predictions``) on ``cfg.split`` of ``cfg.data``.

    Writes ``metrics.json`` and ``confusion_matrix.png`` to ``cfg.output_dir``.
    """
    validate_eval(cfg)
    split = cfg.split
    # scoring a predictions file pairs line i with row i, so no row may be dropped on load
    dataset = load_splits(cfg.data, seed=cfg.seed, splits=(split,), keep_all_rows=bool(cfg.predictions))[split]
    if cfg.predictions:
        predicted = read_predictions(cfg.predictions, extra_aliases=dict(cfg.data.label_map or {}))
        if len(predicted) != len(dataset):
            raise DataError(
                f"{cfg.predictions}: {len(predicted)} predictions for {len(dataset)} {split} examples"
            )
        metrics = score_predictions(predicted, dataset)
        metrics["system"] = str(cfg.predictions)
    elif cfg.model_path:
        from stance.inference import StanceClassifier

        classifier = StanceClassifier.from_pretrained(
            cfg.model_path, device=cfg.device, precision=cfg.precision, allow_pickle=cfg.allow_pickle
        )
        metrics = evaluate_dataset(classifier, dataset, batch_size=cfg.batch_size)
        metrics["system"] = str(cfg.model_path)
    else:
        raise StanceError("give model_path=DIR (a trained model) or predictions=FILE (labels to score)")
    metrics["split"] = split

    output_dir = Path(cfg.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_confusion_matrix(metrics["confusion_matrix"], output_dir / "confusion_matrix.png", title=f"{split}: {metrics['system']}")
    log.info("f_avg %.4f  macro_f1 %.4f  accuracy %.4f  (n=%d)", metrics["f_avg"], metrics["macro_f1"], metrics["accuracy"], metrics["n"])
    return metrics


def evaluate_dataset(classifier, dataset, batch_size: int = 64) -> dict:
    """Metrics of ``classifier`` on a loaded split (columns text, target, label)."""
    return score_predictions(classifier.predict(dataset["text"], dataset["target"], batch_size=batch_size), dataset)


def score_predictions(predicted, dataset) -> dict:
    """Metrics pooled over all rows (TweetEval's official F_avg pools its targets), and per target."""
    metrics = compute_metrics(predicted, dataset["label"])
    targets = np.asarray(dataset["target"])
    metrics["per_target"] = {}
    for target in dict.fromkeys(targets):
        rows = np.flatnonzero(targets == target)
        scores = compute_metrics([predicted[i] for i in rows], [dataset["label"][i] for i in rows])
        metrics["per_target"][str(target)] = {"f_avg": scores["f_avg"], "macro_f1": scores["macro_f1"], "n": scores["n"]}
    return metrics


def read_predictions(path: str | Path, extra_aliases: dict | None = None) -> list[str]:
    """Predicted labels from a file: one label a line, or a table with a ``stance`` column.

    Labels go through the same aliases as gold labels (and the data config's label_map),
    so 'FAVOR', 'against', or a data set's numeric codes all work.
    """
    path = Path(path)
    if table_format(path):
        labels = []
        for chunk in iter_chunks(path):
            require_columns(chunk.frame.columns, [PREDICTION_COLUMN], path)
            for error in chunk.errors:
                if error:
                    raise DataError(f"{path} {error}")
            for offset, value in enumerate(chunk.frame[PREDICTION_COLUMN]):
                labels.append(normalize_label(value, where=chunk.row_name(offset, str(path)), extra_aliases=extra_aliases))
        return labels
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    # a blank line is a missing prediction, reported with its line number, not skipped
    return [normalize_label(line, where=f"{path} line {i}", extra_aliases=extra_aliases) for i, line in enumerate(lines, start=1)]
