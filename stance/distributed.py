"""Data-parallel runs started by torchrun or ``accelerate launch``: which process this is, and
values that every process must take from the main one (rank 0).

The launchers describe the run in environment variables (``WORLD_SIZE``, ``RANK``,
``MASTER_ADDR``...); a plain ``stance-train`` has none, and is a world of one.
"""

from __future__ import annotations

import os
import time


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def from_main_process(value: str) -> str:
    """``value`` as rank 0 has it, in every process of the run (all of them must call this).

    Starts the default process group, which the Trainer then uses rather than starting its
    own: gloo for CPU tensors and, where there are GPUs, NCCL for CUDA ones, so the same
    group serves a CPU or a GPU run.
    """
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo")
    shared = [value]
    dist.broadcast_object_list(shared, src=0, device=torch.device("cpu"))
    return shared[0]


def hydra_overrides(args: list[str]) -> list[str]:
    """Overrides that this process of a data-parallel run adds to its command line ``args``.

    Each process composes its own config, and Hydra names the run directory after the time
    the process started, which differs between processes that start a second apart: all of
    them take rank 0's time instead. Only rank 0 writes ``.hydra/`` and the run log; the
    others log warnings, to the console only.
    """
    if world_size() == 1:
        return []
    overrides = []
    given = {arg.split("=", 1)[0] for arg in args}
    if not {"hydra.run.dir", "hydra.sweep.dir"} <= given:
        started = from_main_process(time.strftime("%Y-%m-%d/%H-%M-%S"))  # Hydra's default layout
        for key, root in (("hydra.run.dir", "outputs"), ("hydra.sweep.dir", "multirun")):
            if key not in given:
                overrides.append(f"{key}={root}/{started}")
    if rank() != 0:
        overrides += ["hydra.output_subdir=null", "hydra.job_logging.root.handlers=[console]", "hydra.job_logging.root.level=WARNING"]
    return overrides
