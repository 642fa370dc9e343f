"""The real-statement benchmark: how a model reads real public statements on troop deployment.

Trains a recipe on the bundled corpus (through stance.training, as ``stance-train`` does) for
one or more seeds, or takes trained models, and scores the real statements at
``../shared/datasets/real-statements`` once per model: macro-F1, F_avg, per class, per
annotator confidence (``clear`` / ``arguable``), a confusion matrix, and the misread
statements for error analysis. The set is never trained on; it is read from its path and
nothing of it is written into the repository.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from stance.benchmarks.recipes import train_recipe
from stance.config import compose
from stance.data import load_splits
from stance.errors import StanceError
from stance.evaluation.metrics import compute_metrics
from stance.evaluation.reports import plot_confusion_matrix
from stance.evaluation.scoring import score_predictions
from stance.inference import StanceClassifier
from stance.io.atomic import atomic_output, atomic_write_text
from stance.io.readers import read_frame
from stance.labels import LABELS

log = logging.getLogger(__name__)

DATA = "real_statements"
RESULTS_NAME = "results.json"
HEADLINE = ("macro_f1", "f_avg", "accuracy", "macro_f1_clear", "macro_f1_arguable")


def score_real(model_dir: str | Path, out: str | Path, data_dir: str | Path | None = None) -> dict:
    """Score ``model_dir`` on the real statements; write ``metrics.json``, ``confusion_matrix.png``, ``misread.csv`` to ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data_cfg = compose("eval", [f"data={DATA}", *([f"data.path={Path(data_dir).resolve()}"] if data_dir else []), "output_dir=."]).data
    statements = load_splits(data_cfg, splits=("test",), keep_all_rows=True)["test"]
    details = read_frame(Path(data_cfg.path) / data_cfg.test)  # speaker, confidence, note: row i is statement i
    if len(details) != len(statements):
        raise StanceError(f"{data_cfg.path}: {len(details)} rows but {len(statements)} statements loaded")

    classifier = StanceClassifier.from_pretrained(model_dir, precision="fp32")
    proba = classifier.predict_proba(statements["text"], statements["target"])
    predicted = [LABELS[i] for i in proba.argmax(axis=1)]
    gold = [LABELS[i] for i in statements["label"]]
    metrics = score_predictions(predicted, statements)
    metrics.pop("per_target")  # one target
    confidence = details["confidence"].to_numpy() if "confidence" in details else np.full(len(gold), "")
    metrics["by_confidence"] = {}
    for level in sorted(set(confidence) - {""}):
        rows = np.flatnonzero(confidence == level)
        scores = compute_metrics([predicted[i] for i in rows], [gold[i] for i in rows])
        metrics["by_confidence"][str(level)] = {"macro_f1": scores["macro_f1"], "accuracy": scores["accuracy"], "n": scores["n"]}
        metrics[f"macro_f1_{level}"] = scores["macro_f1"]
    metrics["model_dir"] = str(model_dir)
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
    plot_confusion_matrix(metrics["confusion_matrix"], out / "confusion_matrix.png", title=f"real statements: {model_dir}")

    misread = details.assign(gold=gold, predicted=predicted, **{f"p_{label}": proba[:, i].round(4) for i, label in enumerate(LABELS)})
    misread = misread[misread["gold"] != misread["predicted"]]
    misread = misread.assign(p_predicted=proba[misread.index, [LABELS.index(p) for p in misread["predicted"]]].round(4))
    first = [c for c in ("id", "gold", "predicted", "p_predicted", "confidence", "text") if c in misread]
    misread = misread[first + [c for c in misread if c not in first]].sort_values("p_predicted", ascending=False)
    with atomic_output(out / "misread.csv", "w", newline="", encoding="utf-8") as handle:
        misread.to_csv(handle, index=False)  # the confidently wrong first: what an annotator reviews
    log.info("real statements: macro-F1 %.4f (clear %s), %d misread -> %s", metrics["macro_f1"],
             f"{metrics.get('macro_f1_clear', float('nan')):.4f}", len(misread), out / "misread.csv")
    return metrics


def run(out: str | Path, overrides: Sequence[str] = (), seeds: Sequence[int] = (42,), model_dirs: Sequence[str] = (),
        data_dir: str | Path | None = None) -> dict:
    """Train the recipe (``overrides`` on top of ``stance-train``'s defaults) once per seed, or take
    ``model_dirs``; score each on the real statements; write ``results.json`` with mean and spread."""
    out = Path(out)
    runs = []
    if model_dirs:
        for i, model_dir in enumerate(model_dirs):
            runs.append({"model_dir": str(model_dir), "real": score_real(model_dir, out / f"model-{i}", data_dir)})
    else:
        for seed in seeds:
            cfg, metrics, cpu_seconds = train_recipe(out / f"seed-{seed}" / "run", [*overrides, f"seed={seed}"])
            real = score_real(metrics["model_dir"], out / f"seed-{seed}", data_dir)
            runs.append({"seed": seed, "model_dir": metrics["model_dir"], "train_seconds": metrics["train_seconds"],
                         "train_cpu_seconds": round(cpu_seconds, 1), "bundled_test_macro_f1": metrics["test"]["macro_f1"],
                         "bundled_dev_macro_f1": metrics["dev"]["macro_f1"], "real": real})
    summary = {}
    for key in HEADLINE + (("bundled_test_macro_f1",) if not model_dirs else ()):
        values = [r["real"].get(key) if key in HEADLINE else r[key] for r in runs]
        values = [v for v in values if v is not None]
        if values:
            summary[key] = {"mean": float(np.mean(values)), "min": float(min(values)), "max": float(max(values)), "n": len(values)}
    results = {"overrides": list(overrides), "summary": summary, "runs": runs}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / RESULTS_NAME, json.dumps(results, indent=2))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a recipe (trained here on the bundled corpus) or trained models on real public statements.")
    parser.add_argument("--out", required=True, help="folder for results.json, per-model metrics, confusion matrices, misread.csv")
    parser.add_argument("--seeds", type=lambda text: [int(seed) for seed in text.split(",")], default=[42],
                        help="train the recipe once per seed, comma-separated (default: 42)")
    parser.add_argument("--model", action="append", default=[], metavar="DIR", help="score this trained model instead of training (repeatable)")
    parser.add_argument("--data-dir", help="the real-statements folder (default: $STANCE_DATASETS or ../shared/datasets)/real-statements")
    parser.add_argument("overrides", nargs="*", help="stance-train overrides for the recipe, e.g. trainer.max_epochs=4")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        results = run(args.out, args.overrides, args.seeds, args.model, args.data_dir)
    except StanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for key, values in results["summary"].items():
        print(f"{key:<24} mean {values['mean']:.4f}  min {values['min']:.4f}  max {values['max']:.4f}  (n={values['n']})")
    return 0
