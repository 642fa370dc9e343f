"""The CPU runtimes that run an exported graph: ONNX Runtime and OpenVINO, imported only when used.

``open_graph(directory, backend, precision)`` returns a callable from named int64 arrays to
the graph's first output. Both runtimes come with the default install; an install without
one gets a one-line StanceError naming the package, which the CLIs turn into exit code 2.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from stance.artifacts import ONNX_FILE, OPENVINO_CACHE_DIRNAME, OPENVINO_DIRNAME, OPENVINO_FILE, OPENVINO_INT8_DIRNAME
from stance.errors import StanceError
from stance.hardware import cpu_has_bf16_units

PRECISIONS = ("auto", "fp32", "bf16", "int8")
EXPORTED_BACKENDS = ("onnxruntime", "openvino")
BACKENDS = ("auto", "torch", *EXPORTED_BACKENDS)
# the pip requirement of each runtime, as pyproject lists it
PACKAGES = {"onnxruntime": "onnxruntime>=1.20", "openvino": "openvino>=2025.1"}


def installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


def require(backend: str) -> None:
    if not installed(backend):
        raise StanceError(f"backend {backend} needs the package {backend}, which is not installed: pip install '{PACKAGES[backend]}'")


def resolve_precision(backend: str, precision: str) -> str:
    """'fp32', 'bf16' or 'int8' for an exported backend; ``auto`` takes bf16 on OpenVINO where the CPU has bf16 units.

    int8 is OpenVINO's NNCF-quantised copy that ``stance-export --int8`` writes only where it keeps labels.
    """
    if precision not in PRECISIONS:
        raise StanceError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "int8" and backend != "openvino":
        # ONNX Runtime's dynamic int8 of this graph kept 96-97% of fp32 labels in our measurements (README)
        raise StanceError(f"precision int8 runs on the openvino backend (after stance-export MODEL_DIR --int8) or on torch, not on {backend}")
    if backend == "onnxruntime":
        if precision == "bf16":
            raise StanceError("onnxruntime has no bf16 kernels on the CPU: use --backend openvino for bf16")
        return "fp32"
    if precision == "auto":
        return "bf16" if cpu_has_bf16_units() else "fp32"
    return precision


def _threads() -> int | None:
    # Neither runtime reads OMP_NUM_THREADS; honour it as torch does, so a job limited to
    # one core on a shared machine stays on one core whatever the backend.
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def open_graph(directory: Path, backend: str, precision: str):
    """The graph exported into ``directory``, compiled for the CPU at ``precision`` (fp32, bf16, or int8 on OpenVINO)."""
    require(backend)
    if backend == "onnxruntime":
        return _onnxruntime(directory / ONNX_FILE)
    if precision == "int8":
        # the layers NNCF left in floating point run in bf16 where the CPU has bf16 units (~7% faster);
        # stance-export --int8 checks the labels of exactly this compiled graph
        return _openvino(directory / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME / OPENVINO_FILE, "bf16" if cpu_has_bf16_units() else "fp32")
    return _openvino(directory / OPENVINO_DIRNAME / OPENVINO_FILE, precision)


def _onnxruntime(path: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings about unused initialisers are noise here
    if _threads():
        options.intra_op_num_threads = _threads()
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable files
        raise StanceError(f"cannot load {path}: {str(exc).splitlines()[0]}") from None
    names = [node.name for node in session.get_inputs()]

    def run(arrays: dict[str, np.ndarray]) -> np.ndarray:
        return session.run(None, {name: arrays[name] for name in names})[0]

    return run


def _openvino(path: Path, precision: str):
    import openvino

    config = {
        "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
        "PERFORMANCE_HINT": "LATENCY",
        # threads pinned to cores that other processes also use wait for them: up to 2.5x slower
        # on this project's shared 2-core machine
        "ENABLE_CPU_PINNING": False,
    }
    if _threads():
        config["INFERENCE_NUM_THREADS"] = _threads()
    cache = path.parent / OPENVINO_CACHE_DIRNAME
    if cache.is_dir() and os.access(cache, os.W_OK):
        # The compiled graph without its weights (under a MiB; the weights stay in model.bin):
        # loading it takes about half the time of compiling the IR again. Keyed by the IR's path.
        config.update({"CACHE_DIR": str(cache), "CACHE_MODE": "OPTIMIZE_SIZE"})
    try:
        compiled = openvino.Core().compile_model(str(path), "CPU", config)
    except Exception as exc:  # OpenVINO raises RuntimeError with a multi-line report
        raise StanceError(f"cannot load {path}: {str(exc).strip().splitlines()[0]}") from None
    names = [node.get_any_name() for node in compiled.inputs]
    request = compiled.create_infer_request()

    def run(arrays: dict[str, np.ndarray]) -> np.ndarray:
        # the request's output buffer is reused by the next call: copy it out
        return request.infer({name: arrays[name] for name in names})[0].copy()

    return run
