"""``export_model(DIR)``: a saved model as ONNX (and OpenVINO IR) beside its weights, checked before it is written.

The exported graph runs on ONNX Runtime or OpenVINO with the ``tokenizers`` library in
front of it (stance.inference.exported_backend), so labeling starts without torch. Every
part is checked against the PyTorch model it came from on a fixed sample of pairs: the
token ids must be equal, labels equal and probabilities within ``tolerance``, on each
runtime installed. An export that fails is not written; ``export.json`` is written last, so
a directory holds a complete, checked export or none that a loader will use.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
import time
import warnings
from importlib.resources import files
from pathlib import Path

import numpy as np

from stance.artifacts import (
    ENCODER_DIRNAME, ENCODER_SETTINGS_FILE, EXPORT_FILE, ONNX_FILE, OPENVINO_CACHE_DIRNAME, OPENVINO_DIRNAME, OPENVINO_FILE, TOKENIZER_FILE,
    WEIGHTS_FILE, ModelDirectory, weights_fingerprint,
)
from stance.errors import StanceError
from stance.hardware import cpu_has_bf16_units
from stance.inference.exported_backend import ExportedPredictor, ExportedSentenceEncoder
from stance.inference.runtimes import EXPORTED_BACKENDS, installed, open_graph, resolve_precision
from stance.inference.tokens import Encoder
from stance.io.atomic import atomic_write_text
from stance.labels import label_columns

log = logging.getLogger(__name__)

OPSET = 17
STAGING_NAME = ".export.partial"  # inside the model directory, so the final moves are renames
SAMPLE_ROWS = 40  # bundled statements checked, of every length: a second or two of each runtime
TOLERANCE = 1e-4  # max |Δp| against PyTorch fp32; the graphs agree to ~1e-7, so this catches only real faults


class ExportError(StanceError):
    """The exported model does not match the PyTorch model; nothing was written."""


def export_model(model_dir: str | Path, *, openvino: bool = True, tolerance: float = TOLERANCE) -> dict:
    """Export the model in ``model_dir`` (members and linear encoder included), check it, write it; return the record.

    Writes ``model.onnx``, ``openvino/model.xml`` (+ ``.bin``; unless ``openvino=False`` or
    OpenVINO is not installed), ``linear/encoder/`` where the linear model embeds sentences,
    and ``export.json``. Raises ExportError, and writes nothing, if any check fails.
    """
    started = time.perf_counter()
    directory = ModelDirectory.open(model_dir)
    runtimes = [backend for backend in EXPORTED_BACKENDS if installed(backend) and (openvino or backend != "openvino")]
    if not runtimes:
        raise StanceError("stance-export needs onnxruntime or openvino to check the export with: pip install onnxruntime")
    members = [export_model(member, openvino=openvino, tolerance=tolerance) for member in directory.member_dirs()]
    remove_export(directory)  # an export of other weights must not outlive a failed check
    staging = directory.path / STAGING_NAME
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        checks = _export_transformer(directory, staging, runtimes, tolerance)
        if directory.linear_dir is not None:
            checks.update(_export_linear_encoder(directory, staging, runtimes, tolerance))
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            target = directory.path / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    record = {
        "weights": weights_fingerprint(directory.path / WEIGHTS_FILE),
        "files": [ONNX_FILE] + ([f"{OPENVINO_DIRNAME}/{OPENVINO_FILE}"] if "openvino" in runtimes else []),
        "opset": OPSET,
        "checks": checks,
        "members": len(members),
        "versions": _versions(runtimes),
        "seconds": round(time.perf_counter() - started, 1),
    }
    atomic_write_text(directory.path / EXPORT_FILE, json.dumps(record, indent=2))
    if "openvino" in runtimes:
        for folder in [directory.path] + ([directory.linear_dir / ENCODER_DIRNAME] if "linear_openvino" in checks else []):
            # made after the moves, since OpenVINO keys its cache by the IR's path; compiled once here,
            # for what precision=auto takes on this CPU, so that the first stance-label starts fast
            (folder / OPENVINO_DIRNAME / OPENVINO_CACHE_DIRNAME).mkdir()
            open_graph(folder, "openvino", resolve_precision("openvino", "auto"))
    log.info("exported %s (%s) in %.1f s", directory.path, ", ".join(runtimes), record["seconds"])
    return record


def remove_export(directory: ModelDirectory) -> None:
    """Delete what an export wrote: ``export.json`` first, so a half-removed export is never used."""
    (directory.path / EXPORT_FILE).unlink(missing_ok=True)
    (directory.path / ONNX_FILE).unlink(missing_ok=True)
    shutil.rmtree(directory.path / OPENVINO_DIRNAME, ignore_errors=True)
    if directory.linear_dir is not None:
        shutil.rmtree(directory.linear_dir / ENCODER_DIRNAME, ignore_errors=True)


def _export_transformer(directory: ModelDirectory, staging: Path, runtimes: list[str], tolerance: float) -> dict:
    import torch

    from stance.inference.torch_backend import TorchPredictor
    from stance.models.encoding import encode_pairs

    reference = TorchPredictor.load(directory, device="cpu", precision="fp32")
    texts, targets = check_sample(directory.default_target)
    encoder = Encoder(directory.path, reference.max_length, pairs=True)
    expected = encode_pairs(reference.tokenizer, targets, texts, reference.max_length)["input_ids"]
    if [e.ids for e in encoder.encode(texts, targets)] != expected:
        raise ExportError(f"{directory.path}: the tokenizers library does not reproduce the model's tokenizer from {TOKENIZER_FILE}; not exported")
    names = list(reference.tokenizer.model_input_names)
    model = reference.model
    model.set_attn_implementation("eager")  # the attention that the ONNX exporter translates one to one
    _to_onnx(_traceable(model, names, lambda out, _: out.logits), _example(reference.tokenizer, names), names, staging / ONNX_FILE)
    if "openvino" in runtimes:
        _to_openvino(staging)
    with torch.inference_mode():
        proba = reference.predict_proba(texts, targets, batch_size=16)
    columns = label_columns(model.config.id2label)
    checks = {}
    for backend in runtimes:
        exported = ExportedPredictor(open_graph(staging, backend, "fp32"), encoder, columns, backend=backend, precision="fp32")
        checks[backend] = _compare(proba, exported.predict_proba(texts, targets, batch_size=16), tolerance, f"{directory.path}: {backend}")
    if "openvino" in runtimes and cpu_has_bf16_units():
        # what precision=auto gives on this CPU: reported, not required (bf16 rounds by design)
        bf16 = ExportedPredictor(open_graph(staging, "openvino", "bf16"), encoder, columns, backend="openvino", precision="bf16")
        checks["openvino_bf16"] = label_agreement(proba, bf16.predict_proba(texts, targets, batch_size=16))
    return checks


def _export_linear_encoder(directory: ModelDirectory, staging: Path, runtimes: list[str], tolerance: float) -> dict:
    """The linear model's sentence encoder, with its pooling in the graph; its blend checked as the transformer's."""
    import torch

    from stance.models.linear import LinearStance, SentenceEncoder, encoder_source, mean_pool

    linear = LinearStance.load(directory.linear_dir)
    if not linear.needs_encoder:
        return {}
    max_length = linear.settings["max_length"]
    linear.encoder = source = SentenceEncoder(encoder_source(linear.settings["encoder"]), max_length)
    out = staging / directory.linear_dir.name / ENCODER_DIRNAME
    source.tokenizer.save_pretrained(str(out))
    (out / ENCODER_SETTINGS_FILE).write_text(json.dumps({"max_length": max_length, "dim": int(source.model.config.hidden_size)}))
    texts, targets = check_sample(None, known=list(linear.coef))
    expected_ids = source.tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    if [e.ids for e in Encoder(out, max_length, pairs=False).encode(texts)] != expected_ids:
        raise ExportError(f"{directory.linear_dir}: the tokenizers library does not reproduce the sentence encoder's tokenizer; not exported")
    with torch.inference_mode():
        expected = linear.predict_proba(texts, targets)  # with the torch encoder, as the torch backend runs it
    names = list(source.tokenizer.model_input_names)
    source.model.set_attn_implementation("eager")
    pooled = _traceable(source.model, names, lambda result, arrays: mean_pool(result.last_hidden_state, arrays["attention_mask"]))
    _to_onnx(pooled, _example(source.tokenizer, names, pairs=False), names, out / ONNX_FILE)
    if "openvino" in runtimes:
        _to_openvino(out)
    checks = {}
    for backend in runtimes:
        linear.encoder = ExportedSentenceEncoder(out, backend=backend, precision="fp32")
        checks[f"linear_{backend}"] = _compare(expected, linear.predict_proba(texts, targets), tolerance, f"{directory.linear_dir}: {backend}")
    return checks


def _traceable(model, names: list[str], pick):
    """A module of positional tensors (what the exporter traces) returning ``pick(model output, named inputs)``."""
    import torch

    class Traceable(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            arrays = dict(zip(names, tensors))
            return pick(self.model(**arrays), arrays)

    return Traceable().eval()  # a new module starts in training mode, and the exporter restores that mode onto the model


def _example(tokenizer, names: list[str], pairs: bool = True):
    """Two padded rows: with a row shorter than the other, the traced graph keeps the masking path."""
    texts = ["a statement long enough to need padding in the other row", "short"]
    encoded = tokenizer(["a target", "another target"], texts, padding=True, return_tensors="pt") if pairs else \
        tokenizer(texts, padding=True, return_tensors="pt")
    return tuple(encoded[name] for name in names)


def _to_onnx(module, example: tuple, names: list[str], path: Path) -> None:
    import torch

    dynamic = {name: {0: "batch", 1: "sequence"} for name in names}
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated and warns about traced branches; it exports in
        # about 2 s where torch.export takes 15-20 s, and the check after it vouches for the graph.
        warnings.simplefilter("ignore")
        torch.onnx.export(module, example, str(path), input_names=names, output_names=["output"],
                          dynamic_axes={**dynamic, "output": {0: "batch"}}, opset_version=OPSET, dynamo=False)


def _to_openvino(folder: Path) -> None:
    import openvino

    model = openvino.Core().read_model(str(folder / ONNX_FILE))  # a tenth of convert_model's time, the same graph
    # full-precision weights: compressing to fp16 would change fp32 results
    openvino.save_model(model, str(folder / OPENVINO_DIRNAME / OPENVINO_FILE), compress_to_fp16=False)


def label_agreement(reference: np.ndarray, proba: np.ndarray) -> dict:
    return {
        "rows": len(reference),
        "labels_equal": round(float((reference.argmax(axis=1) == proba.argmax(axis=1)).mean()), 4),
        "max_abs_diff": float(np.abs(reference - proba).max()),
    }


def _compare(reference: np.ndarray, proba: np.ndarray, tolerance: float, what: str) -> dict:
    result = label_agreement(reference, proba)
    top2 = np.sort(reference, axis=1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > 2 * tolerance  # a near-tie may go either way within the tolerance
    flipped = int((reference.argmax(axis=1) != proba.argmax(axis=1))[decided].sum())
    if result["max_abs_diff"] > tolerance or flipped:
        raise ExportError(f"{what} differs from PyTorch (max |Δp| {result['max_abs_diff']:.2g} > {tolerance:g} or "
                          f"{flipped} labels changed on {result['rows']} pairs); not exported")
    return result


def bundled_pairs(split: str) -> list[tuple[str, str]]:
    """The (text, target) pairs of one split of the bundled corpus, in file order: samples that need no data config."""
    with open(files("stance.corpus").joinpath(f"troop_deployment/{split}.csv"), encoding="utf-8", newline="") as handle:
        return [(row["text"], row.get("target") or "") for row in csv.DictReader(handle)]


def check_sample(default_target: str | None, known: list[str] | None = None) -> tuple[list[str], list[str]]:
    """A fixed sample of (text, target) pairs: bundled statements of every length, with over-long and odd ones.

    Targets are the model's default target and the corpus's own (or, for a linear model,
    the targets it knows, in turn).
    """
    rows = bundled_pairs("test")
    rows = sorted(rows, key=lambda row: len(row[0]))[:: max(len(rows) // SAMPLE_ROWS, 1)][:SAMPLE_ROWS]
    texts = [text for text, _ in rows] + [
        " ".join(text for text, _ in rows[-8:]),  # longer than any max_length: truncated
        "No.", "Nous n'enverrons jamais nos soldats 🇫🇷🇺🇦 — jamais.", "#NoTroops @minister http://t.co/x",
    ]
    if known:
        targets = [known[i % len(known)] for i in range(len(texts))]
    else:
        fallback = default_target or "the deployment of troops"
        # the last pair's target leaves its statement no room: it is cut too (stance.models.encoding)
        targets = [(target if i % 2 else fallback) or fallback for i, (_, target) in enumerate(rows)] + [fallback] * 3 + [texts[-4]]
    return texts, targets


def _versions(runtimes: list[str]) -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ["torch", "transformers", *runtimes]}
