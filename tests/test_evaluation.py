import json

import pandas as pd
import pytest

from conftest import DATASETS
from stance.config import compose
from stance.errors import DataError
from stance.evaluation import evaluate
from stance.labels import LabelError
from stance.evaluation.metrics import compute_metrics

TWEETEVAL = DATASETS / "tweeteval-stance"
TWEETEVAL_TARGETS = ("abortion", "atheism", "climate", "feminist", "hillary")


def test_metrics_by_hand():
    gold = ["supportive", "supportive", "reserved", "opposed", "opposed", "opposed"]
    pred = ["supportive", "reserved", "reserved", "opposed", "opposed", "supportive"]
    m = compute_metrics(pred, gold)
    # supportive: P 1/2 R 1/2 F1 .5; reserved: P 1/2 R 1 F1 2/3; opposed: P 1 R 2/3 F1 .8
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"]["reserved"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert m["f_avg"] == pytest.approx((0.5 + 0.8) / 2)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def eval_cfg(tmp_path, *overrides):
    return compose("eval", [f"output_dir={tmp_path / 'eval'}", *overrides])


@pytest.fixture
def gold_csv(tmp_path):
    path = tmp_path / "gold.csv"
    pd.DataFrame({
        "text": ["we send troops", "maybe later", "never", "never ever", "ready now"],
        "label": ["favor", "none", "against", "against", "favor"],
    }).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("form", ["lines", "csv", "jsonl"])
def test_scores_a_predictions_file_against_gold(tmp_path, gold_csv, form):
    predicted = ["supportive", "reserved", "opposed", "supportive", "supportive"]
    path = tmp_path / {"lines": "pred.txt", "csv": "pred.csv", "jsonl": "pred.jsonl"}[form]
    if form == "lines":
        path.write_text("\n".join(predicted) + "\n")
    elif form == "csv":
        pd.DataFrame({"id": range(5), "stance": predicted}).to_csv(path, index=False)
    else:
        pd.DataFrame({"stance": predicted}).to_json(path, orient="records", lines=True)
    metrics = evaluate(eval_cfg(tmp_path, "data=files", f"data.test={gold_csv}", f"predictions={path}"))
    assert metrics["accuracy"] == pytest.approx(4 / 5)
    written = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert written["f_avg"] == pytest.approx(metrics["f_avg"])
    assert (tmp_path / "eval" / "confusion_matrix.png").stat().st_size > 1000


def test_predictions_count_must_match(tmp_path, gold_csv):
    path = tmp_path / "short.txt"
    path.write_text("supportive\nopposed\n")
    with pytest.raises(DataError, match=r"short\.txt: 2 predictions for 5 test examples"):
        evaluate(eval_cfg(tmp_path, "data=files", f"data.test={gold_csv}", f"predictions={path}"))


def test_unknown_predicted_label_names_its_line(tmp_path, gold_csv):
    path = tmp_path / "bad.txt"
    path.write_text("supportive\nperhaps\nopposed\nopposed\nopposed\n")
    with pytest.raises(LabelError, match=r"bad\.txt line 2: unknown label 'perhaps'"):
        evaluate(eval_cfg(tmp_path, "data=files", f"data.test={gold_csv}", f"predictions={path}"))


def test_evaluates_a_trained_model(tmp_path, tiny_model_dir, corpus_csv):
    metrics = evaluate(eval_cfg(tmp_path, "data=files", f"data.test={corpus_csv}", f"model_path={tiny_model_dir}"))
    assert metrics["n"] == 150 and 0.0 <= metrics["macro_f1"] <= 1.0
    assert (tmp_path / "eval" / "confusion_matrix.png").is_file()


@pytest.mark.skipif(not TWEETEVAL.is_dir(), reason="public data sets not present at ../shared/datasets")
def test_tweeteval_reference_predictions_score_the_published_f_avg(tmp_path):
    """TweetEval's RoBERTa-retrained predictions, pooled over the five targets, give F_avg 0.7244."""
    gold_rows, predictions = [], []
    for target in TWEETEVAL_TARGETS:
        texts = (TWEETEVAL / target / "test_text.txt").read_text(encoding="utf-8").splitlines()
        labels = (TWEETEVAL / target / "test_labels.txt").read_text().split()
        gold_rows += [{"text": t, "label": label} for t, label in zip(texts, labels)]
        predictions += (TWEETEVAL / "reference-predictions-roberta-retrained" / f"{target}.txt").read_text().split()
    gold = tmp_path / "gold.csv"
    pd.DataFrame(gold_rows).to_csv(gold, index=False)
    pred = tmp_path / "pred.txt"
    pred.write_text("\n".join(predictions) + "\n")
    metrics = evaluate(eval_cfg(
        tmp_path, "data=files", f"data.test={gold}", f"predictions={pred}", "data.label_map={0: none, 1: against, 2: favor}"
    ))
    assert metrics["n"] == 1249
    assert round(metrics["f_avg"], 4) == 0.7244
    assert round(metrics["per_class"]["opposed"]["f1"], 4) == 0.7606
    assert round(metrics["per_class"]["supportive"]["f1"], 4) == 0.6881
