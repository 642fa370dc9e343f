"""confusion_matrix.png: counts beside row-normalised shares, rows gold, columns predicted."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stance.labels import LABELS
from stance.plots import save, subplots


def plot_confusion_matrix(matrix, path: str | Path, title: str) -> Path:
    """Left the counts; right each gold row as shares, so a small class's errors show as plainly as a large one's."""
    counts = np.asarray(matrix, dtype=int)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    figure, panels = subplots(1, 2, figsize=(10, 4.4), dpi=120)
    for axes, values, name, cell, scale in (
        (panels[0], counts, "counts", lambda i, j: f"{counts[i, j]}", None),
        (panels[1], shares, "share of each gold row", lambda i, j: f"{shares[i, j]:.0%}\n({counts[i, j]}/{totals[i, 0]})", "{x:.0%}"),
    ):
        peak = values.max() or 1
        image = axes.imshow(values, cmap="Blues", vmin=0, vmax=peak)
        for i in range(len(LABELS)):
            for j in range(len(LABELS)):
                axes.text(j, i, cell(i, j), ha="center", va="center", fontsize=10,
                          color="white" if values[i, j] > peak / 2 else "black")
        axes.set_xticks(range(len(LABELS)), LABELS)
        axes.set_yticks(range(len(LABELS)), [f"{label}\n(n={totals[k, 0]})" for k, label in enumerate(LABELS)])
        axes.set_xlabel("predicted")
        axes.set_ylabel("gold")
        axes.set_title(name)
        figure.colorbar(image, ax=axes, fraction=0.046, format=scale)
    figure.suptitle(title)
    return save(figure, path)
