"""Faults in training (issue 14, docs/reliability.md): a killed run resumes to the same result,
a rerun says what it discards, and data too small or one-sided to trust is said so before work."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import write_corpus
from stance.config import compose
from stance.errors import ConfigError
from stance.training import train

TRAIN_SCRIPT = Path(sys.executable).with_name("stance-train")
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def _train(run_dir: Path, corpus: Path, *extra: str, kill_after: str | None = None) -> subprocess.CompletedProcess:
    """stance-train (tiny, 3 epochs of 15 steps) in ``run_dir``; SIGKILL once checkpoint ``kill_after`` is complete."""
    command = [
        str(TRAIN_SCRIPT), "model=tiny", "trainer=fast", "trainer.max_steps=-1", "trainer.max_epochs=3",
        "trainer.learning_rate=3e-3", "trainer.early_stopping_patience=10",
        "data=files", f"data.train={corpus}", f"hydra.run.dir={run_dir}", *extra,
    ]
    job = subprocess.Popen(command, env=ONE_THREAD, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if kill_after:
        state = run_dir / "checkpoints" / kill_after / "trainer_state.json"
        deadline = time.monotonic() + 300
        while job.poll() is None and time.monotonic() < deadline:
            try:
                json.loads(state.read_text())
            except (OSError, ValueError):
                time.sleep(0.01)
                continue
            job.send_signal(signal.SIGKILL)
            break
    output, _ = job.communicate()
    return subprocess.CompletedProcess(command, job.returncode, output)


def _steps(log: str) -> list[str]:
    """The per-step training records (loss, gradient norm, learning rate) in the order printed."""
    return [line for line in log.splitlines() if line.startswith("{'loss'")]


def test_a_killed_run_resumes_from_its_checkpoint_to_the_same_result(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.csv", n=150)
    whole = _train(tmp_path / "whole", corpus)
    assert whole.returncode == 0, whole.stdout

    killed = _train(tmp_path / "run", corpus, kill_after="checkpoint-15")
    assert killed.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    resumed = _train(tmp_path / "run", corpus, "trainer.resume=auto")
    assert resumed.returncode == 0, resumed.stdout
    assert f"resuming from {tmp_path / 'run' / 'checkpoints' / 'checkpoint-15'} (step 15 of the interrupted run)" in resumed.stdout

    # steps 16-45 redone with the restored optimizer, scheduler and random state: the same numbers
    assert _steps(resumed.stdout) == _steps(whole.stdout)[15:]
    metrics = [json.loads((tmp_path / run / "model" / "metrics.json").read_text()) for run in ("whole", "run")]
    for key in ("dev", "test", "train_steps", "best_checkpoint"):
        assert metrics[0][key] == metrics[1][key]
    assert (tmp_path / "whole" / "model" / "model.safetensors").read_bytes() == (tmp_path / "run" / "model" / "model.safetensors").read_bytes()


def test_a_rerun_says_what_it_discards_and_resume_refuses_another_config(tmp_path, caplog):
    corpus = write_corpus(tmp_path / "corpus.csv", n=60)
    overrides = ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus}", "data.on_overlap=warn", f"output_dir={tmp_path}"]
    train(compose("train", overrides))
    with caplog.at_level(logging.WARNING):
        train(compose("train", overrides))
    assert f"discarding 1 checkpoint(s) of an earlier run in {tmp_path / 'checkpoints'} (the last at step 4); " \
           "trainer.resume=auto would continue from it" in caplog.text
    with pytest.raises(ConfigError, match=r"cannot resume from .*checkpoint-4: trainer.learning_rate differ from the interrupted run"):
        train(compose("train", [*overrides, "trainer.resume=auto", "trainer.learning_rate=1e-4"]))
    with pytest.raises(ConfigError, match="trainer.resume=later: use auto"):
        train(compose("train", [*overrides, "trainer.resume=later"]))


def test_resume_refuses_training_data_edited_since_the_interruption(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.csv", n=60)
    overrides = ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus}", "data.on_overlap=warn", f"output_dir={tmp_path}"]
    train(compose("train", overrides))
    write_corpus(corpus, n=60, seed=1)  # same path, same config, other rows
    with pytest.raises(ConfigError, match=r"cannot resume from .*checkpoint-4: the training data \(train and dev rows\) differ"):
        train(compose("train", [*overrides, "trainer.resume=auto"]))


def test_a_checkpoint_half_written_by_a_kill_is_passed_over_for_the_last_complete_one(tmp_path, caplog):
    corpus = write_corpus(tmp_path / "corpus.csv", n=60)
    overrides = ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus}", "data.on_overlap=warn", f"output_dir={tmp_path}"]
    first = train(compose("train", overrides))
    checkpoints = tmp_path / "checkpoints"
    # the Trainer writes trainer_state.json last: a kill while saving checkpoint-8 leaves it without one
    shutil.copytree(checkpoints / "checkpoint-4", checkpoints / "checkpoint-8")
    (checkpoints / "checkpoint-8" / "trainer_state.json").unlink()
    with caplog.at_level(logging.INFO):
        resumed = train(compose("train", [*overrides, "trainer.resume=auto"]))
    assert f"resuming from {checkpoints / 'checkpoint-4'} (step 4 of the interrupted run)" in caplog.text
    assert resumed["test"]["macro_f1"] == first["test"]["macro_f1"]


def test_one_label_and_tiny_data_are_said_before_training(tmp_path, caplog):
    corpus = tmp_path / "one_label.csv"
    corpus.write_text("text,label\n" + "".join(f"we are ready to send soldiers says speaker {i},supportive\n" for i in range(60)))
    with caplog.at_level(logging.WARNING):
        train(compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus}", f"output_dir={tmp_path / 'run'}"]))
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert "train holds only 'supportive' examples: the model can only learn to say 'supportive'; " \
           "check data.label_column and data.label_map" in warnings
    assert "dev has 6 rows: one row moves its accuracy by 17 points, so its scores (and the epoch they pick) say little; " \
           "give at least 50 (data.dev=FILE, or more data)" in warnings
    assert any(w.startswith("test has 6 rows") for w in warnings)


def test_few_examples_a_label_are_said(tmp_path, caplog):
    corpus = write_corpus(tmp_path / "corpus.csv", n=60)
    with caplog.at_level(logging.WARNING):
        train(compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus}", f"output_dir={tmp_path / 'run'}"]))
    assert "train has few examples (supportive 16, reserved 16, opposed 16): expect a weak model; " \
           "aim for at least 100 a label (the bundled corpus has about 1,200)" in caplog.text


@pytest.mark.parametrize("override, message", [
    ("trainer.max_epochs=-1", "error: trainer.max_epochs=-1: must be >= 1"),
    ("trainer.learning_rate=10", "error: trainer.learning_rate=10.0: must be above 0 and below 1"),
    ("trainer.batch_size=0", "error: trainer.batch_size=0: must be >= 1"),
])
def test_nonsense_settings_stop_before_work_in_one_line(tmp_path, override, message):
    run = subprocess.run([str(TRAIN_SCRIPT), "model=tiny", override, f"hydra.run.dir={tmp_path}"], env=ONE_THREAD, capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1].startswith(message) and "Traceback" not in run.stderr
    assert not (tmp_path / "checkpoints").exists()


def test_an_empty_train_file_after_filtering_is_one_line(tmp_path):
    corpus = tmp_path / "blank.csv"
    corpus.write_text("text,label\n ,supportive\n\x00,opposed\n", encoding="utf-8")
    run = subprocess.run([str(TRAIN_SCRIPT), "model=tiny", "data=files", f"data.train={corpus}", f"hydra.run.dir={tmp_path / 'run'}"],
                         env=ONE_THREAD, capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1] == f"error: {corpus}: none of its 2 rows has a text to learn from or score (2 empty text)"
