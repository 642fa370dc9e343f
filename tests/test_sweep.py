"""stance-train -m: the Optuna sweep (hparams_search=optuna) runs trials and reports the best."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml


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
    best = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert best["best_value"] == max(scores.values())
    assert set(best["best_params"]) == {"trainer.learning_rate", "trainer.max_epochs", "trainer.batch_size",
                                        "trainer.warmup_ratio", "trainer.class_weights"}
