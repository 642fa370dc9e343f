"""Seed ensembles: more transformers of the same recipe, trained beside the main one and averaged.

On a few hundred dev examples the epoch that one seed keeps is a noisy pick, and test scores
of single seeds spread by several points; the mean of several seeds' probabilities varies
less. Each member is a complete model directory under ``<model>/members/`` (so it also loads
on its own) and is trained by ``stance.train.train`` itself.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from omegaconf import DictConfig, open_dict

log = logging.getLogger(__name__)

MEMBERS_DIRNAME = "members"


def train_members(cfg: DictConfig, model_dir: str | Path) -> list[dict]:
    """Train one model per seed in ``cfg.ensemble.seeds`` into ``<model_dir>/members/seed-<n>``; their metrics."""
    from stance.train import train  # train() calls this module: imported here, not at the top

    members = Path(model_dir) / MEMBERS_DIRNAME
    results = []
    for seed in cfg.ensemble.seeds:
        member_cfg = cfg.copy()
        with open_dict(member_cfg):  # a plain single model: the blend is fitted once, on the average
            member_cfg.seed = int(seed)
            member_cfg.output_dir = str(Path(cfg.output_dir) / "members" / f"seed-{seed}")
            member_cfg.ensemble = None
            member_cfg.linear = None
        log.info("ensemble: training the member with seed %s", seed)
        metrics = train(member_cfg)
        members.mkdir(parents=True, exist_ok=True)
        shutil.move(metrics["model_dir"], members / f"seed-{seed}")
        results.append({"seed": int(seed), "dev": metrics["dev"], "train_seconds": metrics["train_seconds"]})
    return results


def member_dirs(model_dir: str | Path) -> list[Path]:
    members = Path(model_dir) / MEMBERS_DIRNAME
    return sorted(p for p in members.iterdir() if p.is_dir()) if members.is_dir() else []
