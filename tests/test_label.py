"""stance-label: every format, every row kept, one-line errors, atomic and resumable output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from stance import LABELS, StanceClassifier
from stance.cli.label import main as label_main
from stance.errors import DataError
from stance.errors import StanceError
from stance.labeling import label_file, partial_dir
from stance.labeling.chunks import ADDED_COLUMNS

pytestmark = pytest.mark.usefixtures("one_thread")

LABEL_SCRIPT = Path(sys.executable).with_name("stance-label")
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}  # see one_thread below
TEXTS = [
    "Speaker 1 of Rome: we are ready to send soldiers.",
    "Speaker 2 of Oslo: that is not on the agenda today.",
    "Speaker 3 of Paris: deploying troops would be madness.",
    "Speaker 4 of Rome: it needs careful study first.",
]
FRAME = pd.DataFrame({"id": ["7", "8", "9", "10"], "text": TEXTS, "note": ["a", "NA", "", "d, with comma"]})



def write(frame: pd.DataFrame, path: Path) -> Path:
    fmt = path.suffix
    if fmt == ".csv":
        frame.to_csv(path, index=False)
    elif fmt == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
    return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def expected(tiny_model_dir) -> list[str]:
    return StanceClassifier.from_pretrained(tiny_model_dir, precision="fp32").predict(TEXTS)


def label(model, source, output, **kwargs) -> dict:
    return label_file(model, source, output, precision="fp32", quiet=True, **kwargs)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_every_format_keeps_the_input_columns_and_adds_the_labels(tiny_model_dir, tmp_path, expected, suffix):
    source = write(FRAME, tmp_path / f"in{suffix}")
    summary = label(tiny_model_dir, source, tmp_path / f"out{suffix}")
    out = read(tmp_path / f"out{suffix}")
    assert list(out.columns) == [*FRAME.columns, *ADDED_COLUMNS]
    pd.testing.assert_frame_equal(out[FRAME.columns].astype(str), FRAME, check_dtype=False)
    assert out["stance"].tolist() == expected
    probabilities = out[[f"p_{label}" for label in LABELS]].astype(float)
    assert ((probabilities.sum(axis=1) - 1).abs() < 1e-3).all()
    assert (out["stance_error"] == "").all()
    assert summary["rows"] == summary["labeled"] == 4 and summary["errors"] == 0


def test_a_format_converts_into_another(tiny_model_dir, tmp_path, expected):
    label(tiny_model_dir, write(FRAME, tmp_path / "in.csv"), tmp_path / "out.parquet")
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["id"].tolist() == FRAME["id"].tolist() and out["stance"].tolist() == expected


def test_bad_rows_keep_their_place_with_a_reason(tiny_model_dir, tmp_path):
    long_text = "troops " * 15_000  # 105k characters
    csv_bytes = (
        b"id,text\n"
        b"1,we are ready to send soldiers\n"
        b"2,\n"
        b"3,caf\xe9 au lait is not a stance\n"
        b'4,"' + long_text.encode() + b'"\n'
        b"5,NA\n"
    )
    (tmp_path / "bad.csv").write_bytes(csv_bytes)
    label(tiny_model_dir, tmp_path / "bad.csv", tmp_path / "bad.out.csv")
    raw = (tmp_path / "bad.out.csv").read_bytes()
    assert b"3,caf\xe9 au lait" in raw  # undecodable bytes go back out exactly as they came in
    out = pd.read_csv(tmp_path / "bad.out.csv", dtype=str, keep_default_na=False, encoding_errors="replace")
    assert out["id"].tolist() == ["1", "2", "3", "4", "5"]
    assert out["stance_error"].tolist() == ["", "empty text", "text is not valid UTF-8", "", ""]
    assert out["stance"].tolist()[1:3] == ["", ""] and out["p_opposed"].tolist()[1:3] == ["", ""]
    assert set(out["stance"][[0, 3, 4]]) <= set(LABELS)  # "NA" is a statement, the long one is truncated

    lines = [
        json.dumps({"id": 1, "text": "we are ready to send soldiers"}),
        "{not json",
        json.dumps({"id": 3, "text": None}),
        json.dumps({"id": 4, "text": 42}),
        json.dumps({"id": 5}),
        json.dumps({"id": 6, "text": "   "}),
        json.dumps({"id": 7, "text": "\ud800 a lone surrogate escape"}),
    ]
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n")
    label(tiny_model_dir, tmp_path / "bad.jsonl", tmp_path / "bad.out.jsonl")
    records = [json.loads(line) for line in (tmp_path / "bad.out.jsonl").read_text().splitlines()]
    assert len(records) == 7
    assert [r.get("id") for r in records] == [1, None, 3, 4, 5, 6, 7]
    assert records[0]["stance"] in LABELS and records[0]["stance_error"] == ""
    assert records[1]["stance_error"].startswith("line 2: malformed JSON") and records[1]["p_supportive"] is None
    errors = [r["stance_error"] for r in records[2:]]
    assert errors == ["missing text", "text is not a string (int)", "missing text", "empty text", "text is not valid UTF-8"]
    assert records[6]["text"] == "\ud800 a lone surrogate escape"  # given back as it came
    label(tiny_model_dir, tmp_path / "bad.jsonl", tmp_path / "bad.jsonl.csv")
    assert read(tmp_path / "bad.jsonl.csv")["stance_error"].iloc[6] == "text is not valid UTF-8"

    nulls = pd.DataFrame({"text": ["we are ready to send soldiers", None, float("nan")]})
    label(tiny_model_dir, write(nulls, tmp_path / "nulls.parquet"), tmp_path / "nulls.out.parquet")
    assert pd.read_parquet(tmp_path / "nulls.out.parquet")["stance_error"].tolist() == ["", "missing text", "missing text"]


def test_target_column_and_target_phrase(tiny_model_dir, tmp_path):
    clf = StanceClassifier.from_pretrained(tiny_model_dir, precision="fp32")
    frame = pd.DataFrame({"text": TEXTS[:3], "topic": ["climate policy", "", "nuclear power"]})
    source = write(frame, tmp_path / "t.csv")
    label(tiny_model_dir, source, tmp_path / "t.out.csv", target_column="topic", target="carbon tax")
    out = read(tmp_path / "t.out.csv")
    targets = ["climate policy", "carbon tax", "nuclear power"]  # an empty cell falls back to --target
    proba = clf.predict_proba(TEXTS[:3], targets)
    assert out["stance"].tolist() == [LABELS[i] for i in proba.argmax(axis=1)]
    assert out["p_opposed"].astype(float).tolist() == pytest.approx(proba[:, 2].tolist(), abs=1e-4)


def test_stdin_to_stdout_jsonl_with_the_console_script(tiny_model_dir, expected):
    lines = "".join(json.dumps({"text": text, "n": i}) + "\n" for i, text in enumerate(TEXTS))
    result = subprocess.run(
        [str(LABEL_SCRIPT), "--model", str(tiny_model_dir), "-", "--precision", "fp32", "--quiet"],
        input=lines.encode(), capture_output=True, timeout=120, env=ONE_THREAD,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"rows" not in result.stderr  # --quiet (and no terminal): no bar, no summary
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["n"] for r in records] == [0, 1, 2, 3]
    assert [r["stance"] for r in records] == expected


def test_missing_column_exits_2_with_one_line(tiny_model_dir, tmp_path, capsys):
    source = write(FRAME, tmp_path / "in.csv")
    with pytest.raises(SystemExit) as exit_info:
        label_main(["--model", str(tiny_model_dir), str(source), "--text-column", "body", "--quiet"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"error: {source}: missing column 'body'; columns present: id, text, note\n"
    assert not (tmp_path / "in.labeled.csv").exists() and not partial_dir(tmp_path / "in.labeled.csv").exists()
    with pytest.raises(DataError, match="missing column 'body'"):  # --debug: the exception, with its traceback
        label_main(["--model", str(tiny_model_dir), str(source), "--text-column", "body", "--debug"])


def test_killed_job_resumes_to_a_byte_identical_file(tiny_model_dir, tmp_path):
    rows = pd.DataFrame({"id": [str(i) for i in range(1000)], "text": [f"{TEXTS[i % 4]} ({i})" for i in range(1000)]})
    source = write(rows, tmp_path / "big.csv")
    output = tmp_path / "big.out.csv"
    options = ["--chunk-size", "20", "--precision", "fp32", "--quiet"]
    job = subprocess.Popen([str(LABEL_SCRIPT), "--model", str(tiny_model_dir), str(source), "-o", str(output), *options], env=ONE_THREAD)
    parts = partial_dir(output)
    deadline = time.monotonic() + 120
    while not list(parts.glob("*.part")) and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    assert job.returncode == -signal.SIGKILL, "the job ended before it could be killed"
    assert not output.exists()  # never a partial file under the final name
    finished = len(list(parts.glob("*.part")))
    assert 1 <= finished < 50

    with pytest.raises(StanceError, match="chunk_size differ"):
        label_file(tiny_model_dir, source, output, chunk_size=100, precision="fp32", resume=True, quiet=True)
    summary = label_file(tiny_model_dir, source, output, chunk_size=20, precision="fp32", resume=True, quiet=True)
    assert summary["resumed_rows"] == 20 * finished and summary["rows"] == 1000
    assert not parts.exists()

    label_file(tiny_model_dir, source, tmp_path / "whole.csv", chunk_size=20, precision="fp32", quiet=True)
    assert output.read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_unknown_output_extension_is_a_one_line_error(tiny_model_dir, tmp_path):
    source = write(FRAME, tmp_path / "in.csv")
    with pytest.raises(StanceError, match=r"cannot tell the output format from '\.xlsx'"):
        label(tiny_model_dir, source, tmp_path / "out.xlsx")
