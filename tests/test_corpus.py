"""The bundled corpus: size, balance, variety, and no near-duplicates across splits."""

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from stance.config import compose, corpus_path
from stance.data import load_splits
from stance.labels import LABELS

TROOPS = "deployment of Western/European troops to Ukraine"


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
