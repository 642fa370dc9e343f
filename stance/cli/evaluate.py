"""``stance-eval``: score a model or a predictions file (Hydra app over stance.evaluation.evaluate)."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from stance.cli.errors import debug_requested, run_cli, run_hydra_app
from stance.config import CONFIG_MODULE


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="eval", version_base="1.3")
def eval_app(cfg: DictConfig) -> float:
    from stance.cli.logs import route_library_logs
    from stance.evaluation import evaluate

    route_library_logs()
    metrics = run_cli(lambda: evaluate(cfg), debug=debug_requested())
    print(f"f_avg={metrics['f_avg']:.4f} macro_f1={metrics['macro_f1']:.4f} accuracy={metrics['accuracy']:.4f} n={metrics['n']}")
    print(f"metrics.json, report.md, errors.csv and the figures in {cfg.output_dir}")  # a new outputs/<date>/<time>/ each run
    return metrics["macro_f1"]


def main() -> None:
    run_hydra_app(eval_app, sys.argv)
