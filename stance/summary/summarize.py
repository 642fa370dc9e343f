"""``summarize(labeled_file, by=[...])``: where each group stands, as summary.csv, summary.md and figures."""

from __future__ import annotations

import logging
from pathlib import Path

from stance.errors import StanceError
from stance.io.atomic import atomic_output, atomic_write_text
from stance.io.formats import STDIN
from stance.summary.figures import plot_over_time, plot_shares
from stance.summary.markdown import render_summary
from stance.summary.table import PERIOD_COLUMN, count_groups, parse_time, summary_table

log = logging.getLogger(__name__)

TABLE_FILE = "summary.csv"
MARKDOWN_FILE = "summary.md"
SHARES_FILE = "shares.png"
OVER_TIME_FILE = "shares_over_time.png"
DEFAULT_MIN_N = 20


def default_out_dir(labeled_file: str | Path) -> Path:
    """``statements.labeled.csv`` -> ``statements.labeled.summary/`` beside it."""
    path = Path(labeled_file)
    return path.with_name(path.name.rsplit(".", 1)[0] + ".summary")


def summarize(labeled_file: str | Path, by: list[str] = (), time: str | None = None, out_dir: str | Path | None = None,
              min_n: int = DEFAULT_MIN_N, chunk_size: int = 50_000) -> dict:
    """Count labels per group of the ``by`` columns (and per period of ``time``, e.g. ``date:month``) in a
    file written by stance-label, and write the table, its Markdown and the figures to ``out_dir``.

    Returns the table (a DataFrame) and the written paths.
    """
    by = list(by)
    if out_dir is None:
        if str(labeled_file) == STDIN:
            raise StanceError("reading from stdin: give -o OUT_DIR")
        out_dir = default_out_dir(labeled_file)
    out_dir = Path(out_dir)
    time_unit = parse_time(time)[1] if time else None
    counts = count_groups(labeled_file, by, time, chunk_size)
    table = summary_table(counts, min_n)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = Path(str(labeled_file)).name
    with atomic_output(out_dir / TABLE_FILE, "w", newline="", encoding="utf-8") as handle:
        table.to_csv(handle, index=False)
    overall = summary_table(_over_all_periods(counts, by), min_n) if time else table  # the bars cover the whole time
    figures = [plot_shares(overall, by, min_n, out_dir / SHARES_FILE, f"{name}: label shares" + (f" by {', '.join(by)}" if by else ""))]
    if time:
        figures.append(plot_over_time(table, by, min_n, out_dir / OVER_TIME_FILE, f"{name}: label shares per {time_unit}"))
    markdown = out_dir / MARKDOWN_FILE
    atomic_write_text(markdown, render_summary(table, by, time_unit, min_n, name, [path.name for path in figures]))
    log.info("%d groups, %d labeled rows, %d with stance_error -> %s", len(table), table["n"].sum(), table["n_error"].sum(), out_dir)
    return {"table": table, "files": [out_dir / TABLE_FILE, markdown, *figures]}


def _over_all_periods(counts, by: list[str]):
    counts = counts.drop(columns=PERIOD_COLUMN)
    return counts.groupby(by, as_index=False).sum() if by else counts.sum().to_frame().T
