"""The training recipe, ``train(cfg) -> metrics``: fine-tune -> members -> blend -> calibrate -> evaluate -> write -> export.

Each step is a plain function. Every process of a distributed run trains; only the main
process (``Trainer.is_world_process_zero``) writes the model directory, fits the blend and
scores it. The model directory is assembled under ``model.partial/`` and renamed into place,
so a crash never leaves a half-written ``model/`` behind; the export is then added in place,
its ``export.json`` last (stance.export), so a crash during it leaves a model that runs on torch.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from stance.artifacts import LINEAR_DIRNAME, MODEL_DIRNAME, TEMPERATURE_KEY, publish, set_config_keys, staging_dir, write_metrics
from stance.config.validate import validate
from stance.data import load_splits
from stance.data.splits import data_warnings
from stance.evaluation.calibration import fit_temperature
from stance.evaluation.model_card import write_model_card
from stance.evaluation.reports import write_reports
from stance.evaluation.scoring import predict_split, score_probabilities
from stance.export import export_model
from stance.inference import StanceClassifier
from stance.inference.predictors import LinearBlend
from stance.labels import LABELS
from stance.models.linear import LinearStance
from stance.training.blend import fit_blend
from stance.training.finetune import fit_transformer, save_transformer
from stance.training.members import train_members

log = logging.getLogger(__name__)


def train(cfg) -> dict:
    """Train on ``cfg.data``, keep the epoch with the best dev ``trainer.select_metric``, save it, score dev and test.

    Writes ``<cfg.output_dir>/model`` (see stance.artifacts; its README.md is the model card), the
    test split's reports beside it (report.md, errors.csv, confusion_matrix.png, calibration.png) and
    returns the metrics with the model path under ``model_dir``; on the other processes of a
    distributed run, ``{}``.
    """
    validate(cfg)
    started = time.perf_counter()
    splits = load_splits(cfg.data, seed=cfg.seed)
    for warning in data_warnings(splits):
        log.warning(warning)
    trainer = fit_transformer(cfg, splits, cfg.output_dir)
    model_dir = Path(cfg.output_dir) / MODEL_DIRNAME
    staging = staging_dir(model_dir)
    if trainer.is_world_process_zero():
        shutil.rmtree(staging, ignore_errors=True)
    save_transformer(trainer, cfg, staging)
    members = train_members(cfg, splits, staging) if cfg.ensemble.seeds else None
    if not trainer.is_world_process_zero():
        return {}

    device = str(trainer.args.device)
    classifier = StanceClassifier.from_pretrained(staging, device=device, precision="fp32", calibrated=False)
    blend = None
    if cfg.linear:  # a linear model beside the transformer, blended by a weight chosen on dev
        blend = fit_blend(cfg.linear, splits, classifier, cfg.trainer.select_metric, staging)
        linear = LinearStance.load(staging / LINEAR_DIRNAME)
        classifier.predictor = LinearBlend(classifier.predictor, linear, linear.blend_weight)
    batch_size = cfg.trainer.eval_batch_size
    proba = {split: predict_split(classifier, splits[split], batch_size, desc=f"scoring {split}") for split in ("dev", "test")}
    temperature = fit_temperature(proba["dev"], splits["dev"]["label"])
    set_config_keys(staging, {TEMPERATURE_KEY: temperature})
    metrics = {
        "dev": score_probabilities(proba["dev"], splits["dev"], temperature),
        "test": score_probabilities(proba["test"], splits["test"], temperature),
        "best_checkpoint": Path(trainer.state.best_model_checkpoint or "").name,
        "train_steps": trainer.state.global_step,
        "train_seconds": round(time.perf_counter() - started, 1),
        "device": device,
        "processes": trainer.args.world_size,  # data-parallel processes that trained it (torchrun, accelerate launch)
        "precision": "bf16" if trainer.args.bf16 else "fp32",
        "examples": {split: len(splits[split]) for split in splits},
        **({"linear_blend": blend} if blend else {}),
        **({"ensemble_members": members} if members else {}),
    }
    write_metrics(staging, metrics)
    write_model_card(staging, cfg, metrics, final_dir=model_dir)
    publish(staging, model_dir)
    if cfg.export:  # on the final path, which OpenVINO's compiled-graph cache is keyed by
        export(model_dir, cfg.export, splits)
    write_reports(cfg.output_dir, metrics["test"], splits["test"], predicted=_labels(proba["test"]), proba=proba["test"],
                  title=f"test: {model_dir}", notes=[_selection_note(cfg, metrics)])
    calibration = metrics["test"]["calibration"]
    log.info("dev macro-F1 %.4f  test macro-F1 %.4f  test F_avg %.4f  test ECE %.3f -> %.3f (T = %.2f)", metrics["dev"]["macro_f1"],
             metrics["test"]["macro_f1"], metrics["test"]["f_avg"], calibration["ece_before"], calibration["ece_after"], temperature)
    return {**metrics, "model_dir": str(model_dir)}


def export(model_dir: Path, export_cfg, splits) -> None:
    """The exported model beside the weights, so stance-label runs without torch (and its int8 copy, if asked for).

    A failed export (a check that does not pass, an architecture the exporter cannot trace)
    costs the export, not the minutes of training before it: the model is saved and runs on torch.
    """
    try:
        export_model(model_dir, openvino=export_cfg.openvino, tolerance=export_cfg.tolerance)
    except Exception as exc:
        log.warning("no export written (%s: %s); the model runs on the torch backend", type(exc).__name__, _first_line(exc))
        log.debug("export failure", exc_info=True)
        return
    if export_cfg.int8:
        from stance.quantization import pick_samples, quantize_int8

        pairs = {split: list(zip(splits[split]["text"], splits[split]["target"])) for split in ("train", "dev")}
        try:
            quantize_int8(model_dir, samples=pick_samples(pairs["train"], pairs["dev"], "this run's data (train to calibrate, dev to check)"))
        except Exception as exc:
            log.warning("no int8 model written (%s: %s); --precision int8 runs on torch", type(exc).__name__, _first_line(exc))


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else ""


def _labels(proba) -> list[str]:
    return [LABELS[i] for i in proba.argmax(axis=1)]


def _selection_note(cfg, metrics: dict) -> str:
    dev = metrics["dev"]
    return (f"The epoch ({metrics['best_checkpoint'] or 'the last'}) and the temperature were chosen on dev "
            f"({metrics['examples']['dev']} statements: macro-F1 {dev['macro_f1']:.3f}, F_avg {dev['f_avg']:.3f}, "
            f"by {cfg.trainer.select_metric}); test was not looked at.")
