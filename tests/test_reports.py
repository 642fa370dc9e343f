"""The reports every training and evaluation run leaves: files, their numbers, the model card."""

import json

import numpy as np
import pandas as pd
import pytest
from huggingface_hub import ModelCard

from stance.config import compose
from stance.evaluation import evaluate
from stance.labels import LABELS

REPORT_FILES = {"report.md", "errors.csv", "confusion_matrix.png", "calibration.png"}


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_training_writes_reports_beside_the_model(tiny_model_dir):
    run_dir = tiny_model_dir.parent
    assert REPORT_FILES <= {p.name for p in run_dir.iterdir()}
    assert is_png(run_dir / "confusion_matrix.png") and is_png(run_dir / "calibration.png")
    test = json.loads((tiny_model_dir / "metrics.json").read_text())["test"]
    errors = pd.read_csv(run_dir / "errors.csv")
    matrix = np.array(test["confusion_matrix"])
    assert len(errors) == matrix.sum() - np.trace(matrix)  # every mistake, nothing else
    assert (errors["gold"] != errors["predicted"]).all()
    assert list(errors.columns) == ["row", "target", "text", "gold", "predicted", "confidence", *(f"p_{label}" for label in LABELS)]
    assert errors["confidence"].is_monotonic_decreasing  # the surest mistakes first
    assert np.allclose(errors[[f"p_{label}" for label in LABELS]].max(axis=1), errors["confidence"])
    report = (run_dir / "report.md").read_text()
    assert f"| {test['n']} | {test['accuracy']:.3f} | {test['macro_f1']:.3f} | {test['f_avg']:.3f} |" in report
    assert "## Per class" in report and "## Calibration" in report and f"{test['calibration']['ece_after']:.4f}" in report


def test_model_card_is_a_hugging_face_card(tiny_model_dir):
    card = ModelCard.load(tiny_model_dir / "README.md")
    assert card.data.pipeline_tag == "text-classification"
    assert card.data.library_name == "transformers"
    assert card.data.labels == list(LABELS)
    test = json.loads((tiny_model_dir / "metrics.json").read_text())["test"]
    results = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert results["macro-F1"] == pytest.approx(test["macro_f1"], abs=1e-4)
    for section in ("## Intended use", "## Labels and guideline", "## Training data", "## Evaluation results",
                    "## Limitations", "## How to load", "StanceClassifier.from_pretrained", 'pipeline("text-classification"'):
        assert section in card.text
    assert str(tiny_model_dir) in card.text and ".partial" not in card.text


def test_eval_of_a_model_writes_the_same_reports(tmp_path, tiny_model_dir, corpus_csv, one_thread):
    out = tmp_path / "eval"
    metrics = evaluate(compose("eval", [f"output_dir={out}", "data=files", f"data.test={corpus_csv}", f"model_path={tiny_model_dir}"]))
    assert REPORT_FILES | {"metrics.json"} <= {p.name for p in out.iterdir()}
    calibration = metrics["calibration"]
    temperature = json.loads((tiny_model_dir / "config.json").read_text())["stance_temperature"]
    assert calibration["temperature"] == pytest.approx(temperature)
    assert json.loads((out / "metrics.json").read_text())["calibration"] == pytest.approx(calibration)


def test_eval_of_a_labeled_file_uses_its_probabilities(tmp_path):
    gold = tmp_path / "gold.csv"
    pd.DataFrame({"text": ["a", "b", "c", "d"], "label": ["supportive", "reserved", "opposed", "opposed"]}).to_csv(gold, index=False)
    labeled = tmp_path / "gold.labeled.csv"
    pd.DataFrame({"stance": ["supportive", "reserved", "opposed", "supportive"],
                  "p_supportive": [0.8, 0.1, 0.1, 0.9], "p_reserved": [0.1, 0.8, 0.1, 0.05],
                  "p_opposed": [0.1, 0.1, 0.8, 0.05]}).to_csv(labeled, index=False)
    out = tmp_path / "eval"
    metrics = evaluate(compose("eval", [f"output_dir={out}", "data=files", f"data.test={gold}", f"predictions={labeled}"]))
    # bins: 0.8 x3 (all right), 0.9 x1 (wrong): 3/4 * 0.2 + 1/4 * 0.9
    assert metrics["calibration"]["ece"] == pytest.approx(0.375)
    errors = pd.read_csv(out / "errors.csv")
    assert errors[["row", "gold", "predicted", "confidence"]].values.tolist() == [[4, "opposed", "supportive", 0.9]]
    assert is_png(out / "calibration.png")


def test_labels_without_probabilities_get_no_calibration(tmp_path):
    gold = tmp_path / "gold.csv"
    pd.DataFrame({"text": ["a", "b"], "label": ["supportive", "opposed"]}).to_csv(gold, index=False)
    (tmp_path / "pred.txt").write_text("supportive\nsupportive\n")
    out = tmp_path / "eval"
    metrics = evaluate(compose("eval", [f"output_dir={out}", "data=files", f"data.test={gold}", f"predictions={tmp_path / 'pred.txt'}"]))
    assert "calibration" not in metrics and not (out / "calibration.png").exists()
    assert pd.read_csv(out / "errors.csv").values.tolist() == [[2, "deployment of Western/European troops to Ukraine", "b", "opposed", "supportive"]]
