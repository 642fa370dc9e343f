"""The bundled corpus: size, balance, variety, no near-duplicates across splits, no copies of the benchmarks."""

import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from stance.config import compose, corpus_path
from stance.data import load_splits
from stance.labels import LABELS

TROOPS = "deployment of Western/European troops to Ukraine"
SPLIT_CORPUS = Path(__file__).resolve().parents[1] / "scripts" / "split_corpus.py"


@pytest.fixture(scope="module")
def corpus():
    return {split: pd.read_csv(corpus_path(f"troop_deployment/{split}.csv")) for split in ("train", "dev", "test")}


def test_size_and_balance(corpus):
    everything = pd.concat(corpus.values())
    troops = everything[everything["target"] == TROOPS]
    assert len(everything) >= 5000 and len(troops) >= 3500
    assert min(Counter(troops["label"]).values()) >= 1150  # balanced: a third each, give or take
    assert set(everything["label"]) == set(LABELS)
    others = everything[everything["target"] != TROOPS]
    assert len(others) >= 1200 and others["target"].nunique() == 4
    for frame in corpus.values():  # every split holds every target and label
        assert frame["target"].nunique() == 5 and set(frame["label"]) == set(LABELS)


def test_variety_of_voices_and_genres(corpus):
    everything = pd.concat(corpus.values())
    assert everything["country"].nunique() >= 40
    assert everything["speaker"].nunique() >= 100
    assert everything["genre"].nunique() >= 8
    # no single opening dominates: templates would show up as repeated first words
    openings = Counter(everything["text"].str.split().str[:3].str.join(" "))
    assert openings.most_common(1)[0][1] <= len(everything) // 200


def test_no_near_duplicates_across_splits(corpus):
    train = corpus["train"]["text"].tolist()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit(train)
    train_vectors = vectorizer.transform(train)
    for split in ("dev", "test"):
        similarity = cosine_similarity(vectorizer.transform(corpus[split]["text"]), train_vectors)
        worst = np.unravel_index(similarity.argmax(), similarity.shape)
        assert similarity.max() < 0.8, (corpus[split]["text"].iat[worst[0]], train[worst[1]])


def test_loads_through_the_default_data_config():
    splits = load_splits(compose("train", ["output_dir=/unused"]).data)
    assert all(len(splits[split]) > 150 for split in ("train", "dev", "test"))
    assert splits["train"].features["label"].names == list(LABELS)


def test_no_statement_copies_the_benchmarks(corpus):
    """The corpus is only worth something while it has not seen the benchmarks: no statement shares a
    run of words with one of their texts or paraphrases a real statement (the check split_corpus.py
    applies to new statements)."""
    spec = importlib.util.spec_from_file_location("split_corpus", SPLIT_CORPUS)
    split_corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(split_corpus)
    benchmarks = split_corpus.benchmark_texts()
    if "real" not in benchmarks:
        pytest.skip(f"the benchmarks are not in {split_corpus.DATASETS}")
    texts = pd.concat(corpus.values())["text"].tolist()
    copies = split_corpus.benchmark_copies(texts, benchmarks)
    assert not copies, [(texts[i][:80], why) for i, why in copies.items()]
