"""Seed ensembles: more transformers of the same recipe, trained beside the main one and averaged.

On a few hundred dev examples the epoch that one seed keeps is a noisy pick, and test scores
of single seeds spread by several points; the mean of several seeds' probabilities varies
less. Each member is a complete model directory under ``<model>/members/`` (so it also loads
on its own), trained on the same splits as the main model.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from omegaconf import open_dict

from stance.artifacts import MEMBERS_DIRNAME, member_name
from stance.training.finetune import fit_transformer, save_transformer

log = logging.getLogger(__name__)


def train_members(cfg, splits, model_dir: str | Path) -> list[dict]:
    """Fine-tune one member per seed in ``cfg.ensemble.seeds`` into ``<model_dir>/members/seed-<n>``."""
    results = []
    for seed in cfg.ensemble.seeds:
        member_cfg = cfg.copy()
        with open_dict(member_cfg):  # a plain single model: the blend is fitted once, on the average
            member_cfg.seed = int(seed)
            member_cfg.ensemble.seeds = []
            member_cfg.linear = None
        log.info("ensemble: training the member with seed %s", seed)
        started = time.perf_counter()
        trainer = fit_transformer(member_cfg, splits, Path(cfg.output_dir) / MEMBERS_DIRNAME / member_name(seed))
        save_transformer(trainer, member_cfg, Path(model_dir) / MEMBERS_DIRNAME / member_name(seed))
        results.append({
            "seed": int(seed),
            f"dev_{cfg.trainer.select_metric}": trainer.state.best_metric,
            "train_seconds": round(time.perf_counter() - started, 1),
        })
    return results
