"""Hostile-but-fair inputs and faults (issue 14, docs/reliability.md): each case asserts what the
user sees, the output and the one-line message, never a traceback or a silent change of data."""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stance import StanceClassifier
from stance.cli.label import main as label_main
from stance.errors import DataError, StanceError
from stance.io.readers import read_frame
from stance.labeling import label_file, partial_dir
from stance.models.encoding import encode_pairs

pytestmark = pytest.mark.usefixtures("one_thread")

LABEL_SCRIPT = Path(sys.executable).with_name("stance-label")
EVAL_SCRIPT = Path(sys.executable).with_name("stance-eval")
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def label(model, source, output, **kwargs) -> dict:
    return label_file(model, source, output, precision="fp32", quiet=True, **kwargs)


def cli(capsys, *argv) -> tuple[int, str]:
    """Run stance-label in this process: (exit code, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        label_main([*map(str, argv), "--quiet"])
        raise SystemExit(0)
    return exit_info.value.code, capsys.readouterr().err


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- silent corruption


def test_a_second_job_on_the_same_output_fails_at_once_naming_the_first(tiny_model_dir, tmp_path, capsys):
    first = pd.DataFrame({"id": [f"a{i}" for i in range(20000)], "text": [f"we are ready to send soldiers ({i})" for i in range(20000)]})
    first.to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"id": ["b1"], "text": ["we will never send our soldiers"]}).to_csv(tmp_path / "b.csv", index=False)
    output = tmp_path / "same.csv"
    job = subprocess.Popen(
        [str(LABEL_SCRIPT), "--model", str(tiny_model_dir), str(tmp_path / "a.csv"), "-o", str(output), "--chunk-size", "500", "--quiet"],
        env=ONE_THREAD,
    )
    parts = partial_dir(output)
    deadline = time.monotonic() + 120
    while not list(parts.glob("*.part")) and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.poll() is None, "the first job ended before the second could start"

    code, err = cli(capsys, "--model", tiny_model_dir, tmp_path / "b.csv", "-o", output)
    assert code == 2
    assert err.startswith(f"error: {output} is being written by another stance-label job (pid {job.pid}, labeling ")
    assert err.endswith("; wait for it to end, or write to another -o\n") and err.count("\n") == 1

    assert job.wait(timeout=300) == 0
    written = pd.read_csv(output, dtype=str)
    assert written["id"].tolist() == first["id"].tolist()  # only the first job's rows, all of them, in order
    assert not parts.exists()


def test_an_unquoted_separator_is_an_error_for_its_row_never_a_shift(tiny_model_dir, tmp_path):
    source = tmp_path / "comma.csv"
    source.write_text("id,text\n1,We support it, fully\n2,No way\n3,Maybe, later\n4,fine\n", encoding="utf-8")
    label(tiny_model_dir, source, tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out["id"].tolist() == ["1", "2", "3", "4"]  # ids stay ids
    assert out["text"].tolist() == ["We support it", "No way", "Maybe", "fine"]
    assert out["stance_error"].tolist() == [
        "line 2: 3 fields where the header has 2 (quote cells that contain ',')",
        "",
        "line 4: 3 fields where the header has 2 (quote cells that contain ',')",
        "",
    ]
    assert out["stance"].tolist()[0] == "" and out["stance"].tolist()[2] == ""
    # the loader of training and evaluation refuses the file, naming the real line
    with pytest.raises(DataError, match=r"comma\.csv line 2: 3 fields where the header has 2"):
        read_frame(source)


def test_an_unclosed_quote_fails_the_file_naming_its_line(tiny_model_dir, tmp_path):
    source = tmp_path / "quote.csv"
    source.write_text('id,text\n1,fine\n2,"never closed\n3,more\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"quote\.csv: the quoted cell that opens on line 3 is never closed"):
        label(tiny_model_dir, source, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@pytest.fixture
def broken_model(tiny_model_dir, tmp_path):
    """A copy of the tiny model, to damage."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))


def _rewrite_weights(model_dir: Path, keep) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(model_dir / "model.safetensors")
    save_file({k: v for k, v in tensors.items() if keep(k)}, model_dir / "model.safetensors", metadata={"format": "pt"})


