"""Public benchmarks: data configs on the real sets, mixtures, the linear model and the bench run."""

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf
from transformers import pipeline

from conftest import DATASETS, PHRASES, write_corpus
from stance.benchmarks.public import PUBLISHED, RESULTS_NAME, run, tfidf_svm_baseline
from stance.inference import StanceClassifier
from stance.config import compose
from stance.config.schema import DataConfig
from stance.data import load_splits
from stance.errors import StanceError
from stance.labels import LABELS
from stance.artifacts import LINEAR_DIRNAME
from stance.evaluation.scoring import score_predictions
from stance.inference.predictors import LinearBlend, MeanEnsemble, TemperatureScaled
from stance.models.linear import LinearStance
from stance.training import train

needs_public_data = pytest.mark.skipif(not (DATASETS / "ruw").is_dir(), reason="public data sets not present at ../shared/datasets")
TWEETEVAL_TARGETS = {
    "abortion": "Legalization of Abortion", "atheism": "Atheism", "climate": "Climate Change is a Real Concern",
    "feminist": "Feminist Movement", "hillary": "Hillary Clinton",
}
TWEETEVAL_CODES = {"supportive": "2", "opposed": "1", "reserved": "0"}


def data_node(values: dict):
    """A data config from plain values, with the schema's defaults for the rest."""
    return OmegaConf.merge(OmegaConf.structured(DataConfig), values)


def data_config(name: str):
    return compose("train", [f"data={name}", f"data.path={DATASETS / ('tweeteval-stance' if name == 'tweeteval_stance' else name)}", "output_dir=."]).data


@needs_public_data
def test_tweeteval_config_reads_the_official_splits():
    splits = load_splits(data_config("tweeteval_stance"), keep_all_rows=True)
    assert {split: len(splits[split]) for split in splits} == {"train": 2620, "dev": 294, "test": 1249}
    test = splits["test"]
    assert Counter(LABELS[i] for i in test["label"]) == {"opposed": 715, "supportive": 304, "reserved": 230}
    assert set(test["target"]) == set(TWEETEVAL_TARGETS.values())


@needs_public_data
def test_ruw_config_gives_two_examples_a_tweet():
    splits = load_splits(data_config("ruw"), keep_all_rows=True)
    assert {split: len(splits[split]) for split in splits} == {"train": 8400, "dev": 1200, "test": 2400}
    for split in splits.values():
        assert Counter(split["target"]) == {"Russia": len(split) // 2, "Ukraine": len(split) // 2}
        assert set(split["label"]) == {0, 1, 2}


def test_mixture_repeats_and_subsamples_by_weight_and_evaluates_on_its_eval_source(tmp_path):
    def source(name, n, seed):
        path = write_corpus(tmp_path / f"{name}.csv", n=n, seed=seed)
        frame = pd.read_csv(path)
        frame.assign(text=name + ": " + frame["text"]).to_csv(path, index=False)  # no text shared between sources
        return {"name": name, "train": str(path), "default_target": name}

    one, other = source("one", 90, 0), source("other", 60, 1)
    alone = load_splits(data_node(one))
    splits = load_splits(data_node({"name": "mix", "sources": {"one": one, "other": other},
                                    "weights": {"one": 2.0, "other": 0.5}, "eval_source": "one"}))
    targets = Counter(splits["train"]["target"])
    # a source that is not evaluated gives all its rows to training, half of them at weight 0.5
    assert targets == {"one": 2 * len(alone["train"]), "other": 30}
    assert set(splits["dev"]["target"]) == set(splits["test"]["target"]) == {"one"}
    assert len(splits["test"]) == len(alone["test"])


def test_mixture_config_names_the_three_sources():
    data = compose("train", ["data=mixture", "output_dir=."]).data
    assert set(data.sources) == {"troop_deployment", "tweeteval_stance", "ruw"} and data.eval_source == "tweeteval_stance"


def corpus_rows(folder: Path, n=120, seed=0, target="a carbon tax"):
    frame = pd.read_csv(write_corpus(folder / f"corpus-{seed}.csv", n=n, seed=seed))
    return list(frame["text"]), [target] * n, [LABELS.index(label) for label in frame["label"]]


def test_linear_model_saves_json_and_safetensors_and_reloads_identically(tmp_path):
    texts, targets, labels = corpus_rows(tmp_path)
    model = LinearStance(embedding_weight=0, C=10.0).fit(texts, targets, labels)
    model.save(tmp_path / "linear")
    assert sorted(p.name for p in (tmp_path / "linear").iterdir()) == ["linear.json", "linear.safetensors"]
    again = LinearStance.load(tmp_path / "linear")
    assert abs(again.predict_proba(texts, targets) - model.predict_proba(texts, targets)).max() < 1e-6
    assert sum(p == LABELS[y] for p, y in zip(again.predict(texts, targets), labels)) / len(labels) > 0.9
    with pytest.raises(StanceError, match="no classifier for target"):
        again.predict(texts[:1], ["another target"])


def test_tfidf_svm_baseline_picks_C_on_dev_and_scores_every_target(tmp_path):
    data = {split: dict(zip(("text", "target", "label"), corpus_rows(tmp_path, 90, seed))) for split, seed in (("train", 0), ("dev", 1), ("test", 2))}
    result = tfidf_svm_baseline(data, data["test"])
    assert f"{result['C']:g}" in result["dev_f_avg_by_C"] and result["test"]["f_avg"] > 0.9
    assert result["test"]["per_target"]["a carbon tax"]["n"] == result["test"]["n"] == 90


def test_score_pools_targets_for_the_official_f_avg():
    dataset = {"target": ["a", "a", "b", "b"], "label": [0, 2, 0, 1]}
    result = score_predictions(["supportive", "opposed", "opposed", "reserved"], dataset)
    assert result["n"] == 4 and {t: r["n"] for t, r in result["per_target"].items()} == {"a": 2, "b": 2}
    assert result["per_target"]["a"]["f_avg"] == 1.0
    assert result["f_avg"] == pytest.approx((2 / 3 + 2 / 3) / 2)  # supportive P=1 R=1/2; opposed P=1/2 R=1


def test_blended_model_trains_saves_and_loads(tmp_path, corpus_csv):
    cfg = compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={tmp_path}",
                            "linear=tfidf_minilm", "linear.embedding_weight=0"])
    metrics = train(cfg)
    model_dir = Path(metrics["model_dir"])
    assert 0.0 <= metrics["linear_blend"]["blend_weight"] <= 1.0
    assert {p.name for p in (model_dir / LINEAR_DIRNAME).iterdir()} == {"linear.json", "linear.safetensors"}
    classifier = StanceClassifier.from_pretrained(model_dir)
    assert isinstance(classifier.predictor, TemperatureScaled)  # the blend is scaled as a whole
    blend = classifier.predictor.base
    assert isinstance(blend, LinearBlend) and blend.weight == metrics["linear_blend"]["blend_weight"]
    proba = classifier.predict_proba(["We will never send our soldiers.", "Let us study it."], targets=["x", cfg.data.default_target])
    assert proba.shape == (2, 3) and abs(proba.sum(axis=1) - 1).max() < 1e-5  # an unseen target falls back to the transformer
    # the transformer in the same directory still loads with plain transformers
    assert pipeline("text-classification", model=str(model_dir))({"text": "x", "text_pair": "y"})["label"] in LABELS


