"""What the CPU offers, read once; no torch, so labeling and benchmarks can ask cheaply."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_bf16_units() -> bool:
    """True where the CPU multiplies bf16 in hardware (AMX or AVX512-BF16); bf16 is slower elsewhere."""
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


def may_have_cuda_gpu() -> bool:
    """True where an NVIDIA driver is loaded, so asking torch (seconds to import) may find a GPU; False skips that."""
    return Path("/proc/driver/nvidia/gpus").is_dir() or Path("/dev/nvidiactl").exists()
