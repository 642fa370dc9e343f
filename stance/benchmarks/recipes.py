"""Train one recipe for a benchmark, the way ``stance-train`` would, and time it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from stance.config import compose
from stance.training import train


def train_recipe(run_dir: str | Path, overrides: Sequence[str]) -> tuple[object, dict, float]:
    """Compose ``train`` with ``overrides``, train into ``run_dir``; (config, metrics, CPU seconds)."""
    cfg = compose("train", [*overrides, f"output_dir={Path(run_dir).resolve()}"])
    cpu_started = time.process_time()
    metrics = train(cfg)
    return cfg, metrics, time.process_time() - cpu_started
