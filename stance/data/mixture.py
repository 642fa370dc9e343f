"""Mixtures: several sources trained together, each weighted; dev and test from one of them."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from stance.data.sources import source_frames
from stance.errors import DataError

log = logging.getLogger(__name__)


def mixture_frames(cfg, seed: int, splits: tuple[str, ...], keep_all_rows: bool) -> dict[str, pd.DataFrame]:
    """Training data from several sources, each repeated or subsampled by its weight.

    Dev and test come from ``eval_source`` alone when it is set (so model selection and
    the reported score are those of the benchmark), else from every source together.
    """
    sources, eval_source = cfg.sources, cfg.eval_source
    if eval_source and eval_source not in sources:
        raise DataError(f"data.eval_source {eval_source!r} is not one of the sources: {', '.join(sources)}")
    weights = cfg.weights or {}
    rng = np.random.default_rng(seed)
    frames: dict[str, list[pd.DataFrame]] = {split: [] for split in splits}
    for name, source_cfg in sources.items():
        wanted = splits if not eval_source or name == eval_source else tuple(s for s in splits if s == "train")
        if not wanted:
            continue
        loaded = source_frames(source_cfg, seed, wanted, keep_all_rows)
        for split in wanted:
            frame = loaded[split]
            if split == "train":
                frame = _reweight(frame, float(weights.get(name, 1.0)), rng)
                log.info("mixture: %d training examples from %s (weight %s)", len(frame), name, weights.get(name, 1.0))
            frames[split].append(frame)
    return {split: pd.concat(parts, ignore_index=True) for split, parts in frames.items()}


def _reweight(frame: pd.DataFrame, weight: float, rng: np.random.Generator) -> pd.DataFrame:
    """Each example ``floor(weight)`` times, plus a random share for the fraction left."""
    whole, fraction = int(weight), weight - int(weight)
    extra = frame.iloc[rng.permutation(len(frame))[: round(fraction * len(frame))]]
    return pd.concat([frame] * whole + [extra], ignore_index=True)
