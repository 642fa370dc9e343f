"""``stance-train``: fine-tune a stance classifier (Hydra app over stance.training.train)."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from stance.cli.errors import debug_requested, run_cli, run_hydra_app
from stance.config import CONFIG_MODULE
from stance.distributed import hydra_overrides


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="train", version_base="1.3")
def train_app(cfg: DictConfig) -> float | None:
    """Train; print the model directory last; return the dev score that picked the epoch (a sweeper's objective)."""
    from stance.cli.logs import route_library_logs
    from stance.training import train

    route_library_logs()
    metrics = run_cli(lambda: train(cfg), debug=debug_requested())
    if not metrics:  # another process of a distributed run: the main one reports
        return None
    print(metrics["model_dir"])  # last line: the trained model, for scripts to pick up
    return metrics["dev"][cfg.trainer.select_metric]


def main() -> None:
    sys.argv.extend(hydra_overrides(sys.argv[1:]))  # none unless torchrun or accelerate launch started this process
    run_hydra_app(train_app, sys.argv)


if __name__ == "__main__":  # torchrun / accelerate launch -m stance.cli.train
    main()
