"""What the CPU offers, read once; no torch, so labeling and benchmarks can ask cheaply."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def _cpuinfo_field(field: str) -> str:
    """The first ``field`` line of /proc/cpuinfo ('' where there is none, or no such file)."""
    return next((line.split(":", 1)[1].strip() for line in _cpuinfo().splitlines() if line.startswith(field)), "")


def cpu_flags() -> frozenset[str]:
    return frozenset(_cpuinfo_field("flags").split())


def cpu_model_name() -> str:
    return _cpuinfo_field("model name")


def cpu_has_bf16_units() -> bool:
    """True where the CPU multiplies bf16 in hardware (AMX or AVX512-BF16); bf16 is slower elsewhere."""
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


def may_have_cuda_gpu() -> bool:
    """True where an NVIDIA driver is loaded, so asking torch (seconds to import) may find a GPU; False skips that."""
    return Path("/proc/driver/nvidia/gpus").is_dir() or Path("/dev/nvidiactl").exists()