def test_a_model_without_its_classifier_weights_is_refused(broken_model, tmp_path, capsys):
    _rewrite_weights(broken_model, keep=lambda name: not name.startswith("classifier."))
    (tmp_path / "in.csv").write_text("text\nWe support it\n", encoding="utf-8")
    code, err = cli(capsys, "--model", broken_model, tmp_path / "in.csv")
    assert code == 2
    assert err == (
        f"error: {broken_model}: its weights do not fit its config.json (model_type bert): "
        "missing classifier.bias, classifier.weight; refusing a model that would label at random\n"
    )
    assert not (tmp_path / "in.labeled.csv").exists()


def test_a_model_whose_model_type_was_changed_is_refused(broken_model):
    config = json.loads((broken_model / "config.json").read_text())
    config["model_type"] = "roberta"
    (broken_model / "config.json").write_text(json.dumps(config))
    with pytest.raises(StanceError, match=r"model_type roberta\): missing .* and \d+ more; unexpected bert\."):
        StanceClassifier.from_pretrained(broken_model, backend="torch")  # the export's graph does not read model_type


def test_resume_refuses_an_input_edited_in_place_with_the_same_size_and_time(tiny_model_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "aaa"}\n{"text": "bbb"}\n{"txet": "ccc"}\n', encoding="utf-8")
    output = tmp_path / "out.csv"
    # a real interruption: the third row adds a column that a CSV output cannot hold, after the first chunk is written
    with pytest.raises(DataError, match="rows from 3 add column 'txet'"):
        label(tiny_model_dir, source, output, chunk_size=2)
    assert (partial_dir(output) / "00000000.part").is_file()

    stat = source.stat()
    source.write_text('{"text": "AAA"}\n{"text": "bbb"}\n{"text": "ccc"}\n', encoding="utf-8")  # same size
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time
    with pytest.raises(StanceError, match=r"cannot resume .*out\.csv: input differ"):
        label(tiny_model_dir, source, output, chunk_size=2, resume=True)


def test_resume_accepts_an_input_whose_time_alone_changed(tiny_model_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "aaa"}\n{"text": "bbb"}\n{"txet": "ccc"}\n', encoding="utf-8")
    output = tmp_path / "out.csv"
    with pytest.raises(DataError, match="rows from 3 add column 'txet'"):
        label(tiny_model_dir, source, output, chunk_size=2)
    first_part = partial_dir(output) / "00000000.part"
    written = first_part.stat().st_mtime_ns
    os.utime(source)  # touched, content unchanged
    with pytest.raises(DataError, match="rows from 3 add column 'txet'"):  # past the fingerprint: the same row fails again
        label(tiny_model_dir, source, output, chunk_size=2, resume=True)
    assert first_part.stat().st_mtime_ns == written  # the finished chunk was kept, not relabeled


# --------------------------------------------------------------------------- one line, exit code 2


def test_an_over_long_target_is_truncated_never_aborting_the_job(tiny_model_dir, tmp_path, capsys):
    long_target = " ".join(["troops"] * 300)
    pd.DataFrame({"text": ["We support it", "No way"], "topic": [long_target, "short"]}).to_csv(tmp_path / "in.csv", index=False)
    code, err = cli(capsys, "--model", tiny_model_dir, tmp_path / "in.csv", "--target-column", "topic")
    assert (code, err) == (0, "")
    assert pd.read_csv(tmp_path / "in.labeled.csv")["stance"].notna().all()
    code, err = cli(capsys, "--model", tiny_model_dir, tmp_path / "in.csv", "-o", tmp_path / "b.csv", "--target", long_target)
    assert (code, err) == (0, "")


def test_encode_pairs_cuts_a_long_target_only_when_it_leaves_no_room(tiny_model_dir):
    tokenizer = StanceClassifier.from_pretrained(tiny_model_dir, backend="torch", calibrated=False).predictor.tokenizer  # the bare torch backend
    long_target = " ".join(["troops"] * 300)
    encoded = encode_pairs(tokenizer, [long_target, "troops"], ["We support it " * 40, "We support it"], 32)
    assert [len(ids) for ids in encoded["input_ids"]] == [32, 7]
    cut = tokenizer.decode(encoded["input_ids"][0])
    assert cut.startswith("[CLS] troops troops") and "[SEP] we support it" in cut  # both cut to share the room
    usual = encode_pairs(tokenizer, ["troops"], ["We support it " * 40], 32)
    assert tokenizer.decode(usual["input_ids"][0]).startswith("[CLS] troops [SEP] we support it")


