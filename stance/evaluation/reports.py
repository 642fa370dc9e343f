"""Figures written beside metrics: the confusion matrix (calibration plots come next)."""

from __future__ import annotations

from pathlib import Path

from stance.labels import LABELS


def plot_confusion_matrix(matrix: list[list[int]], path: str | Path, title: str = "") -> Path:
    """Write a labeled confusion-matrix PNG (rows gold, columns predicted, LABELS order)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4.8, 4.2), dpi=120)
    image = axes.imshow(matrix, cmap="Blues")
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            axes.text(j, i, str(count), ha="center", va="center", color="white" if count > peak / 2 else "black")
    axes.set_xticks(range(len(LABELS)), LABELS)
    axes.set_yticks(range(len(LABELS)), LABELS)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title[-60:], fontsize=8)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path
