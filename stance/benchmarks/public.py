"""Public benchmarks (TweetEval stance, RUW): train through ``stance.training``, score test once.

Model selection (epoch, blend weight, the baseline's C) sees the val split only. The test
score is the one the training run wrote to ``metrics.json`` (the loader keeps every test row;
TweetEval's official score pools the five targets' 1,249 rows), with
F_avg = (F1 favor + F1 against) / 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Sequence

from stance.benchmarks.recipes import train_recipe
from stance.data import load_splits
from stance.errors import StanceError
from stance.evaluation.metrics import compute_metrics
from stance.evaluation.scoring import score_predictions
from stance.io.atomic import atomic_write_text
from stance.models.linear import LinearStance

log = logging.getLogger(__name__)

# TweetEval leaderboard, stance, test F_avg x 100 (Barbieri et al. 2020; Loureiro et al. 2022)
PUBLISHED = {
    "TimeLMs-2021": 72.9,
    "BERTweet": 71.2,
    "RoBERTa-retrained": 69.3,
    "RoBERTa-base": 68.0,
    "SVM": 67.3,
    "FastText": 65.4,
}
BASELINE_C = (0.1, 0.3, 1.0, 3.0)  # the TF-IDF SVM's C, chosen on val
RESULTS_NAME = "results.json"


def tfidf_svm_baseline(splits, test) -> dict:
    """The SemEval organisers' recipe: per-target linear SVM on word 1-3 + char 2-5 TF-IDF; C picked on val."""
    started = time.perf_counter()
    train, dev = splits["train"], splits["dev"]
    dev_scores, models = {}, {}
    for C in BASELINE_C:
        models[C] = LinearStance(classifier="svm", C=C, embedding_weight=0).fit(train["text"], train["target"], train["label"])
        dev_scores[C] = compute_metrics(models[C].predict(dev["text"], dev["target"]), dev["label"])["f_avg"]
    best = max(dev_scores, key=lambda C: (dev_scores[C], -C))
    result = score_predictions(models[best].predict(test["text"], test["target"]), test)
    return {"C": best, "dev_f_avg_by_C": {f"{C:g}": value for C, value in dev_scores.items()}, "seconds": round(time.perf_counter() - started, 1), "test": result}


def table(rows: dict[str, float]) -> list[dict]:
    """Systems by test F_avg (x 100), best first."""
    return [{"system": name, "test_f_avg": round(value, 1)} for name, value in sorted(rows.items(), key=lambda kv: -kv[1])]


def run(
    data_dir: str | Path, out: str | Path, experiment: str | None = None, overrides: Sequence[str] = (),
    data: str = "tweeteval_stance", published: dict[str, float] | None = PUBLISHED,
) -> dict:
    """Train (``experiment`` or plain ``data=<data>``), score test once, write ``results.json``.

    The table sets this run and the TF-IDF SVM beside ``published`` (test F_avg x 100).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg, metrics, cpu_seconds = train_recipe(out / "run", [
        f"data={data}", *([f"experiment={experiment}"] if experiment else []), f"data.path={Path(data_dir).resolve()}", *overrides,
    ])

    result = metrics["test"]  # scored once, by the training run, on the rows the loader gives
    splits = load_splits(cfg.data, seed=cfg.seed)
    baseline = tfidf_svm_baseline(splits, splits["test"])

    name = f"stance {experiment or 'data=' + data} ({cfg.model.kind}, seed {cfg.seed})"
    results = {
        "test_f_avg": result["f_avg"],
        "test": result,
        "dev_f_avg": metrics["dev"]["f_avg"],
        "experiment": experiment,
        "overrides": list(overrides),
        "seed": cfg.seed,
        "train_seconds": metrics["train_seconds"],
        "train_cpu_seconds": round(cpu_seconds, 1),
        "linear_blend": metrics.get("linear_blend"),
        "model_dir": metrics["model_dir"],
        "tfidf_svm_baseline": baseline,
        "table": table({**(published or {}), name: 100 * result["f_avg"], "TF-IDF SVM (this run)": 100 * baseline["test"]["f_avg"]}),
    }
    atomic_write_text(out / RESULTS_NAME, json.dumps(results, indent=2))
    log.info("test F_avg %.4f (dev %.4f); TF-IDF SVM %.4f; %s", result["f_avg"], results["dev_f_avg"],
             baseline["test"]["f_avg"], out / RESULTS_NAME)
    return results


def main(argv: Sequence[str] | None, data: str, description: str) -> int:
    """The command line of scripts/bench_*.py: one-line errors, exit 2; prints the test scores."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", required=True, help="the data set's folder (as read by conf/data/<data>.yaml)")
    parser.add_argument("--out", required=True, help="folder for results.json and the run's model")
    parser.add_argument("--experiment", help="a recipe from conf/experiment/")
    parser.add_argument("overrides", nargs="*", help="further Hydra overrides, e.g. seed=7")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        results = run(args.data_dir, args.out, args.experiment, args.overrides, data=data,
                      published=PUBLISHED if data == "tweeteval_stance" else None)
    except StanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for target, scores in results["test"]["per_target"].items():
        print(f"{target:<34} macro-F1 {scores['macro_f1']:.4f}  F_avg {scores['f_avg']:.4f}")
    for row in results["table"]:
        print(f"{row['system']:<44} test F_avg {row['test_f_avg']:5.1f}")
    return 0