def test_every_value_type_crosses_every_format(tiny_model_dir, tmp_path):
    typed = pa.table({
        "text": ["We support it", "No way"],
        "day": [datetime.date(2024, 1, 2), None],
        "at": [datetime.datetime(2024, 1, 2, 3, 4, 5), None],
        "price": pa.array([decimal.Decimal("1.10"), None], pa.decimal128(5, 2)),
        "raw": [b"\x00\xff", None],
        "tags": [[1, 2], None],
        "meta": [{"a": 1}, None],
        "flag": [True, False],
    })
    pq.write_table(typed, tmp_path / "typed.parquet")
    label(tiny_model_dir, tmp_path / "typed.parquet", tmp_path / "typed.jsonl")
    row = jsonl(tmp_path / "typed.jsonl")[0]
    assert {k: row[k] for k in typed.column_names} == {
        "text": "We support it", "day": "2024-01-02", "at": "2024-01-02T03:04:05", "price": "1.10",
        "raw": base64.b64encode(b"\x00\xff").decode(), "tags": [1, 2], "meta": {"a": 1}, "flag": True,
    }
    label(tiny_model_dir, tmp_path / "typed.parquet", tmp_path / "typed.csv")
    cells = pd.read_csv(tmp_path / "typed.csv", dtype=str, keep_default_na=False).iloc[0].to_dict()
    assert {k: cells[k] for k in typed.column_names} == {
        "text": "We support it", "day": "2024-01-02", "at": "2024-01-02T03:04:05", "price": "1.10",
        "raw": "AP8=", "tags": "[1, 2]", "meta": '{"a": 1}', "flag": "true",
    }
    label(tiny_model_dir, tmp_path / "typed.parquet", tmp_path / "again.parquet")
    assert pq.read_table(tmp_path / "again.parquet").select(typed.column_names).equals(typed)

    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"text": "a", "x": 1}\n{"text": "b", "x": "two"}\n{"text": "c", "x": {"k": [1, 2]}}\n{"text": "d"}\n', encoding="utf-8")
    label(tiny_model_dir, mixed, tmp_path / "mixed.parquet")
    assert pq.read_table(tmp_path / "mixed.parquet")["x"].to_pylist() == ["1", "two", '{"k": [1, 2]}', None]
    label(tiny_model_dir, mixed, tmp_path / "mixed.csv")
    assert pd.read_csv(tmp_path / "mixed.csv", dtype=str, keep_default_na=False)["x"].tolist() == ["1", "two", '{"k": [1, 2]}', ""]


def test_a_run_directory_is_accepted_for_its_model(tiny_model_dir, tmp_path, capsys):
    (tmp_path / "in.csv").write_text("text\nWe support it\n", encoding="utf-8")
    code, err = cli(capsys, "--model", tiny_model_dir.parent, tmp_path / "in.csv")
    assert (code, err) == (0, "")


def test_a_model_directory_without_config_json_is_one_line(broken_model, tmp_path, capsys):
    (broken_model / "config.json").unlink()
    (tmp_path / "in.csv").write_text("text\nWe support it\n", encoding="utf-8")
    code, err = cli(capsys, "--model", broken_model, tmp_path / "in.csv")
    assert (code, err) == (2, f"error: {broken_model}: not a model directory (no config.json); give the model/ folder that stance-train wrote\n")


