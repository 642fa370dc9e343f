"""Exported models: the export and its check, every backend against torch, the lean start, clear refusals."""

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

from stance import StanceClassifier
from stance.artifacts import ENCODER_DIRNAME, EXPORT_FILE, LINEAR_DIRNAME, ONNX_FILE, OPENVINO_DIRNAME, WEIGHTS_FILE
from stance.cli.export import main as export_main
from stance.cli.label import main as label_main
from stance.errors import StanceError
from stance.export import ExportError, export_model
from stance.inference.predictors import LinearBlend, MeanEnsemble, TemperatureScaled

pytestmark = pytest.mark.usefixtures("one_thread")

EXPORTED = ("onnxruntime", "openvino")
LABEL_SCRIPT = Path(sys.executable).with_name("stance-label")
TEXTS = [
    "Speaker 1 of Rome: we are ready to send soldiers.",
    "Speaker 2 of Oslo: that is not on the agenda today.",
    "Speaker 3 of Paris: deploying troops would be madness, " + "and everybody in this room knows it very well, " * 20,
    "No.",
]
FP32_TOLERANCE = 1e-4  # the graphs agree with torch to ~1e-7; 1e-4 is what stance-export requires


def subprocess_env():
    return {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def composed_model_dir(tmp_path_factory, corpus_csv, tiny_model_dir) -> Path:
    """A seed member and a linear blend whose sentence encoder is the tiny model's BERT (fast to export)."""
    from stance.config import compose
    from stance.training import train

    out = tmp_path_factory.mktemp("composed_run")
    cfg = compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={out}",
                            "ensemble.seeds=[7]", "linear=tfidf_minilm", f"linear.encoder={tiny_model_dir}"])
    return Path(train(cfg)["model_dir"])


def test_training_writes_an_export_that_matches_torch(tiny_model_dir):
    record = json.loads((tiny_model_dir / EXPORT_FILE).read_text())
    assert (tiny_model_dir / ONNX_FILE).is_file() and (tiny_model_dir / OPENVINO_DIRNAME / "model.xml").is_file()
    for backend in EXPORTED:
        assert record["checks"][backend]["labels_equal"] == 1.0
        assert record["checks"][backend]["max_abs_diff"] <= FP32_TOLERANCE
    assert not list(tiny_model_dir.glob(".export*"))  # no staging left behind


def test_export_null_skips_the_export(tmp_path, corpus_csv):
    from stance.config import compose
    from stance.training import train

    cfg = compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={tmp_path}", "export=null"])
    model_dir = Path(train(cfg)["model_dir"])
    assert not (model_dir / EXPORT_FILE).exists() and not (model_dir / ONNX_FILE).exists()
    assert StanceClassifier.from_pretrained(model_dir).backend == "torch"  # auto falls back without an export


@pytest.mark.parametrize("backend", EXPORTED)
def test_each_backend_gives_torch_probabilities(tiny_model_dir, backend):
    torch_clf = StanceClassifier.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")
    clf = StanceClassifier.from_pretrained(tiny_model_dir, backend=backend, precision="fp32")
    assert (clf.backend, clf.precision, clf.device) == (backend, "fp32", "cpu")
    expected = torch_clf.predict_proba(TEXTS, targets="troops to Ukraine")
    proba = clf.predict_proba(TEXTS, targets="troops to Ukraine")
    np.testing.assert_allclose(proba, expected, atol=FP32_TOLERANCE)
    assert clf.predict(TEXTS, targets="troops to Ukraine") == torch_clf.predict(TEXTS, targets="troops to Ukraine")
    # per-batch padding: a text scores the same alone as in any batch
    np.testing.assert_allclose(clf.predict_proba(TEXTS, targets="troops to Ukraine", batch_size=1), proba, atol=1e-5)
    assert clf.predict_proba([]).shape == (0, 3)


def test_openvino_bf16_stays_close_to_fp32(tiny_model_dir):
    fp32 = StanceClassifier.from_pretrained(tiny_model_dir, backend="torch", precision="fp32").predict_proba(TEXTS)
    bf16 = StanceClassifier.from_pretrained(tiny_model_dir, backend="openvino", precision="bf16")
    assert bf16.precision == "bf16"
    np.testing.assert_allclose(bf16.predict_proba(TEXTS), fp32, atol=0.03)


