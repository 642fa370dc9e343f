"""One table across the jobs of a multirun (``stance-train -m`` / ``stance-eval -m``): ``summary.csv`` in the sweep directory.

A Hydra callback (``hydra.callbacks`` in conf/train.yaml and conf/eval.yaml): when the sweep
ends, each job directory gives a row with its overrides and its scores, read from the files the
job wrote; a job directory without scores keeps its row, saying so. A job that fails with an
error stops the sweep before this runs (Hydra's behaviour), so then no summary is written.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml
from hydra.experimental.callback import Callback

from stance.artifacts import METRICS_FILE, MODEL_DIRNAME
from stance.io.atomic import atomic_output

SUMMARY_FILE = "summary.csv"
TRAIN_METRICS = Path(MODEL_DIRNAME) / METRICS_FILE  # stance-train: dev and test scores of the kept epoch
EVAL_METRICS = Path(METRICS_FILE)  # stance-eval: the scored split
SCORES = ("macro_f1", "f_avg", "accuracy")


class SweepSummary(Callback):
    def on_multirun_end(self, config, **kwargs) -> None:
        path = write_summary(config.hydra.sweep.dir)
        if path is not None:
            print(f"multirun summary: {path}")


def write_summary(sweep_dir: str | Path) -> Path | None:
    """Write ``summary.csv`` (one row per job, in job order) into ``sweep_dir``; None when it holds no jobs."""
    sweep_dir = Path(sweep_dir)
    jobs = sorted((p for p in sweep_dir.iterdir() if (p / ".hydra" / "overrides.yaml").is_file()),
                  key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name)) if sweep_dir.is_dir() else []
    if not jobs:
        return None
    rows = [_job_row(job) for job in jobs]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    path = sweep_dir / SUMMARY_FILE
    with atomic_output(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _job_row(job: Path) -> dict:
    overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text(encoding="utf-8")) or []
    row = {"job": job.name, "overrides": " ".join(overrides)}
    if (job / TRAIN_METRICS).is_file():
        metrics = json.loads((job / TRAIN_METRICS).read_text(encoding="utf-8"))
        row["status"] = "ok"
        row.update({f"{split}_{score}": metrics[split].get(score) for split in ("dev", "test") for score in SCORES})
        row["model_dir"] = str(job / TRAIN_METRICS.parent)
    elif (job / EVAL_METRICS).is_file():
        metrics = json.loads((job / EVAL_METRICS).read_text(encoding="utf-8"))
        row["status"] = "ok"
        row.update({score: metrics.get(score) for score in (*SCORES, "n")})
    else:
        row["status"] = "no scores written (failed or killed: see its log)"
    return row