def test_truncated_weights_are_one_line_in_every_entry_point(broken_model, tmp_path, capsys):
    weights = broken_model / "model.safetensors"
    size = weights.stat().st_size
    os.truncate(weights, size // 2)
    message = f"{weights}: truncated or damaged ({size // 2:,} bytes where its header promises {size:,}); copy it again or train again"
    (tmp_path / "in.csv").write_text("text\nWe support it\n", encoding="utf-8")
    assert cli(capsys, "--model", broken_model, tmp_path / "in.csv") == (2, f"error: {message}\n")
    with pytest.raises(StanceError) as error:
        StanceClassifier.from_pretrained(broken_model)
    assert str(error.value) == message
    run = subprocess.run([str(EVAL_SCRIPT), f"model_path={broken_model}", f"hydra.run.dir={tmp_path / 'eval'}"],
                         env=ONE_THREAD, capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.endswith(f"error: {message}\n") and "Traceback" not in run.stderr
    os.truncate(weights, 4)
    with pytest.raises(StanceError, match=r"not a readable safetensors file \(damaged, or cut short at 4 bytes\)"):
        StanceClassifier.from_pretrained(broken_model)


def test_pickle_only_weights_are_refused_unless_allowed(broken_model, tmp_path, capsys):
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(broken_model / "model.safetensors"), broken_model / "pytorch_model.bin")
    (broken_model / "model.safetensors").unlink()
    (tmp_path / "in.csv").write_text("text\nWe support it\n", encoding="utf-8")
    code, err = cli(capsys, "--model", broken_model, tmp_path / "in.csv")
    assert code == 2
    assert err == (
        f"error: {broken_model}: its weights are only a pickle (pytorch_model.bin), which can run code when loaded; "
        "convert them to safetensors, or pass --allow-pickle (allow_pickle=True) if you trust where they come from\n"
    )
    assert cli(capsys, "--model", broken_model, tmp_path / "in.csv", "--allow-pickle") == (0, "")
    assert StanceClassifier.from_pretrained(broken_model, allow_pickle=True).predict("We support it") in StanceClassifier.labels


def test_a_name_that_is_no_file_is_said_so(tiny_model_dir, capsys):
    assert cli(capsys, "--model", tiny_model_dir, "foo/bar") == (2, "error: no such file: foo/bar\n")


def test_random_bytes_are_not_mistaken_for_a_missing_column(tiny_model_dir, tmp_path):
    noise = bytes(range(256)) * 4
    run = subprocess.run([str(LABEL_SCRIPT), "--model", str(tiny_model_dir), "-"], input=noise, env=ONE_THREAD, capture_output=True)
    assert run.returncode == 2
    assert run.stderr.decode().startswith("error: standard input: not JSONL: none of its first 5 lines is a JSON object (line 1: malformed JSON")
    (tmp_path / "noise.csv").write_bytes(noise)
    with pytest.raises(DataError, match=r"noise\.csv: the header \(line 1\) is not UTF-8 text; is it a binary file, or in another encoding\?"):
        label(tiny_model_dir, tmp_path / "noise.csv", tmp_path / "out.csv")


def test_a_full_disk_names_what_could_not_be_written(tiny_model_dir, tmp_path):
    (tmp_path / "in.csv").write_text("text\n" + "We support it\n" * 400, encoding="utf-8")
    with open("/dev/full", "wb") as full:  # a real device that answers every write with ENOSPC
        run = subprocess.run([str(LABEL_SCRIPT), "--model", str(tiny_model_dir), str(tmp_path / "in.csv"), "-o", "-"],
                             stdout=full, stderr=subprocess.PIPE, env=ONE_THREAD, text=True)
    assert run.returncode == 2
    assert run.stderr == "error: cannot write standard output: No space left on device\n"

    def small_files():  # files may grow to 8 KiB (job.json lists the model's files): a disk that fills up while the parts are written
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    output = tmp_path / "out.csv"
    run = subprocess.run([str(LABEL_SCRIPT), "--model", str(tiny_model_dir), str(tmp_path / "in.csv"), "-o", str(output)],
                         env=ONE_THREAD, capture_output=True, text=True, preexec_fn=small_files)
    assert run.returncode == 2
    assert run.stderr == f"error: cannot write {partial_dir(output) / '00000000.part.tmp'}: File too large\n"
    assert not output.exists()


def test_a_missing_output_folder_is_named(tiny_model_dir, tmp_path, capsys):
    (tmp_path / "in.csv").write_text("text\nWe support it\n", encoding="utf-8")
    code, err = cli(capsys, "--model", tiny_model_dir, tmp_path / "in.csv", "-o", tmp_path / "nowhere" / "out.csv")
    assert (code, err) == (2, f"error: cannot write {tmp_path / 'nowhere' / 'out.csv'}: {tmp_path / 'nowhere'} is not a directory\n")


def test_duplicate_column_names_are_refused_not_renamed(tiny_model_dir, tmp_path, capsys):
    (tmp_path / "dup.csv").write_text("text,text\na,b\n", encoding="utf-8")
    code, err = cli(capsys, "--model", tiny_model_dir, tmp_path / "dup.csv")
    assert (code, err) == (2, f"error: {tmp_path / 'dup.csv'}: the header names column 'text' twice; rename one, so that neither is lost\n")


def test_a_cell_of_nul_bytes_is_empty_text(tiny_model_dir, tmp_path):
    (tmp_path / "nul.csv").write_text("id,text\n1,\x00\x00\x00\n2,\x00 \t\n3,ok\n", encoding="utf-8")
    label(tiny_model_dir, tmp_path / "nul.csv", tmp_path / "out.jsonl")
    rows = jsonl(tmp_path / "out.jsonl")
    assert [row["stance_error"] for row in rows] == ["empty text", "empty text", ""]
    assert rows[0]["text"] == "\x00\x00\x00"  # written back as it came


def test_a_header_only_file_gives_a_header_only_output(tiny_model_dir, tmp_path):
    (tmp_path / "empty.csv").write_text("id,text\n", encoding="utf-8")
    summary = label(tiny_model_dir, tmp_path / "empty.csv", tmp_path / "out.csv")
    assert summary["rows"] == 0
    assert (tmp_path / "out.csv").read_text() == "id,text,stance,p_supportive,p_reserved,p_opposed,stance_error\n"


def test_progress_estimates_its_total_from_the_file_size(tiny_model_dir, tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    pd.DataFrame({"text": [f"we are ready to send soldiers ({i})" for i in range(20000)]}).to_csv(tmp_path / "in.csv", index=False)
    leader, follower = pty.openpty()  # stderr on a terminal: the bar shows
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # a new pty is 0 columns wide
    run = subprocess.run(
        [str(LABEL_SCRIPT), "--model", str(tiny_model_dir), str(tmp_path / "in.csv"), "--chunk-size", "2000"],
        env=ONE_THREAD, stderr=follower, stdout=subprocess.DEVNULL,
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        screen += data
    os.close(leader)
    assert run.returncode == 0
    frames = screen.decode(errors="replace").replace("\r", "\n")
    shown = [int(p) for p in re.findall(r"labeling:\s+(\d+)%\|", frames)]
    assert any(0 < p < 100 for p in shown), frames  # a percentage before the end: the total was estimated
    assert shown[-1] == 100 and "20.0k/20.0k" in frames


def test_every_transformers_load_refuses_remote_code():
    import ast

    package = Path(__file__).resolve().parents[1] / "stance"
    calls = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "from_pretrained":
                owner = getattr(node.func.value, "id", "")
                if owner in ("cls", "StanceClassifier"):
                    continue  # our own loader, which calls the ones below
                remote = [k.value.value for k in node.keywords if k.arg == "trust_remote_code" and isinstance(k.value, ast.Constant)]
                calls.append((f"{path.name}:{node.lineno}", remote))
    assert calls and all(remote == [False] for _, remote in calls), calls


def test_an_output_interrupted_while_written_keeps_the_previous_file_and_leaves_no_partial(tmp_path):
    """Reports, metrics, summaries, figures and export records go through atomic_output."""
    from stance.io.atomic import atomic_output, atomic_write_text

    path = atomic_write_text(tmp_path / "metrics.json", '{"macro_f1": 0.7}')
    with pytest.raises(RuntimeError, match="disk gone"):
        with atomic_output(path) as handle:
            handle.write('{"macro_f1": 0.')
            raise RuntimeError("disk gone")
    assert path.read_text() == '{"macro_f1": 0.7}' and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
    atomic_write_text(path, '{"macro_f1": 0.8}')
    assert path.read_text() == '{"macro_f1": 0.8}' and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
