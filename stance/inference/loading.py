"""Assemble the predictor that a saved model directory describes: backend, members, linear blend."""

from __future__ import annotations

import logging

from stance.artifacts import ENCODER_DIRNAME, ModelDirectory
from stance.errors import StanceError
from stance.hardware import cpu_has_bf16_units, may_have_cuda_gpu
from stance.inference.predictors import LinearBlend, MeanEnsemble, TemperatureScaled
from stance.inference.runtimes import BACKENDS, EXPORTED_BACKENDS, installed, require

log = logging.getLogger(__name__)


def load_predictor(
    directory: ModelDirectory, *, backend: str = "auto", device: str = "auto", precision: str = "auto", max_length: int | None = None,
    allow_pickle: bool = False, calibrated: bool = True,
):
    """The model's transformer, averaged with its seed members, blended with its linear part,
    temperature-scaled when the model has a temperature and ``calibrated``, all on one backend.

    Returns ``(predictor, transformer)``: the composed predictor and the main transformer
    (whose backend, device and precision describe the whole).
    """
    backend = resolve_backend(directory, backend, device, precision)
    if backend == "torch":
        from stance.inference.torch_backend import TorchPredictor

        def load(part: ModelDirectory):
            return TorchPredictor.load(part, device=device, precision=precision, max_length=max_length, allow_pickle=allow_pickle)
    else:
        if device not in ("auto", "cpu"):
            raise StanceError(f"backend {backend} runs on the CPU; use --backend torch for device {device}")
        from stance.inference.exported_backend import ExportedPredictor

        def load(part: ModelDirectory):
            return ExportedPredictor.load(part, backend=backend, precision=precision, max_length=max_length)

    transformer = load(directory)
    predictor = transformer
    members = [load(ModelDirectory.open(member)) for member in directory.member_dirs()]
    if members:
        predictor = MeanEnsemble([transformer, *members])
    if directory.linear_dir is not None:
        # scikit-learn and scipy only for a model that has a linear part (half a second of a start)
        from stance.models.linear import LinearStance

        linear = LinearStance.load(directory.linear_dir)
        if linear.blend_weight:
            if backend != "torch" and linear.needs_encoder:
                from stance.inference.exported_backend import ExportedSentenceEncoder

                # the sentence encoder has no int8 copy: it runs at the precision auto picks
                encoder_precision = "auto" if precision == "int8" else precision
                linear.encoder = ExportedSentenceEncoder(directory.linear_dir / ENCODER_DIRNAME, backend=backend, precision=encoder_precision)
            predictor = LinearBlend(predictor, linear, linear.blend_weight)
    if calibrated and directory.temperature:
        predictor = TemperatureScaled(predictor, directory.temperature)
    return predictor, transformer


def resolve_backend(directory: ModelDirectory, backend: str, device: str, precision: str) -> str:
    """The backend that ``auto`` stands for here, or the one asked for.

    ``auto`` keeps labels and takes the fastest that can: torch on a GPU or without a usable
    export; else OpenVINO in bf16 on CPUs with bf16 units, ONNX Runtime in fp32 elsewhere
    (each only where it is installed). int8 takes OpenVINO's checked int8 model where
    ``stance-export --int8`` wrote one, torch's dynamic quantisation otherwise.
    """
    if backend not in BACKENDS:
        raise StanceError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend in EXPORTED_BACKENDS:
        require(backend)
        return backend
    if backend == "torch" or device not in ("auto", "cpu"):
        return "torch"
    if precision == "int8":
        problem = export_problem(directory, int8=True) or (None if installed("openvino") else "openvino is not installed")
        if problem:
            log.debug("int8 on the torch backend: %s", problem)
        return "torch" if problem else "openvino"
    if device == "auto" and may_have_cuda_gpu():
        import torch

        if torch.cuda.is_available():
            return "torch"
    problem = export_problem(directory)
    if problem:
        log.debug("using the torch backend: %s", problem)
        return "torch"
    wants_bf16 = precision == "bf16" or (precision == "auto" and cpu_has_bf16_units())
    preference = ("openvino", "onnxruntime") if wants_bf16 else ("onnxruntime", "openvino")
    if precision == "bf16":
        preference = ("openvino",)  # onnxruntime has no bf16 kernels on the CPU
    return next((name for name in preference if installed(name)), "torch")


def export_problem(directory: ModelDirectory, int8: bool = False) -> str | None:
    """Why the model (with every member) has no usable export (or int8 model), or None."""
    try:
        for part in [directory, *map(ModelDirectory.open, directory.member_dirs())]:
            (part.int8_record if int8 else part.export_record)()
    except StanceError as exc:
        return str(exc)
    return None
