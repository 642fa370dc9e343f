"""The import API: StanceClassifier.from_pretrained / predict / predict_proba / __call__."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from stance import LABELS, StanceClassifier
from stance.errors import StanceError

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = [
    "Speaker 1 of Rome: we are ready to send soldiers.",
    "Speaker 2 of Oslo: that is not on the agenda today.",
    "Speaker 3 of Paris: deploying troops would be madness, and everybody in this room knows it very well.",
]
TARGET = "deployment of Western/European troops to Ukraine"



@pytest.fixture(scope="module")
def clf(tiny_model_dir) -> StanceClassifier:
    return StanceClassifier.from_pretrained(tiny_model_dir, precision="fp32")


def test_labels_are_in_the_fixed_order(clf):
    assert clf.labels == LABELS == ("supportive", "reserved", "opposed")


def test_one_string_gives_one_label_and_a_list_gives_a_list(clf):
    one = clf.predict(TEXTS[0])
    assert isinstance(one, str) and one in LABELS
    many = clf.predict(TEXTS)
    assert isinstance(many, list) and len(many) == 3 and set(many) <= set(LABELS)
    assert many[0] == one
    assert clf(TEXTS) == many  # __call__ is predict
    assert clf.predict([]) == []


def test_proba_columns_follow_labels_and_rows_sum_to_one(clf):
    proba = clf.predict_proba(TEXTS)
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert [LABELS[i] for i in proba.argmax(axis=1)] == clf.predict(TEXTS)
    single = clf.predict_proba(TEXTS[2])
    assert single.shape == (3,)
    # length-sorted, per-batch padding: a text scores the same alone as in any batch
    np.testing.assert_allclose(single, proba[2], atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(TEXTS, batch_size=1), proba, atol=1e-5)
    assert clf.predict_proba([]).shape == (0, 3)


def test_targets_none_one_or_per_text(clf, tiny_model_dir):
    default = clf.predict_proba(TEXTS)
    np.testing.assert_allclose(clf.predict_proba(TEXTS, targets=clf.default_target), default, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(TEXTS, targets=[clf.default_target] * 3), default, atol=1e-6)
    # before temperature scaling: the barely trained tiny model's large T flattens its probabilities
    raw = StanceClassifier.from_pretrained(tiny_model_dir, precision="fp32", calibrated=False)
    other = raw.predict_proba(TEXTS, targets=["climate policy", "carbon tax", "nuclear power"])
    assert not np.allclose(other, raw.predict_proba(TEXTS))  # the target is part of the input
    with pytest.raises(StanceError, match="2 targets given for 3 texts"):
        clf.predict(TEXTS, targets=["a", "b"])


def test_agrees_with_a_plain_transformers_pipeline(clf, tiny_model_dir):
    from transformers import pipeline

    pipe = pipeline("text-classification", model=str(tiny_model_dir), device="cpu")
    results = pipe([{"text": TARGET, "text_pair": text} for text in TEXTS], top_k=None)
    pipe_proba = np.array([[{r["label"]: r["score"] for r in row}[label] for label in LABELS] for row in results])
    # the pipeline knows nothing of stance_temperature: its probabilities are the unscaled ones
    raw = StanceClassifier.from_pretrained(tiny_model_dir, precision="fp32", calibrated=False)
    np.testing.assert_allclose(pipe_proba, raw.predict_proba(TEXTS, targets=TARGET), atol=1e-4)
    assert [LABELS[i] for i in pipe_proba.argmax(axis=1)] == clf.predict(TEXTS, targets=TARGET)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precisions_give_probabilities_close_to_fp32(clf, tiny_model_dir, precision):
    reduced = StanceClassifier.from_pretrained(tiny_model_dir, precision=precision)
    assert reduced.precision == precision
    proba = reduced.predict_proba(TEXTS)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(proba, clf.predict_proba(TEXTS), atol=0.03)


def test_bad_arguments_are_one_line_errors(tiny_model_dir, tmp_path):
    with pytest.raises(StanceError, match="model directory not found"):
        StanceClassifier.from_pretrained(tmp_path / "nope")
    with pytest.raises(StanceError, match="unknown precision 'fp8'"):
        StanceClassifier.from_pretrained(tiny_model_dir, precision="fp8")


def test_docstring_example_runs(tiny_model_dir):
    finder = doctest.DocTestFinder()
    (test,) = [t for t in finder.find(StanceClassifier, "StanceClassifier", globs={"model_dir": str(tiny_model_dir)}) if t.examples]
    result = doctest.DocTestRunner().run(test)
    assert result.failed == 0
