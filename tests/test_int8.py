"""int8 (stance-export --int8): written only where it keeps labels, run by --precision int8, refused clearly otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_corpus

from stance import StanceClassifier
from stance.artifacts import EXPORT_FILE, INT8_FILE, OPENVINO_DIRNAME, OPENVINO_INT8_DIRNAME, WEIGHTS_FILE, weights_fingerprint
from stance.cli.export import main as export_main
from stance.cli.label import main as label_main
from stance.errors import StanceError
from stance.export import ExportError, export_model
from stance.quantization import CALIBRATION_ROWS, MIN_CHECK_ROWS, quantize_int8

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = ["We are ready to send soldiers.", "That is not on the agenda today.", "Deploying troops would be madness.", "No."]


@pytest.fixture(scope="module")
def int8_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model with an int8 copy. Its near-uniform probabilities flip more labels than a trained
    model's, so the bar is lowered here to what it keeps; the default bar is tested below."""
    model_dir = shutil.copytree(tiny_model_dir, tmp_path_factory.mktemp("int8") / "model")
    quantize_int8(model_dir, min_agreement=0.5)
    return model_dir


def test_the_int8_model_records_its_check_and_labels_like_fp32_where_it_agrees(int8_model_dir):
    record = json.loads((int8_model_dir / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME / INT8_FILE).read_text())
    assert record["check"]["rows"] == 1000 and record["calibration"]["rows"] == CALIBRATION_ROWS
    assert 0.5 <= record["check"]["labels_equal"] <= 1.0 and record["check"]["against"] == "openvino fp32"
    assert "bundled corpus" in record["check"]["source"] and record["versions"]["nncf"]
    int8 = StanceClassifier.from_pretrained(int8_model_dir, precision="int8")  # auto takes the checked int8 model
    assert (int8.backend, int8.precision) == ("openvino", "int8")
    fp32 = StanceClassifier.from_pretrained(int8_model_dir, backend="openvino", precision="fp32")
    proba, reference = int8.predict_proba(TEXTS), fp32.predict_proba(TEXTS)
    assert proba.shape == (4, 3) and abs(proba.sum(axis=1) - 1).max() < 1e-5
    assert abs(proba - reference).max() < 0.2  # quantised, not another model
    # the default precision is untouched by an int8 copy: auto stays bf16/fp32
    assert StanceClassifier.from_pretrained(int8_model_dir).precision in ("bf16", "fp32")


def test_stance_label_precision_int8_writes_every_row(int8_model_dir, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"id": range(6), "text": TEXTS + ["", "Maybe later."]}).to_csv(source, index=False)
    label_main(["--model", str(int8_model_dir), str(source), "--precision", "int8", "--output", str(tmp_path / "int8.csv")])
    label_main(["--model", str(int8_model_dir), str(source), "--backend", "torch", "--output", str(tmp_path / "torch.csv")])
    int8, torch = pd.read_csv(tmp_path / "int8.csv"), pd.read_csv(tmp_path / "torch.csv")
    assert list(int8.columns) == list(torch.columns) and int8["id"].tolist() == list(range(6))
    assert int8["stance_error"].notna().tolist() == torch["stance_error"].notna().tolist() == [False] * 4 + [True, False]


