"""The reports of one scored split, written together: report.md, errors.csv, confusion_matrix.png, calibration.png."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stance.evaluation.calibration import reliability_bins
from stance.evaluation.confusion_plot import plot_confusion_matrix
from stance.evaluation.errors_table import write_errors
from stance.evaluation.reliability_plot import plot_reliability
from stance.evaluation.report_md import render_report
from stance.inference.predictors import scale_temperature
from stance.io.atomic import atomic_write_text
from stance.labels import LABELS

REPORT_FILE = "report.md"
ERRORS_FILE = "errors.csv"
CONFUSION_FILE = "confusion_matrix.png"
CALIBRATION_FILE = "calibration.png"


def write_reports(out_dir: str | Path, metrics: dict, dataset, predicted, proba: np.ndarray | None, title: str,
                  notes: list[str] = ()) -> list[Path]:
    """Write the reports of ``dataset`` (columns text, target, label ids) scored as ``metrics``.

    ``predicted`` are the predicted labels; ``proba`` the probabilities behind them (before
    temperature scaling when ``metrics['calibration']`` has a temperature), or None for labels alone.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gold = [LABELS[i] for i in dataset["label"]]
    calibration = metrics.get("calibration")
    temperature = calibration.get("temperature") if calibration else None
    shown = scale_temperature(proba, temperature) if temperature else proba  # what stance-label would write
    written = [
        plot_confusion_matrix(metrics["confusion_matrix"], out_dir / CONFUSION_FILE, f"{title} ({metrics['n']} statements)"),
        write_errors(out_dir / ERRORS_FILE, dataset["text"], dataset["target"], gold, predicted, shown),
    ]
    if proba is not None:
        labels = np.asarray(dataset["label"])
        if temperature:
            panels = [("before scaling (T = 1)", reliability_bins(proba, labels), calibration["ece_before"]),
                      (f"after temperature scaling (T = {temperature:.2f})", reliability_bins(shown, labels), calibration["ece_after"])]
        else:
            panels = [("probabilities as given", reliability_bins(proba, labels), calibration["ece"])]
        written.append(plot_reliability(panels, out_dir / CALIBRATION_FILE, f"{title} ({metrics['n']} statements)"))
    report = out_dir / REPORT_FILE
    atomic_write_text(report, render_report(metrics, title, notes, files=[path.name for path in written]))
    return [report, *written]
