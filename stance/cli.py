"""Console entry points: thin shims over the plain functions in train, evaluation and label."""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from stance.config import CONFIG_MODULE
from stance.errors import StanceError

def _route_library_logs() -> None:
    """Send transformers' and datasets' records through Hydra's handlers (they do not propagate)."""
    import datasets
    import transformers

    transformers.utils.logging.disable_default_handler()
    for library in (transformers, datasets):
        library.utils.logging.enable_propagation()
        library.utils.logging.set_verbosity_warning()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()  # tokenizing bars add noise; the Trainer's bar is the one to watch
    # datasets offers no switch for its own stderr handler; drop it so records print once
    datasets_root = logging.getLogger("datasets")
    for handler in list(datasets_root.handlers):
        datasets_root.removeHandler(handler)


def _run(function, cfg: DictConfig):
    _route_library_logs()
    try:
        return function(cfg)
    except StanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="train", version_base="1.3")
def train_main(cfg: DictConfig) -> None:
    from stance.train import train

    metrics = _run(train, cfg)
    print(metrics["model_dir"])  # last line: the trained model, for scripts to pick up


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="eval", version_base="1.3")
def eval_main(cfg: DictConfig) -> None:
    from stance.evaluation import evaluate

    metrics = _run(evaluate, cfg)
    print(f"f_avg={metrics['f_avg']:.4f} macro_f1={metrics['macro_f1']:.4f} accuracy={metrics['accuracy']:.4f} n={metrics['n']}")
