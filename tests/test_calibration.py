"""Temperature scaling and calibration error: by hand, and through a saved model."""

import json

import numpy as np
import pytest

from stance import StanceClassifier
from stance.evaluation.calibration import expected_calibration_error, fit_temperature, negative_log_likelihood, reliability_bins
from stance.inference.predictors import scale_temperature


def softmax(z):
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def test_fit_temperature_recovers_the_overconfidence_it_was_given():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (4000, 3))
    labels = np.array([rng.choice(3, p=p) for p in softmax(logits)])  # calibrated by construction
    overconfident = softmax(logits * 2.5)
    temperature = fit_temperature(overconfident, labels)
    assert temperature == pytest.approx(2.5, rel=0.1)
    scaled = scale_temperature(overconfident, temperature)
    assert negative_log_likelihood(scaled, labels) < negative_log_likelihood(overconfident, labels)
    assert expected_calibration_error(scaled, labels) < expected_calibration_error(overconfident, labels) / 2
    assert (scaled.argmax(axis=1) == overconfident.argmax(axis=1)).all()
    assert np.allclose(scaled.sum(axis=1), 1, atol=1e-6)


def test_scaling_equals_dividing_the_logits():
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    assert np.allclose(scale_temperature(softmax(logits), 2.0), softmax(logits / 2.0))


def test_ece_by_hand():
    # confidences 0.9 (right), 0.9 (wrong), 0.6 (right): bins (0.533, 0.6] and (0.867, 0.933]
    proba = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.6, 0.3, 0.1]])
    labels = np.array([0, 0, 0])
    bins = [b for b in reliability_bins(proba, labels) if b["count"]]
    assert [(b["count"], b["accuracy"]) for b in bins] == [(1, 1.0), (2, 0.5)]
    # 1/3 * |1 - 0.6| + 2/3 * |0.5 - 0.9|
    assert expected_calibration_error(proba, labels) == pytest.approx(0.4)


def test_saved_temperature_scales_probabilities_but_never_labels(tiny_model_dir, one_thread):
    config = json.loads((tiny_model_dir / "config.json").read_text())
    temperature = config["stance_temperature"]
    assert temperature > 0
    texts = ["We will never send our soldiers.", "That is not on the agenda today.", "Our troops can help secure Kyiv.",
             "A reassurance force should deploy.", "It needs careful study first."] * 4
    calibrated = StanceClassifier.from_pretrained(tiny_model_dir, precision="fp32")
    raw = StanceClassifier.from_pretrained(tiny_model_dir, precision="fp32", calibrated=False)
    p_calibrated, p_raw = calibrated.predict_proba(texts), raw.predict_proba(texts)
    assert np.allclose(p_calibrated, scale_temperature(p_raw, temperature), atol=1e-6)
    assert calibrated.predict(texts) == raw.predict(texts)
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    for split in ("dev", "test"):
        calibration = metrics[split]["calibration"]
        assert calibration["temperature"] == pytest.approx(temperature)
        assert 0 <= calibration["ece_after"] <= 1 and 0 <= calibration["ece_before"] <= 1
    # fitted on dev by NLL: dev's NLL cannot get worse
    assert metrics["dev"]["calibration"]["nll_after"] <= metrics["dev"]["calibration"]["nll_before"] + 1e-6


def test_stance_label_writes_the_calibrated_probabilities(tmp_path, tiny_model_dir, one_thread):
    import pandas as pd

    from stance.labeling import label_file

    texts = ["We will never send our soldiers.", "That is not on the agenda today.", "Our troops can help secure Kyiv."]
    pd.DataFrame({"text": texts}).to_csv(tmp_path / "in.csv", index=False)
    label_file(tiny_model_dir, tmp_path / "in.csv", tmp_path / "out.csv", quiet=True)
    written = pd.read_csv(tmp_path / "out.csv")[["p_supportive", "p_reserved", "p_opposed"]].to_numpy()
    expected = StanceClassifier.from_pretrained(tiny_model_dir).predict_proba(texts)
    assert np.allclose(written, expected, atol=1e-4)
