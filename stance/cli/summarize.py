"""``stance-summarize``: label shares per group of a labeled file (argparse shim over stance.summary.summarize)."""

from __future__ import annotations

import logging
import sys

from stance.cli.errors import run_cli


def build_parser():
    import argparse

    parser = argparse.ArgumentParser(
        prog="stance-summarize",
        description="Where each group stands: count the labels of a file written by stance-label per group "
        "(any of its columns) and write summary.csv (per group: n, count and share of each label, mean "
        "probabilities, rows with stance_error), summary.md, shares.png and, with --time, shares_over_time.png.",
        epilog="example: stance-summarize statements.labeled.csv --by country --time date:month",
    )
    parser.add_argument("input", metavar="LABELED_FILE", help="CSV, TSV, JSONL or Parquet written by stance-label; - reads JSONL from stdin")
    parser.add_argument("--by", action="append", default=[], metavar="COLUMN",
                        help="group by this column; repeat for groups of several columns (--by country --by speaker)")
    parser.add_argument("--time", metavar="COLUMN[:UNIT]",
                        help="also per period of this date column; UNIT is day, week, month (default), quarter or year")
    parser.add_argument("-o", "--out-dir", metavar="OUT_DIR", help="where to write (default: LABELED_FILE without its extension + .summary/)")
    parser.add_argument("--min-n", type=int, default=20, help="groups with fewer labeled statements are marked (default: 20)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format="%(message)s", stream=sys.stderr)
    result = run_cli(lambda: _summarize(args), debug=args.debug)
    print(result["files"][0].parent)  # last line: the output folder, for scripts to pick up


def _summarize(args) -> dict:
    from stance.summary import summarize

    return summarize(args.input, by=args.by, time=args.time, out_dir=args.out_dir, min_n=args.min_n)
