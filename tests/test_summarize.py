"""stance-summarize: label counts and shares per group of a labeled file, checked against hand counts."""

import csv

import pandas as pd
import pytest

from stance.cli.summarize import main as summarize_main
from stance.labeling import label_file
from stance.summary import summarize

HEADER = ["text", "country", "date", "stance", "p_supportive", "p_reserved", "p_opposed", "stance_error"]
ROWS = [
    ["a", "France", "2026-01-05", "supportive", "0.8", "0.1", "0.1", ""],
    ["b", "France", "2026-01-20", "supportive", "0.6", "0.3", "0.1", ""],
    ["c", "France", "2026-02-03", "opposed", "0.1", "0.2", "0.7", ""],
    ["", "France", "2026-02-04", "", "", "", "", "empty text"],
    ["d", "Italy", "2026-02-10", "reserved", "0.2", "0.7", "0.1", ""],
    ["e", "Italy", "not a date", "opposed", "0.0", "0.1", "0.9", ""],
    ["f", "", "2026-01-30", "reserved", "0.3", "0.4", "0.3", ""],
]


@pytest.fixture
def labeled_csv(tmp_path):
    path = tmp_path / "speeches.labeled.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *ROWS])
    return path


def test_table_by_country_matches_a_hand_count(labeled_csv):
    result = summarize(labeled_csv, by=["country"], min_n=3)
    table = pd.read_csv(labeled_csv.with_name("speeches.labeled.summary") / "summary.csv", keep_default_na=False).set_index("country")
    france = table.loc["France"]
    # France: 2 supportive, 1 opposed labeled; the empty text counted apart
    assert (france["n"], france["n_supportive"], france["n_reserved"], france["n_opposed"], france["n_error"]) == (3, 2, 0, 1, 1)
    assert france["share_supportive"] == pytest.approx(2 / 3, abs=1e-4)
    assert france["mean_p_supportive"] == pytest.approx((0.8 + 0.6 + 0.1) / 3, abs=1e-4)
    assert not france["few"]
    italy = table.loc["Italy"]
    assert (italy["n"], italy["n_reserved"], italy["n_opposed"], italy["share_opposed"], bool(italy["few"])) == (2, 1, 1, 0.5, True)
    assert table.loc["(missing)", "n_reserved"] == 1  # an empty country is a group, not dropped
    assert table["n"].sum() + table["n_error"].sum() == len(ROWS)
    assert {p.name for p in result["files"]} == {"summary.csv", "summary.md", "shares.png"}
    markdown = (result["files"][1]).read_text()
    assert "7 rows: 6 labeled, 1 with `stance_error`" in markdown
    assert "| France | 3 | 2 (67%) | 0 (0%) | 1 (33%) | 0.50 / 0.20 / 0.30 | 1 |" in markdown


def test_per_month_keeps_rows_without_a_date(labeled_csv, tmp_path):
    result = summarize(labeled_csv, by=["country"], time="date:month", out_dir=tmp_path / "out", min_n=1)
    table = result["table"].set_index(["country", "period"])
    assert table.loc[("France", "2026-01"), "n_supportive"] == 2
    assert table.loc[("France", "2026-02"), ["n_opposed", "n_error"]].tolist() == [1, 1]
    assert table.loc[("Italy", "(no date)"), "n_opposed"] == 1
    assert (tmp_path / "out" / "shares_over_time.png").stat().st_size > 10_000


def test_cli_labels_then_summarizes_by_country(tmp_path, tiny_model_dir, capsys, one_thread):
    statements = tmp_path / "statements.csv"
    countries = ["France", "Italy", "France", "Spain", "France", "Italy"]
    pd.DataFrame({"text": ["We will send troops.", "Not now.", "Never.", "", "Ready to help.", "We must study it."],
                  "country": countries}).to_csv(statements, index=False)
    labeled = tmp_path / "statements.labeled.csv"
    label_file(tiny_model_dir, statements, labeled, quiet=True)
    summarize_main([str(labeled), "--by", "country", "-o", str(tmp_path / "summary")])
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(tmp_path / "summary")
    table = pd.read_csv(tmp_path / "summary" / "summary.csv").set_index("country")
    rows = pd.read_csv(labeled, keep_default_na=False)
    for country, group in rows.groupby("country"):
        labeled_rows = group[group["stance"] != ""]
        assert table.loc[country, "n"] == len(labeled_rows)
        assert table.loc[country, "n_error"] == (group["stance_error"] != "").sum()
        for label in ("supportive", "reserved", "opposed"):
            assert table.loc[country, f"n_{label}"] == (labeled_rows["stance"] == label).sum()
    assert table.loc["Spain", ["n", "n_error"]].tolist() == [0, 1]  # its one statement was empty


def test_missing_column_is_one_line(labeled_csv):
    from stance.errors import DataError

    with pytest.raises(DataError, match=r"missing column 'speaker'; columns present: text, country"):
        summarize(labeled_csv, by=["speaker"])


def test_installed_command_explains_itself():
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([str(Path(sys.executable).parent / "stance-summarize"), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "Where each group stands" in result.stdout and "--by COLUMN" in result.stdout and "--time COLUMN[:UNIT]" in result.stdout
