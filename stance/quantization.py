"""``quantize_int8(DIR)``: an int8 copy of a model's OpenVINO export (NNCF), written only where it keeps labels.

Post-training quantisation moves probabilities by about 1e-2, so labels near a tie can flip.
The int8 graph is calibrated on one part of a sample of statements and checked on another:
it is written to ``openvino/int8/`` only if it gives the fp32 export's label (which equals
PyTorch's: stance-export checked that) on at least ``min_agreement`` of the checked rows.
The check says how it does on text like the sample; text unlike it may keep fewer labels
(measured: 99.67% of corpus statements, 97.15% of TweetEval tweets for the default model).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np

from stance.artifacts import (
    INT8_FILE, OPENVINO_CACHE_DIRNAME, OPENVINO_DIRNAME, OPENVINO_FILE, OPENVINO_INT8_DIRNAME, WEIGHTS_FILE, ModelDirectory,
    weights_fingerprint,
)
from stance.errors import StanceError
from stance.export import ExportError, bundled_pairs, label_agreement
from stance.inference.exported_backend import ExportedPredictor
from stance.inference.runtimes import open_graph
from stance.inference.tokens import Encoder
from stance.io.atomic import atomic_write_text
from stance.labels import label_columns

log = logging.getLogger(__name__)

MIN_AGREEMENT = 0.995  # the share of fp32 labels a default precision must keep (issue 13)
CALIBRATION_ROWS = 300
CHECK_ROWS = 1000
MIN_CHECK_ROWS = 200  # at 99.5%, one flip in 200: fewer rows could not tell
SEED = 13
STAGING_NAME = ".int8.partial"  # inside openvino/, so the final move is a rename


def quantize_int8(model_dir: str | Path, *, calibration: str | Path | None = None, samples: tuple | None = None,
                  min_agreement: float = MIN_AGREEMENT) -> dict:
    """Quantise the exported transformer (and each seed member) to int8, check it, write it; return the record.

    ``calibration`` is a table with a ``text`` column (and ``target``, else the model's
    default target): rows like those the model will label. ``samples`` gives the rows
    directly, as ``pick_samples`` returns them (stance-train passes its train and dev
    splits). Without either, the bundled corpus (train rows to calibrate, dev rows to
    check). Raises ExportError, and writes nothing for that model, if the int8 graph keeps
    fewer than ``min_agreement`` of the labels.
    """
    started = time.perf_counter()
    directory = ModelDirectory.open(model_dir)
    directory.export_record()  # quantises the checked fp32 export, so it must be there and current
    if not (directory.path / OPENVINO_DIRNAME / OPENVINO_FILE).is_file():
        raise StanceError(f"{directory.path} has no OpenVINO model to quantise (exported with --no-openvino?): "
                          f"run stance-export {directory.path} --int8")
    if not 0 < min_agreement <= 1:
        raise StanceError(f"min_agreement must be in (0, 1], not {min_agreement}")
    try:
        import nncf  # noqa: F401  (checked before any work)
    except ImportError:
        raise StanceError("int8 quantisation needs NNCF, which is not installed: pip install 'stance[int8]'") from None
    samples = samples or _samples(calibration, directory.default_target)
    members = [quantize_int8(member, samples=samples, min_agreement=min_agreement) for member in directory.member_dirs()]
    (calib_texts, calib_targets), (check_texts, check_targets), source = samples
    folder = directory.path / OPENVINO_DIRNAME
    staging = folder / STAGING_NAME
    final = folder / OPENVINO_INT8_DIRNAME
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(final, ignore_errors=True)  # an int8 model of other weights must not outlive a failed check
    try:
        encoder = Encoder(directory.path, directory.max_length, pairs=True)
        _quantize(folder / OPENVINO_FILE, encoder, calib_texts, calib_targets, staging / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME / OPENVINO_FILE)
        columns = label_columns(directory.config().get("id2label") or {})
        reference = ExportedPredictor(open_graph(directory.path, "openvino", "fp32"), encoder, columns, backend="openvino", precision="fp32")
        # the int8 graph opened exactly as the runtime opens it (open_graph looks in openvino/int8/)
        quantized = ExportedPredictor(open_graph(staging, "openvino", "int8"), encoder, columns, backend="openvino", precision="int8")
        check = label_agreement(reference.predict_proba(check_texts, check_targets), quantized.predict_proba(check_texts, check_targets))
        if check["labels_equal"] < min_agreement:
            raise ExportError(f"{directory.path}: int8 keeps {check['labels_equal']:.2%} of the fp32 labels on {check['rows']} rows of "
                              f"{source} (needs {min_agreement:.1%}); not written, fp32/bf16 stay as they are")
        (staging / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME).rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    record = {
        "weights": weights_fingerprint(directory.path / WEIGHTS_FILE),
        "method": "nncf.quantize, TRANSFORMER model type, MIXED preset",
        "calibration": {"source": source, "rows": len(calib_texts)},
        "check": {"source": source, "against": "openvino fp32", "min_agreement": min_agreement, **check},
        "members": len(members),
        "versions": _versions(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    atomic_write_text(final / INT8_FILE, json.dumps(record, indent=2))  # last: the int8 model is complete and checked
    (final / OPENVINO_CACHE_DIRNAME).mkdir()
    open_graph(directory.path, "openvino", "int8")  # compiled once here, so the first stance-label starts fast
    log.info("int8 model of %s: %.2f%% of labels kept on %d rows of %s (%.1f s)",
             directory.path, 100 * check["labels_equal"], check["rows"], source, record["seconds"])
    return record


def _quantize(source: Path, encoder: Encoder, texts: list[str], targets: list[str], out: Path) -> None:
    import nncf
    import openvino

    encodings = encoder.encode(texts, targets)
    # one unpadded pair per calibration item, as the runtime feeds a batch of one
    items = [arrays for _, arrays in encoder.batches(encodings, 1)]
    model = openvino.Core().read_model(str(source))
    quantized = nncf.quantize(model, nncf.Dataset(items), model_type=nncf.ModelType.TRANSFORMER,
                              preset=nncf.QuantizationPreset.MIXED, subset_size=len(items))
    out.parent.mkdir(parents=True)
    openvino.save_model(quantized, str(out), compress_to_fp16=False)  # the layers left in float keep fp32 weights


def pick_samples(calibrate: list[tuple[str, str]], check: list[tuple[str, str]], source: str) -> tuple:
    """Up to CALIBRATION_ROWS of the ``calibrate`` (text, target) pairs and CHECK_ROWS of ``check``, at random (seeded)."""
    if len(check) < MIN_CHECK_ROWS:
        raise StanceError(f"{source}: {len(check)} rows to check int8 on; it needs at least {MIN_CHECK_ROWS}")
    rng = np.random.default_rng(SEED)

    def some(rows, n):
        return tuple(map(list, zip(*[rows[i] for i in sorted(rng.permutation(len(rows))[:n])])))

    return some(calibrate, CALIBRATION_ROWS), some(check, CHECK_ROWS), source


def _samples(calibration: str | Path | None, default_target: str | None) -> tuple:
    """((texts, targets) to calibrate on, (texts, targets) to check on, a name for the source)."""
    if calibration is None:
        return pick_samples(bundled_pairs("train"), bundled_pairs("dev"), "the bundled corpus (train to calibrate, dev to check)")
    from stance.io.readers import read_frame

    frame = read_frame(calibration)
    if "text" not in frame.columns:
        raise StanceError(f"{calibration}: the calibration file needs a 'text' column (it has {', '.join(map(str, frame.columns))})")
    texts = frame["text"].astype(str)
    targets = frame["target"].astype(str) if "target" in frame.columns else [default_target or ""] * len(frame)
    rows = [(text, target) for text, target in zip(texts, targets) if text.strip()]
    needed = CALIBRATION_ROWS + MIN_CHECK_ROWS
    if len(rows) < needed:
        raise StanceError(f"{calibration}: {len(rows)} non-empty rows; int8 needs at least {needed} "
                          f"({CALIBRATION_ROWS} to calibrate, {MIN_CHECK_ROWS} to check)")
    rows = [rows[i] for i in np.random.default_rng(SEED).permutation(len(rows))]  # a file may be sorted by anything
    return pick_samples(rows[:CALIBRATION_ROWS], rows[CALIBRATION_ROWS:], str(calibration))


def _versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ["nncf", "openvino"]}
