"""report.md: headline scores, per class, the confusion matrix, per target and calibration, in Markdown."""

from __future__ import annotations

from stance.labels import LABELS


def _row(cells) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def render_report(metrics: dict, title: str, notes: list[str] = (), files: list[str] = ()) -> str:
    """``metrics`` as from stance.evaluation.scoring (per_class, confusion_matrix, per_target, calibration)."""
    lines = [f"# {title}", "", *notes, *([""] if notes else []),
             _row(["statements", "accuracy", "macro-F1", "F_avg"]), _row(["---:"] * 4),
             _row([metrics["n"], f"{metrics['accuracy']:.3f}", f"{metrics['macro_f1']:.3f}", f"{metrics['f_avg']:.3f}"]), "",
             "F_avg is the mean of F1(supportive) and F1(opposed), the SemEval-2016 / TweetEval score.", "",
             "## Per class", "", _row(["label", "precision", "recall", "F1", "support"]), _row(["---", "---:", "---:", "---:", "---:"])]
    for label in LABELS:
        scores = metrics["per_class"][label]
        lines.append(_row([label, f"{scores['precision']:.3f}", f"{scores['recall']:.3f}", f"{scores['f1']:.3f}", scores["support"]]))
    lines += ["", "## Confusion matrix", "", "Rows gold, columns predicted.", "",
              _row(["gold \\ predicted", *LABELS]), _row(["---", *["---:"] * len(LABELS)])]
    lines += [_row([label, *counts]) for label, counts in zip(LABELS, metrics["confusion_matrix"])]
    per_target = metrics.get("per_target") or {}
    if len(per_target) > 1:
        lines += ["", "## Per target", "", _row(["target", "statements", "accuracy", "macro-F1", "F_avg"]),
                  _row(["---", "---:", "---:", "---:", "---:"])]
        for target, scores in sorted(per_target.items(), key=lambda item: -item[1]["n"]):
            lines.append(_row([target, scores["n"], f"{scores['accuracy']:.3f}", f"{scores['macro_f1']:.3f}", f"{scores['f_avg']:.3f}"]))
    calibration = metrics.get("calibration")
    if calibration:
        lines += ["", "## Calibration", ""]
        if "temperature" in calibration:
            lines += [f"Temperature T = {calibration['temperature']:.3f}, fitted on dev by minimising the negative "
                      "log-likelihood; probabilities are softmax(log p / T), labels are unchanged.", "",
                      _row(["probabilities", "ECE", "NLL"]), _row(["---", "---:", "---:"]),
                      _row(["before scaling", f"{calibration['ece_before']:.4f}", f"{calibration['nll_before']:.4f}"]),
                      _row(["after scaling", f"{calibration['ece_after']:.4f}", f"{calibration['nll_after']:.4f}"])]
        else:
            lines += [_row(["probabilities", "ECE", "NLL"]), _row(["---", "---:", "---:"]),
                      _row(["as given", f"{calibration['ece']:.4f}", f"{calibration['nll']:.4f}"])]
        lines += ["", f"ECE: expected calibration error over {calibration['ece_bins']} equal-width confidence bins."]
    if files:
        lines += ["", "## Files", "", *[f"- [{name}]({name})" for name in files]]
    return "\n".join(lines) + "\n"
