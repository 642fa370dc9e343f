"""Choosing the torch device and numeric precision, shared by training and inference."""

from __future__ import annotations

import torch

from stance.errors import StanceError
from stance.hardware import cpu_has_bf16_units
from stance.inference.runtimes import PRECISIONS


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise StanceError(f"unknown device {device!r} ({exc})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise StanceError(f"device {device!r} asked for, but no CUDA GPU is available")
    return resolved


def resolve_precision(precision: str, device: torch.device) -> str:
    """'fp32' | 'bf16' | 'int8': ``auto`` takes bf16 where the hardware runs it fast."""
    if precision not in PRECISIONS:
        raise StanceError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        if precision == "int8" and device.type != "cpu":
            raise StanceError("precision int8 (dynamic quantisation) runs on the CPU only")
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_bf16_units() else "fp32"
