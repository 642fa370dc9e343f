"""Assemble the predictor that a saved model directory describes: backend, members, linear blend."""

from __future__ import annotations

from stance.artifacts import ModelDirectory
from stance.inference.predictors import LinearBlend, MeanEnsemble, TemperatureScaled
from stance.inference.torch_backend import TorchPredictor


def load_predictor(
    directory: ModelDirectory,
    *,
    device: str = "auto",
    precision: str = "auto",
    max_length: int | None = None,
    allow_pickle: bool = False,
    calibrated: bool = True,
):
    """The model's transformer, averaged with its seed members, blended with its linear part,
    temperature-scaled when the model has a temperature and ``calibrated``.

    Returns ``(predictor, transformer)``: the composed predictor and the main transformer
    (whose device and precision describe the whole).
    """
    transformer = TorchPredictor.load(directory, device=device, precision=precision, max_length=max_length, allow_pickle=allow_pickle)
    predictor = transformer
    members = [
        TorchPredictor.load(
            ModelDirectory.open(member), device=device, precision=precision, max_length=max_length, allow_pickle=allow_pickle
        )
        for member in directory.member_dirs()
    ]
    if members:
        predictor = MeanEnsemble([transformer, *members])
    if directory.linear_dir is not None:
        # scikit-learn and scipy only for a model that has a linear part (half a second of a start)
        from stance.models.linear import LinearStance

        linear = LinearStance.load(directory.linear_dir)
        if linear.blend_weight:
            predictor = LinearBlend(predictor, linear, linear.blend_weight)
    if calibrated and directory.temperature:
        predictor = TemperatureScaled(predictor, directory.temperature)
    return predictor, transformer
