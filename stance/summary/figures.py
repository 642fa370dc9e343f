"""Figures of a summary table: label shares per group (stacked bars) and over time (lines)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stance.labels import LABELS
from stance.plots import LABEL_COLORS, save, subplots
from stance.summary.table import NO_DATE, PERIOD_COLUMN

MAX_BARS = 40  # more would not be legible; the largest groups are kept and the title says so
MAX_LINES = 8


def group_name(row, by: list[str]) -> str:
    return " / ".join(str(row[column]) for column in by) if by else "all"


def plot_shares(table: pd.DataFrame, by: list[str], min_n: int, path: str | Path, title: str) -> Path:
    """One horizontal bar per group, split by label share, sorted by share supportive; pale: few statements."""
    import matplotlib

    labeled = table[table["n"] > 0]
    rows = labeled.nlargest(MAX_BARS, "n").sort_values(["share_supportive", "share_opposed"], ascending=[True, False])
    names = [f"{group_name(row, by)}  (n={row['n']})" for _, row in rows.iterrows()]
    figure, axes = subplots(figsize=(9, 1.9 + 0.32 * len(rows)), dpi=120)
    left = np.zeros(len(rows))
    few = rows["few"].to_numpy()
    for label in LABELS:
        shares = rows[f"share_{label}"].to_numpy()
        bars = axes.barh(range(len(rows)), shares, left=left, color=LABEL_COLORS[label], edgecolor="white", linewidth=0.5)
        for bar, is_few in zip(bars, few):
            bar.set_alpha(0.4 if is_few else 1.0)
        for y, (start, share, is_few) in enumerate(zip(left, shares, few)):
            if share >= 0.08:  # a narrower segment has no room for its number
                axes.text(start + share / 2, y, f"{share:.0%}", ha="center", va="center", fontsize=8,
                          color="black" if is_few or label == "reserved" else "white")
        left += shares
    axes.set_yticks(range(len(rows)), names, fontsize=8)
    axes.set_ylim(-0.6, len(rows) - 0.4)
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes.set_xlabel("share of labeled statements")
    shown = f" (the {len(rows)} largest of {len(labeled)} groups)" if len(rows) < len(labeled) else ""
    axes.set_title(f"{title}{shown}\npale bars: fewer than {min_n} statements", fontsize=10)
    handles = [matplotlib.patches.Patch(color=LABEL_COLORS[label], label=label) for label in LABELS]
    figure.legend(handles=handles, ncol=3, loc="outside lower center", frameon=False, fontsize=8)
    return save(figure, path)


def plot_over_time(table: pd.DataFrame, by: list[str], min_n: int, path: str | Path, title: str) -> Path:
    """Share of each label per period: three lines for the whole file, or one panel per label with a
    line per group (the largest MAX_LINES). Hollow points: periods with few statements."""
    import matplotlib

    dated = table[(table[PERIOD_COLUMN] != NO_DATE) & (table["n"] > 0)]
    periods = sorted(dated[PERIOD_COLUMN].unique())
    position = {period: i for i, period in enumerate(periods)}
    if by:
        sizes = dated.groupby(by)["n"].sum().nlargest(MAX_LINES)
        figure, panels = subplots(1, len(LABELS), figsize=(15, 4.8), dpi=120, sharey=True)
        for axes, label in zip(panels, LABELS):
            for key in sizes.index:
                key = key if isinstance(key, tuple) else (key,)
                rows = dated[np.logical_and.reduce([dated[column] == value for column, value in zip(by, key)])]
                _line(axes, rows, position, label, " / ".join(map(str, key)), color=None)
            axes.set_title(f"share {label}")
        others = dated.groupby(by).ngroups - len(sizes)
        panels[-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5),
                          title=f"+{others} smaller groups not shown" if others > 0 else None, title_fontsize=7)
    else:
        figure, axes = subplots(figsize=(8, 4.8), dpi=120)
        panels = [axes]
        for label in LABELS:
            _line(axes, dated, position, label, label, color=LABEL_COLORS[label])
        axes.legend(fontsize=8)
    for axes in panels:
        axes.set_xticks(range(len(periods)), periods, rotation=45, ha="right", fontsize=8)
        axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        axes.set_ylim(0, 1)
        axes.grid(alpha=0.3)
    undated = int(table.loc[table[PERIOD_COLUMN] == NO_DATE, "n"].sum())
    note = f"; {undated} labeled statement{'s' if undated > 1 else ''} without a readable date not shown" if undated else ""
    figure.suptitle(f"{title}\nhollow points: fewer than {min_n} statements{note}", fontsize=10)
    return save(figure, path)


def _line(axes, rows: pd.DataFrame, position: dict, label: str, name: str, color) -> None:
    rows = rows.sort_values(PERIOD_COLUMN)
    x = [position[p] for p in rows[PERIOD_COLUMN]]
    y = rows[f"share_{label}"].to_numpy()
    (line,) = axes.plot(x, y, marker="o", color=color, label=name)
    few = rows["few"].to_numpy()
    axes.scatter(np.asarray(x)[few], y[few], s=60, facecolors="white", edgecolors=line.get_color(), zorder=3)
