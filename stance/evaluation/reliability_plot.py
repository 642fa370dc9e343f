"""calibration.png: reliability diagrams before and after temperature scaling."""

from __future__ import annotations

from pathlib import Path

from stance.plots import LABEL_COLORS, save, subplots

# three labels: the top probability is never below 1/3
LOWEST_CONFIDENCE = 1 / 3


def plot_reliability(panels, path: str | Path, title: str) -> Path:
    """``panels``: (name, bins as from calibration.reliability_bins, ECE), e.g. before and after scaling.

    Bars are the accuracy of each confidence bin, hatched boxes the gap to its mean confidence;
    a calibrated model's bars meet the diagonal. The count of statements is above each bar.
    """
    figure, axes_row = subplots(1, len(panels), figsize=(5.4 * len(panels), 4.8), dpi=120, squeeze=False)
    for axes, (name, bins, ece) in zip(axes_row[0], panels):
        width = bins[0]["high"] - bins[0]["low"]
        filled = [b for b in bins if b["count"]]
        centres = [b["low"] + width / 2 for b in filled]
        accuracy = [b["accuracy"] for b in filled]
        axes.bar(centres, accuracy, width=width * 0.92, color=LABEL_COLORS["supportive"], label="accuracy")
        axes.bar(centres, [b["confidence"] - b["accuracy"] for b in filled], bottom=accuracy, width=width * 0.92,
                 color="none", edgecolor=LABEL_COLORS["opposed"], hatch="//", label="gap to mean confidence")
        for x, b in zip(centres, filled):
            axes.text(x, max(b["accuracy"], b["confidence"]) + 0.015, str(b["count"]), ha="center", fontsize=7)
        axes.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=1, label="perfectly calibrated")
        axes.set_xlim(LOWEST_CONFIDENCE - 0.03, 1.0)
        axes.set_ylim(0, 1.08)
        axes.set_xlabel("confidence (probability of the predicted label)")
        axes.set_ylabel("accuracy")
        axes.set_title(f"{name}: ECE {ece:.3f}")
    figure.suptitle(f"{title}\nnumbers above the bars: statements per confidence bin", fontsize=10)
    figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return save(figure, path)
