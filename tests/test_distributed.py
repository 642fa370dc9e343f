"""Data-parallel training: two CPU processes under torchrun make one run directory and one model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import torch.multiprocessing as mp

from stance.distributed import from_main_process, hydra_overrides


def test_two_processes_write_one_complete_model_directory(tmp_path, corpus_csv):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port", str(free_port()),
               "-m", "stance.cli.train", "model=tiny", "trainer=[fast,ddp]", "data=files", f"data.train={corpus_csv}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr

    runs = list(tmp_path.glob("outputs/*/*"))
    assert len(runs) == 1  # both processes took rank 0's run directory
    run = runs[0]
    model = run / "model"
    assert result.stdout.strip().splitlines()[-1] == str(model)
    assert result.stdout.splitlines().count(str(model)) == 1  # printed by rank 0 only (log lines may name it too)
    assert {"config.json", "model.safetensors", "tokenizer.json", "stance_config.yaml", "metrics.json"} <= {p.name for p in model.iterdir()}
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["train_steps"] == 4
    for split in ("dev", "test"):  # scored once, on the whole split
        assert sum(map(sum, metrics[split]["confusion_matrix"])) == metrics["examples"][split]
    # one log and one TensorBoard event file, from rank 0; rank 1 wrote only its RNG state,
    # into rank 0's checkpoint (trainer.resume=auto needs it)
    assert (run / "stance-train.log").read_text().count("training tiny on") == 1
    assert result.stdout.count("training tiny on") == 1
    assert len(list(run.glob("tensorboard/events.out.tfevents.*"))) == 1
    assert sorted(p.name for p in run.glob("checkpoints/*/rng_state*")) == ["rng_state_0.pth", "rng_state_1.pth"]


def test_every_process_gets_the_main_process_value():
    port = free_port()
    context = mp.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_share, args=(rank, port, results)) for rank in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert sorted(results.get(timeout=1) for _ in processes) == [(0, "2026-01-01/00-00-00"), (1, "2026-01-01/00-00-00")]


def _share(rank: int, port: int, results) -> None:
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    # rank 1 started a second later: its own clock says another directory
    results.put((rank, from_main_process(f"2026-01-01/00-00-0{rank}")))


def test_other_ranks_leave_the_run_log_and_hydra_dir_to_rank_0(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    given = ["model=tiny", "hydra.run.dir=runs/a", "hydra.sweep.dir=sweeps/a"]  # nothing to agree on
    assert hydra_overrides(given) == [
        "hydra.output_subdir=null", "hydra.job_logging.root.handlers=[console]", "hydra.job_logging.root.level=WARNING",
    ]
    monkeypatch.setenv("RANK", "0")
    assert hydra_overrides(given) == []
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert hydra_overrides(["model=tiny"]) == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
