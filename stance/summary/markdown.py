"""summary.md: the summary table for reading, with what was counted apart."""

from __future__ import annotations

import pandas as pd

from stance.labels import LABELS
from stance.summary.figures import group_name
from stance.summary.table import NO_DATE, PERIOD_COLUMN


def render_summary(table: pd.DataFrame, by: list[str], time_unit: str | None, min_n: int, source: str, figures: list[str]) -> str:
    keys = [*by, *([PERIOD_COLUMN] if time_unit else [])]
    labeled, errors = int(table["n"].sum()), int(table["n_error"].sum())
    lines = [f"# Stance in {source}", "",
             f"{labeled + errors} rows: {labeled} labeled, {errors} with `stance_error` (counted apart, in `n_error`).",
             f"Grouped by {', '.join(by) or 'nothing (the whole file)'}{f', per {time_unit}' if time_unit else ''}.", ""]
    header = [*(keys or ["group"]), "n", *LABELS, "mean p (" + " / ".join(LABELS) + ")", "n_error"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(keys or ["group"]) + "---:|" * (len(header) - len(keys or ["group"])) + ""]
    for _, row in table.iterrows():
        groups = [str(row[key]) for key in keys] or [group_name(row, by)]
        counts = [f"{row[f'n_{label}']} ({row[f'share_{label}']:.0%})" if row["n"] else "0" for label in LABELS]
        means = " / ".join(f"{row[f'mean_p_{label}']:.2f}" for label in LABELS) if row["n"] else "–"
        lines.append("| " + " | ".join([*groups, f"{row['n']}{' *' if row['few'] else ''}", *counts, means, str(row["n_error"])]) + " |")
    lines += ["", f"\\* fewer than {min_n} labeled statements: read its shares with care."]
    if time_unit and (table[PERIOD_COLUMN] == NO_DATE).any():
        lines.append(f"{NO_DATE}: rows whose date could not be read; they are in the table but not in the plot over time.")
    lines += ["", *[f"![{name}]({name})" for name in figures]]
    return "\n".join(lines) + "\n"
