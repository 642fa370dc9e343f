"""stance-label --engine ray: a local Ray with 2 CPUs writes what the local engine writes, row for row."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from stance.cli.label import main as label_main
from stance.errors import StanceError
from stance.labeling import label_file, partial_dir
from stance.labeling import job as labeling_job
from stance.labeling.chunks import ADDED_COLUMNS
from stance.labels import LABELS, PROBABILITY_COLUMNS

PHRASES = ["we are ready to send soldiers", "that is not on the agenda today", "deploying troops would be madness",
           "it needs careful study first", "our troops can help secure Kyiv"]
RAY = {"engine": "ray", "num_actors": 2, "actor_cpus": 0.5}  # two actors and the reader on 2 CPUs


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def statements(n: int) -> list[str]:
    return [f"Speaker {i} of {['Rome', 'Oslo', 'Paris'][i % 3]}: {PHRASES[i % len(PHRASES)]} ({'!' * (i % 7)})" for i in range(n)]


def assert_same_labels(ray_out: pd.DataFrame, local_out: pd.DataFrame) -> None:
    assert list(ray_out.columns) == list(local_out.columns) and len(ray_out) == len(local_out)
    other = [column for column in local_out.columns if column not in PROBABILITY_COLUMNS]
    pd.testing.assert_frame_equal(ray_out[other], local_out[other])  # input columns, labels, errors: identical
    ray_proba, local_proba = probabilities(ray_out), probabilities(local_out)
    assert ray_proba.isna().equals(local_proba.isna())  # the same rows without probabilities
    assert ((ray_proba - local_proba).abs().fillna(0) <= 1e-4).all().all()


def probabilities(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(PROBABILITY_COLUMNS)].replace("", None).astype(float)  # CSV writes a missing one as ""


def test_ray_engine_labels_a_csv_as_the_local_engine_does(local_ray, tiny_model_dir, tmp_path, capsys):
    texts = statements(3000)
    texts[10], texts[1234], texts[2999] = "", "   ", "caf\udce9 au lait"  # empty, blank, a byte that is not UTF-8
    source = tmp_path / "in.csv"
    table = io.StringIO()
    csv.writer(table, lineterminator="\n").writerows([("id", "text", "note"), *zip(range(3000), texts, ["NA", "", "x, y"] * 1000)])
    source.write_bytes(table.getvalue().encode("utf-8", errors="surrogateescape"))

    local = label_file(tiny_model_dir, source, tmp_path / "local.csv", precision="fp32", chunk_size=500, quiet=True)
    label_main(["--model", str(tiny_model_dir), str(source), "-o", str(tmp_path / "ray.csv"), "--precision", "fp32",
                "--chunk-size", "500", "--engine", "ray", "--num-actors", "2", "--actor-cpus", "0.5"])
    summary_line = capsys.readouterr().err
    assert "3,000 rows" in summary_line and "3 with stance_error" in summary_line and "fp32 on 2 Ray actors: cpu" in summary_line

    def read(path):
        return pd.read_csv(path, dtype=object, keep_default_na=False, encoding_errors="surrogateescape")

    ray_out, local_out = read(tmp_path / "ray.csv"), read(tmp_path / "local.csv")
    assert_same_labels(ray_out, local_out)
    assert list(ray_out.columns) == ["id", "text", "note", *ADDED_COLUMNS]
    assert ray_out["stance_error"][[10, 1234, 2999]].tolist() == ["empty text", "empty text", "text is not valid UTF-8"]
    assert set(ray_out["stance"]) - {""} <= set(LABELS) and local["errors"] == 3


def test_ray_engine_resumes_an_interrupted_job(local_ray, tiny_model_dir, tmp_path, monkeypatch):
    lines = [json.dumps({"text": text, "n": i}) for i, text in enumerate(statements(2000))]
    lines[7] = '{"text": "unfinished'  # malformed JSON
    lines[8] = json.dumps({"text": 42})  # not a string
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    output = tmp_path / "out.jsonl"
    local = label_file(tiny_model_dir, source, tmp_path / "local.jsonl", precision="fp32", chunk_size=250, quiet=True)

    def crash(*args):
        raise KeyboardInterrupt  # the job dies after its last chunk, before the join

    with monkeypatch.context() as patch:
        patch.setattr(labeling_job, "join_parts", crash)
        with pytest.raises(KeyboardInterrupt):
            label_file(tiny_model_dir, source, output, precision="fp32", chunk_size=250, quiet=True, **RAY)
    parts = sorted(partial_dir(output).glob("*.part"))
    assert len(parts) == 8 and not output.exists()
    for part in parts[5:]:  # as if it had died after five chunks
        part.unlink()

    summary = label_file(tiny_model_dir, source, output, precision="fp32", chunk_size=250, quiet=True, resume=True, **RAY)
    assert summary["resumed_rows"] == 1250 and summary["rows"] == 2000 and summary["labeled"] == 750
    assert not partial_dir(output).exists()
    ray_out, local_out = read_jsonl(output), read_jsonl(tmp_path / "local.jsonl")
    assert_same_labels(ray_out, local_out)
    assert local["errors"] == 2 and (ray_out["stance_error"] != "").sum() == 2
    assert ray_out["stance_error"][7].startswith("line 8: malformed JSON") and ray_out["stance_error"][8] == "text is not a string (int)"


def read_jsonl(path) -> pd.DataFrame:
    return pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()], dtype=object)


def test_ray_engine_refuses_stdin(tiny_model_dir):
    with pytest.raises(StanceError, match="--engine ray reads the input twice"):
        label_file(tiny_model_dir, "-", "-", engine="ray")
