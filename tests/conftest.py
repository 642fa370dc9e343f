"""Shared fixtures: a small labeled corpus and a tiny model trained on it once per session."""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the suite never reaches a model hub

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATASETS = Path(os.environ.get("STANCE_DATASETS", SHARED / "datasets"))

PHRASES = {
    "supportive": ["we are ready to send soldiers", "a reassurance force should deploy", "our troops can help secure Kyiv"],
    "reserved": ["that is not on the agenda today", "we should not speculate about it", "it needs careful study first"],
    "opposed": ["we will never send our soldiers", "ground troops are out of the question", "deploying troops would be madness"],
}


def write_corpus(path: Path, n: int = 150, seed: int = 0, with_target: bool = False) -> Path:
    """A synthetic, learnable CSV with columns text,label (and target): n distinct rows."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        fields = ["text", "label"] + (["target"] if with_target else [])
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        for i in range(n):
            label = list(PHRASES)[i % 3]
            row = {"text": f"Speaker {i} of {rng.choice(['Paris', 'Rome', 'Oslo'])}: {rng.choice(PHRASES[label])}.", "label": label}
            if with_target:
                row["target"] = "deployment of Western/European troops to Ukraine"
            writer.writerow(row)
    return path


@pytest.fixture(scope="module")
def one_thread():
    """The tiny model gains nothing from threads, and on a loaded shared machine OpenMP's
    barriers make every small op wait for a time slice (seconds per test instead of ms)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def corpus_csv(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "all.csv")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, corpus_csv) -> Path:
    """A tiny BERT trained for a few steps with the real training code."""
    from stance.config import compose
    from stance.training import train

    out = tmp_path_factory.mktemp("tiny_run")
    cfg = compose("train", ["model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={out}"])
    return Path(train(cfg)["model_dir"])