def write_tweeteval(root: Path, rows_per_split=(30, 9, 12)) -> Path:
    """A learnable folder in TweetEval's stance layout, with the five official target folders."""
    for k, folder in enumerate(TWEETEVAL_TARGETS):
        for split, n in zip(("train", "val", "test"), rows_per_split):
            labels = [LABELS[i % 3] for i in range(n)]
            texts = [f"{split} tweet {k}-{i}: {PHRASES[label][i % 3]}" for i, label in enumerate(labels)]
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder / f"{split}_text.txt").write_text("\n".join(texts) + "\n")
            (root / folder / f"{split}_labels.txt").write_text("\n".join(TWEETEVAL_CODES[label] for label in labels) + "\n")
    return root


def test_bench_run_scores_all_test_rows_once_and_tables_the_published_results(tmp_path):
    data_dir = write_tweeteval(tmp_path / "tweeteval")
    results = run(data_dir, tmp_path / "bench", experiment="tweeteval_blend",
                  overrides=["model=tiny", "trainer=fast", "linear.embedding_weight=0"])
    assert json.loads((tmp_path / "bench" / RESULTS_NAME).read_text()) == results
    assert results["test"]["n"] == 5 * 12 and set(results["test"]["per_target"]) == set(TWEETEVAL_TARGETS.values())
    assert results["test_f_avg"] == results["test"]["f_avg"] and results["train_seconds"] > 0
    systems = [row["system"] for row in results["table"]]
    assert set(PUBLISHED) < set(systems) and "TF-IDF SVM (this run)" in systems and len(systems) == len(PUBLISHED) + 2
    scores = [row["test_f_avg"] for row in results["table"]]
    assert scores == sorted(scores, reverse=True)
    assert results["tfidf_svm_baseline"]["test"]["n"] == 60


def test_mean_pooling_model_saves_safetensors_and_reloads_through_the_auto_classes(tmp_path, corpus_csv):
    cfg = compose("train", ["model=tiny", "model.pooling=mean", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={tmp_path}"])
    model_dir = Path(train(cfg)["model_dir"])
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "stance_bert_mean" and (model_dir / "model.safetensors").is_file()
    assert not [p for p in model_dir.iterdir() if p.suffix in (".bin", ".pt", ".pkl")]
    classifier = StanceClassifier.from_pretrained(model_dir)
    texts = ["We will never send our soldiers.", "A reassurance force should deploy now, with all of its units."]
    one_by_one = [classifier.predict_proba(text) for text in texts]
    assert abs(classifier.predict_proba(texts) - one_by_one).max() < 1e-5  # padding does not move the mean


def test_seed_ensemble_trains_full_members_and_averages_their_probabilities(tmp_path, corpus_csv):
    cfg = compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={tmp_path}",
                            "ensemble.seeds=[7]"])
    metrics = train(cfg)
    member_dir = Path(metrics["model_dir"]) / "members" / "seed-7"
    assert (member_dir / "model.safetensors").is_file() and [m["seed"] for m in metrics["ensemble_members"]] == [7]
    # the average itself, before the temperature that is fitted to it (members carry none of their own)
    ensemble = StanceClassifier.from_pretrained(metrics["model_dir"], calibrated=False)
    member = StanceClassifier.from_pretrained(member_dir)
    texts = ["We will never send our soldiers.", "Let us study it first."]
    averaged = ensemble.predict_proba(texts)
    assert isinstance(ensemble.predictor, MeanEnsemble)
    main_alone = ensemble.predictor.members[0].predict_proba(texts, [ensemble.default_target] * 2, 64)
    assert abs(averaged - (main_alone + member.predict_proba(texts)) / 2).max() < 1e-6