def test_stance_label_precision_int8_never_imports_torch(int8_model_dir, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(source, index=False)
    script = Path(sys.executable).with_name("stance-label")
    result = subprocess.run([sys.executable, "-X", "importtime", str(script), "--model", str(int8_model_dir), str(source),
                             "-o", str(tmp_path / "out.csv"), "--precision", "int8"],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "openvino" in imported and not imported & {"torch", "transformers", "nncf"}
    assert "openvino int8 on cpu" in result.stderr and len(pd.read_csv(tmp_path / "out.csv")) == len(TEXTS)


def test_an_int8_model_that_loses_labels_is_not_written(int8_model_dir, tmp_path):
    """A model whose classes sit near ties everywhere (random weights of a larger scale): int8 flips
    labels there, so the default bar refuses it, and the int8 copy made before goes with it."""
    from safetensors.numpy import load_file, save_file

    model_dir = shutil.copytree(int8_model_dir, tmp_path / "model")
    rng = np.random.default_rng(0)
    weights = {name: (rng.normal(0, 0.5, value.shape) if value.ndim == 2 else value).astype(value.dtype)
               for name, value in load_file(str(model_dir / WEIGHTS_FILE)).items()}
    save_file(weights, str(model_dir / WEIGHTS_FILE), metadata={"format": "pt"})
    export_model(model_dir)
    shutil.copytree(int8_model_dir / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME, model_dir / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME)
    with pytest.raises(ExportError, match=r"int8 keeps .*% of the fp32 labels on 1000 rows of the bundled corpus .*needs 99.5%.*not written"):
        quantize_int8(model_dir)
    assert not (model_dir / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME).exists()
    assert not list((model_dir / OPENVINO_DIRNAME).glob(".int8*"))
    with pytest.raises(StanceError, match=f"has no int8 model: run stance-export {model_dir} --int8"):
        StanceClassifier.from_pretrained(model_dir, backend="openvino", precision="int8")
    assert StanceClassifier.from_pretrained(model_dir, precision="int8").backend == "torch"  # dynamic int8 instead


def test_int8_of_other_weights_is_not_used(int8_model_dir, tmp_path):
    model_dir = shutil.copytree(int8_model_dir, tmp_path / "model")
    weights = model_dir / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\1")  # other weights, same size
    # as if the fp32 export had been redone for them while an int8 copy of the old ones stayed
    export = json.loads((model_dir / EXPORT_FILE).read_text())
    (model_dir / EXPORT_FILE).write_text(json.dumps({**export, "weights": weights_fingerprint(weights)}))
    with pytest.raises(StanceError, match=f"the int8 model is of other weights than {WEIGHTS_FILE}; run stance-export {model_dir} --int8 again"):
        StanceClassifier.from_pretrained(model_dir, backend="openvino", precision="int8")


def test_int8_refusals_are_one_line(int8_model_dir, tmp_path, capsys):
    with pytest.raises(StanceError, match="int8 runs on the openvino backend"):
        StanceClassifier.from_pretrained(int8_model_dir, backend="onnxruntime", precision="int8")
    small = tmp_path / "few.csv"
    pd.DataFrame({"text": [f"statement {i}" for i in range(50)]}).to_csv(small, index=False)
    with pytest.raises(SystemExit) as exit_info:
        export_main([str(int8_model_dir), "--int8", "--calibration", str(small)])
    needed = CALIBRATION_ROWS + MIN_CHECK_ROWS
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: {small}: 50 non-empty rows; int8 needs at least {needed} " \
        f"({CALIBRATION_ROWS} to calibrate, {MIN_CHECK_ROWS} to check)"
    onnx_only = shutil.copytree(int8_model_dir, tmp_path / "onnx_only")
    export_model(onnx_only, openvino=False)
    with pytest.raises(StanceError, match="has no OpenVINO model to quantise"):
        quantize_int8(onnx_only)
    with pytest.raises(SystemExit) as exit_info:
        export_main([str(int8_model_dir), "--calibration", str(small)])
    assert exit_info.value.code == 2 and "--calibration goes with --int8" in capsys.readouterr().err


def test_stance_train_export_int8_calibrates_on_its_train_split_and_checks_on_dev(tmp_path, caplog):
    from stance.config import compose
    from stance.training import train

    corpus = write_corpus(tmp_path / "corpus.csv", n=2400)  # a dev split of 240 rows to check on
    metrics = train(compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus}",
                                      f"output_dir={tmp_path / 'run'}", "export.int8=true"]))
    record = json.loads((Path(metrics["model_dir"]) / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME / INT8_FILE).read_text())
    assert record["check"]["source"] == "this run's data (train to calibrate, dev to check)"
    assert record["check"]["rows"] == metrics["examples"]["dev"] and record["calibration"]["rows"] == CALIBRATION_ROWS
    assert StanceClassifier.from_pretrained(metrics["model_dir"], precision="int8").backend == "openvino"
    # too few dev rows to check on: a warning, the model and its fp32 export stay
    small = train(compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={write_corpus(tmp_path / 'small.csv')}",
                                    f"output_dir={tmp_path / 'small'}", "export.int8=true"]))
    assert "no int8 model written" in caplog.text and f"it needs at least {MIN_CHECK_ROWS}" in caplog.text
    assert not (Path(small["model_dir"]) / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME).exists()
    assert StanceClassifier.from_pretrained(small["model_dir"]).backend == "openvino"