@pytest.mark.parametrize("backend", EXPORTED)
def test_members_and_linear_blend_compose_on_every_backend(composed_model_dir, backend):
    assert (composed_model_dir / LINEAR_DIRNAME / ENCODER_DIRNAME / ONNX_FILE).is_file()
    assert (composed_model_dir / "members" / "seed-7" / EXPORT_FILE).is_file()
    torch_clf = StanceClassifier.from_pretrained(composed_model_dir, backend="torch", precision="fp32")
    clf = StanceClassifier.from_pretrained(composed_model_dir, backend=backend, precision="fp32")
    blend = clf.predictor.base if isinstance(clf.predictor, TemperatureScaled) else clf.predictor
    assert isinstance(blend, LinearBlend) and isinstance(blend.base, MeanEnsemble)
    assert type(blend.linear.encoder).__name__ == "ExportedSentenceEncoder"
    targets = [clf.default_target, "a carbon tax", clf.default_target, clf.default_target]  # one the linear model does not know
    np.testing.assert_allclose(clf.predict_proba(TEXTS, targets), torch_clf.predict_proba(TEXTS, targets), atol=FP32_TOLERANCE)


def read_labeled(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("backend", EXPORTED)
def test_stance_label_rows_and_columns_match_torch(tiny_model_dir, tmp_path, backend):
    source = tmp_path / "in.csv"
    pd.DataFrame({"id": ["1", "2", "3", "4", "5"], "text": TEXTS + [""]}).to_csv(source, index=False)
    for name in ("torch", backend):
        label_main(["--model", str(tiny_model_dir), str(source), "-o", str(tmp_path / f"{name}.csv"),
                    "--backend", name, "--precision", "fp32", "--quiet"])
    torch_out, out = read_labeled(tmp_path / "torch.csv"), read_labeled(tmp_path / f"{backend}.csv")
    assert list(out.columns) == list(torch_out.columns) and len(out) == len(torch_out) == 5
    pd.testing.assert_frame_equal(out.drop(columns=["p_supportive", "p_reserved", "p_opposed"]),
                                  torch_out.drop(columns=["p_supportive", "p_reserved", "p_opposed"]))
    probabilities = ["p_supportive", "p_reserved", "p_opposed"]
    labeled = out["stance"] != ""
    diff = out.loc[labeled, probabilities].astype(float) - torch_out.loc[labeled, probabilities].astype(float)
    assert diff.abs().max().max() <= 1e-4 + 1e-9  # the 4 written decimals may round apart by one unit


@pytest.mark.parametrize("backend", ["auto", *EXPORTED])
def test_exported_stance_label_never_imports_torch_or_transformers(tiny_model_dir, tmp_path, backend):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(source, index=False)
    result = subprocess.run([sys.executable, "-X", "importtime", str(LABEL_SCRIPT), "--model", str(tiny_model_dir), str(source),
                             "-o", str(tmp_path / "out.csv"), "--backend", backend, "--quiet"],
                            capture_output=True, text=True, timeout=300, env=subprocess_env())
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "tokenizers" in imported
    assert not imported & {"torch", "transformers", "hydra"}
    assert len(read_labeled(tmp_path / "out.csv")) == len(TEXTS)


def test_python_api_on_an_exported_backend_never_imports_torch(tiny_model_dir):
    code = (
        "import sys\n"
        "from stance import StanceClassifier\n"
        f"clf = StanceClassifier.from_pretrained({str(tiny_model_dir)!r})\n"
        "clf.predict(['We will send troops.'])\n"
        "print(clf.backend, sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=subprocess_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == ["[]"] and result.stdout.split()[0] in EXPORTED


@pytest.mark.parametrize("backend", EXPORTED)
def test_a_missing_runtime_is_one_line_naming_the_package_and_exit_2(tiny_model_dir, tmp_path, backend):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(source, index=False)
    code = (
        f"import sys; sys.modules[{backend!r}] = None\n"  # as if the package were not installed
        "from stance.cli.label import main\n"
        f"main(['--model', {str(tiny_model_dir)!r}, {str(source)!r}, '--backend', {backend!r}])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=subprocess_env())
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: backend {backend} needs the package {backend}, which is not installed: pip install '{backend}>=")
    assert not (tmp_path / "in.labeled.csv").exists()


def test_unusable_requests_are_one_line_errors(tiny_model_dir, tmp_path):
    with pytest.raises(StanceError, match="unknown backend 'tensorrt'"):
        StanceClassifier.from_pretrained(tiny_model_dir, backend="tensorrt")
    with pytest.raises(StanceError, match="onnxruntime has no bf16 kernels"):
        StanceClassifier.from_pretrained(tiny_model_dir, backend="onnxruntime", precision="bf16")
    with pytest.raises(StanceError, match=f"has no int8 model: run stance-export {tiny_model_dir} --int8"):
        StanceClassifier.from_pretrained(tiny_model_dir, backend="openvino", precision="int8")
    # without an int8 copy (stance-export --int8, tests/test_int8.py), int8 is torch's dynamic quantisation
    assert StanceClassifier.from_pretrained(tiny_model_dir, precision="int8").backend == "torch"
    bare = tmp_path / "bare"
    shutil.copytree(tiny_model_dir, bare, ignore=shutil.ignore_patterns(EXPORT_FILE, ONNX_FILE, OPENVINO_DIRNAME))
    with pytest.raises(StanceError, match=f"has no exported model: run stance-export {bare}"):
        StanceClassifier.from_pretrained(bare, backend="onnxruntime")


def test_export_of_other_weights_is_not_used(tiny_model_dir, tmp_path):
    from safetensors.numpy import load_file, save_file

    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "retrained")
    weights = load_file(str(model_dir / WEIGHTS_FILE))
    save_file({name: value + 0.01 for name, value in weights.items()}, str(model_dir / WEIGHTS_FILE), metadata={"format": "pt"})
    assert StanceClassifier.from_pretrained(model_dir).backend == "torch"
    with pytest.raises(StanceError, match="the export is of other weights"):
        StanceClassifier.from_pretrained(model_dir, backend="openvino")


def test_stance_export_round_trip_from_the_console(tiny_model_dir, tmp_path, capsys):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model", ignore=shutil.ignore_patterns(EXPORT_FILE, ONNX_FILE, OPENVINO_DIRNAME))
    export_main([str(model_dir)])
    checks = json.loads(capsys.readouterr().out)
    assert checks["onnxruntime"]["labels_equal"] == checks["openvino"]["labels_equal"] == 1.0
    expected = StanceClassifier.from_pretrained(model_dir, backend="torch", precision="fp32").predict_proba(TEXTS)
    np.testing.assert_allclose(StanceClassifier.from_pretrained(model_dir, backend="onnxruntime").predict_proba(TEXTS), expected, atol=FP32_TOLERANCE)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        export_main([str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2 and capsys.readouterr().err.strip() == f"error: model directory not found: {tmp_path / 'nowhere'}"


def test_an_export_that_fails_its_check_is_not_written(tiny_model_dir, tmp_path):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    # no graph matches torch to 1e-12, so the check refuses the export; an older export goes with it
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export_model(model_dir, tolerance=1e-12)
    left = {p.name for p in model_dir.iterdir()}
    assert not left & {EXPORT_FILE, ONNX_FILE, OPENVINO_DIRNAME} and not any(name.startswith(".export") for name in left)
    assert StanceClassifier.from_pretrained(model_dir).backend == "torch"


@pytest.mark.parametrize("max_length", [16, 64, 128])
def test_tokenizers_alone_give_the_ids_of_the_training_encoding(tiny_model_dir, max_length):
    from transformers import AutoTokenizer

    from stance.inference.tokens import Encoder
    from stance.models.encoding import encode_pairs

    statements = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "troop_deployment" / "test.csv")["text"].tolist()[:300]
    long_text = " ".join(statements[:20])
    texts = statements + [long_text, "No.", "Ünïcödé\u00a0tèxt 🇺🇦🤔 中文", "#NoTroops @user http://t.co/xyz", "x"]
    targets = ["troops to Ukraine"] * len(statements) + ["a carbon tax", long_text, "ÉLAN", "x " * 200, "nuclear power"]
    expected = encode_pairs(AutoTokenizer.from_pretrained(tiny_model_dir), targets, texts, max_length)
    encodings = Encoder(tiny_model_dir, max_length, pairs=True).encode(texts, targets)
    assert [e.ids for e in encodings] == expected["input_ids"]
    assert [e.type_ids for e in encodings] == expected["token_type_ids"]
    assert max(len(e.ids) for e in encodings) == max_length  # the over-long texts and targets were cut
