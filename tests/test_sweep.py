"""stance-train -m: the Optuna sweep (hparams_search=optuna) runs trials and reports the best; the
launchers run a sweep's trials in parallel on one machine (joblib) or as SLURM jobs (submitit)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import get_class

from stance.cli.sweep_summary import write_summary
from stance.config import CONFIG_MODULE
from stance.config.validate import validate


def test_optuna_sweep_runs_two_trials_and_reports_the_best(tmp_path, corpus_csv):
    sweep_dir = tmp_path / "multirun"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "stance-train"), "-m", "hparams_search=optuna", "hydra.sweeper.n_trials=2",
         "model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"hydra.sweep.dir={sweep_dir}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},  # two tiny trainings gain nothing from threads
    )
    assert result.returncode == 0, result.stderr[-3000:]
    trials = sorted(p for p in sweep_dir.iterdir() if p.is_dir())
    assert [p.name for p in trials] == ["0", "1"]
    scores = {}
    for trial in trials:
        metrics = json.loads((trial / "model" / "metrics.json").read_text())
        scores[trial.name] = metrics["dev"]["macro_f1"]
        overrides = yaml.safe_load((trial / ".hydra" / "overrides.yaml").read_text())
        assert any(o.startswith("trainer.learning_rate=") for o in overrides)  # a sampled value, not the default
    summary = pd.read_csv(sweep_dir / "summary.csv")
    assert dict(zip(summary["job"].astype(str), summary["dev_macro_f1"])) == pytest.approx(scores)
    best = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert best["best_value"] == max(scores.values())
    assert set(best["best_params"]) == {"trainer.learning_rate", "trainer.max_epochs", "trainer.batch_size",
                                        "trainer.warmup_ratio", "trainer.class_weights"}


@pytest.mark.parametrize("plugin, overrides, target, expected", [
    ("hydra_plugins.hydra_joblib_launcher", ["hydra/launcher=parallel"], "JoblibLauncher", {"n_jobs": 2}),
    ("hydra_plugins.hydra_submitit_launcher", ["hydra/launcher=slurm", "hydra.launcher.partition=gpu"], "SlurmLauncher",
     {"gpus_per_node": 1, "tasks_per_node": 1, "timeout_min": 180, "partition": "gpu"}),
])
def test_launcher_configs_compose_with_the_optuna_search(plugin, overrides, target, expected):
    pytest.importorskip(plugin)
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        cfg = compose("train", [*overrides, "hparams_search=optuna", "model=tiny", "trainer=fast", "output_dir=."],
                      return_hydra_config=True)
    assert get_class(cfg.hydra.launcher._target_).__name__ == target
    assert {key: cfg.hydra.launcher[key] for key in expected} == expected
    assert get_class(cfg.hydra.sweeper._target_).__name__ == "OptunaSweeper"  # the sweeper picks values, the launcher runs them
    validate(cfg)  # the trial's own config is untouched by the launcher


def test_an_eval_grid_ends_with_one_summary_row_per_job(tmp_path):
    gold = tmp_path / "gold.csv"
    gold.write_text("text,label\nwe send troops,supportive\nnot now,reserved\nnever,opposed\nout of the question,opposed\n")
    (tmp_path / "right.txt").write_text("supportive\nreserved\nopposed\nopposed\n")
    (tmp_path / "wrong.txt").write_text("opposed\nopposed\nopposed\nopposed\n")
    sweep_dir = tmp_path / "multirun"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "stance-eval"), "-m", "data=files", f"data.test={gold}",
         f"predictions={tmp_path / 'right.txt'},{tmp_path / 'wrong.txt'}", f"hydra.sweep.dir={sweep_dir}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"multirun summary: {sweep_dir / 'summary.csv'}" in result.stdout
    table = pd.read_csv(sweep_dir / "summary.csv")
    assert table["job"].tolist() == [0, 1]
    assert table["overrides"].str.contains("right.txt").tolist() == [True, False]
    assert table["status"].tolist() == ["ok", "ok"]
    assert table["macro_f1"].tolist() == [1.0, pytest.approx(0.2222, abs=1e-3)]  # one class of three right, F1 2/3
    assert table["n"].tolist() == [4, 4]


def test_a_job_that_wrote_no_scores_keeps_its_row_and_says_so(tmp_path):
    for job, overrides in (("0", ["seed=1"]), ("1", ["seed=2"]), ("10", ["seed=3"])):
        (tmp_path / job / ".hydra").mkdir(parents=True)
        (tmp_path / job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    for job, score in (("0", 0.5), ("10", 0.7)):
        (tmp_path / job / "model").mkdir()
        split_scores = {"macro_f1": score, "f_avg": score, "accuracy": score}
        (tmp_path / job / "model" / "metrics.json").write_text(json.dumps({"dev": split_scores, "test": split_scores}))
    table = pd.read_csv(write_summary(tmp_path))
    assert table["job"].tolist() == [0, 1, 10]  # job order, not text order
    assert table["overrides"].tolist() == ["seed=1", "seed=2", "seed=3"]
    assert table["status"].str.startswith("no scores").tolist() == [False, True, False]
    assert table["dev_macro_f1"].tolist()[::2] == [0.5, 0.7]
