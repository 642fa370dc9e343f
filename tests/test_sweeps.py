"""Sweep launchers: the trials of a sweep (the Optuna search included) in parallel on one machine
(joblib) or as SLURM jobs (submitit)."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import get_class

from stance.config import CONFIG_MODULE
from stance.config.validate import validate


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
