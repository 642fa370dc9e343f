"""Add new statements to the bundled corpus without near-duplicates across its splits.

Statements whose character 3-5-gram TF-IDF cosine is above 0.6 (minimal pairs, the same text
toward two targets, paraphrases) form one group, and a group sits in one split. Rows already
in the corpus keep their split (a group that touches them joins it); groups of new rows are
dealt to train/dev/test 70/15/15, stratified by (target, label), seeded.

    python scripts/split_corpus.py NEW.csv [NEW2.csv ...]   # rewrites data/troop_deployment/{train,dev,test}.csv

New statements that copy the benchmarks in ../shared/datasets (the real statements, TweetEval,
RUW) are refused, when that folder is there: a run of COPIED_WORDS words in a row that a
benchmark text also has, or a character n-gram cosine above SIMILAR_TO_REAL to a real statement
(a paraphrase). tests/test_corpus.py checks the whole corpus the same way.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from stance.config import compose
from stance.data import load_splits

CORPUS = Path(__file__).resolve().parents[1] / "data" / "troop_deployment"
DATASETS = Path(os.environ.get("STANCE_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
COPIED_WORDS = 8
SPLITS = ("train", "dev", "test")
SHARES = {"train": 0.70, "dev": 0.15, "test": 0.15}
SIMILAR = 0.6
SIMILAR_TO_REAL = 0.5  # above it, a statement paraphrases a real one (checked by reading the pairs near it)
COLUMNS = ["text", "target", "label", "country", "speaker", "genre"]
BENCHMARKS = {"real": ("real_statements", "real-statements"), "tweeteval": ("tweeteval_stance", "tweeteval-stance"),
              "ruw": ("ruw", "ruw")}  # name: (data config, folder under DATASETS)


def groups_of(texts: list[str]) -> np.ndarray:
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(texts)
    similar = vectors @ vectors.T
    similar.data = (similar.data > SIMILAR).astype(np.int8)
    similar.eliminate_zeros()
    return connected_components(similar, directed=False)[1]


def benchmark_texts(datasets: Path = DATASETS) -> dict[str, list[str]]:
    """The texts of each benchmark under ``datasets``, every split, read by the one loader ({} where absent)."""
    texts = {}
    for name, (config, folder) in BENCHMARKS.items():
        if (datasets / folder).is_dir():
            data = compose("train", [f"data={config}", f"data.path={datasets / folder}", "output_dir=."]).data
            splits = tuple(split for split in SPLITS if data[split])
            loaded = load_splits(data, splits=splits, keep_all_rows=True)
            texts[name] = list(dict.fromkeys(text for split in splits for text in loaded[split]["text"] if text))
    return texts


def _word_runs(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + COPIED_WORDS]) for i in range(len(words) - COPIED_WORDS + 1)}


def benchmark_copies(texts: list[str], benchmarks: dict[str, list[str]]) -> dict[int, str]:
    """Which of ``texts`` copy a benchmark text, by index, with why."""
    copies = {}
    runs = {run: name for name, items in benchmarks.items() for text in items for run in _word_runs(text)}
    for i, text in enumerate(texts):
        shared = [run for run in _word_runs(text) if run in runs]
        if shared:
            copies[i] = f"shares '{shared[0]}' with {runs[shared[0]]}"
    real = benchmarks.get("real", [])
    if real:
        vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit(list(texts) + real)
        similar = (vectors.transform(texts) @ vectors.transform(real).T).toarray()
        for i in np.flatnonzero(similar.max(axis=1) > SIMILAR_TO_REAL):
            copies.setdefault(int(i), f"cosine {similar[i].max():.2f} with a real statement")
    return copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new", nargs="+", help="CSV files with the corpus columns")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    old = pd.concat([pd.read_csv(CORPUS / f"{split}.csv").assign(split=split) for split in SPLITS], ignore_index=True)
    new = pd.concat([pd.read_csv(path)[COLUMNS] for path in args.new], ignore_index=True).assign(split=None)
    copies = benchmark_copies(new["text"].tolist(), benchmark_texts())
    if copies:
        raise SystemExit("new statements copy the benchmarks: " + "; ".join(f"{new['text'][i][:60]!r} ({why})" for i, why in copies.items()))
    rows = pd.concat([old, new], ignore_index=True)
    if rows.duplicated(["text", "target"]).any():
        raise SystemExit(f"{rows.duplicated(['text', 'target']).sum()} (text, target) pairs occur twice")
    rows["group"] = groups_of(rows["text"].tolist())

    for group, members in rows.groupby("group"):
        kept = set(members["split"].dropna())
        if len(kept) > 1:
            raise SystemExit(f"new rows join corpus rows of different splits: {members['text'].str[:60].tolist()}")
        if kept:
            rows.loc[members.index, "split"] = kept.pop()

    rng = np.random.default_rng(args.seed)
    stratum = rows["target"] + "|" + rows["label"]
    wanted = {(s, split): SHARES[split] * n for s, n in stratum.value_counts().items() for split in SPLITS}
    have = {(s, split): 0 for s, split in wanted}
    for (s, split), n in stratum[rows["split"].notna()].groupby([stratum, rows["split"]]).size().items():
        have[(s, split)] = n
    open_groups = rows[rows["split"].isna()]["group"].unique()
    for group in rng.permutation(open_groups):
        members = rows.index[rows["group"] == group]
        s = stratum[members[0]]
        split = max(SPLITS, key=lambda name: (wanted[(s, name)] - have[(s, name)]) / SHARES[name])
        rows.loc[members, "split"] = split
        for index in members:
            have[(stratum[index], split)] += 1

    for split in SPLITS:
        part = rows[rows["split"] == split][COLUMNS]
        part.sample(frac=1, random_state=args.seed).to_csv(CORPUS / f"{split}.csv", index=False)
        print(split, len(part))


if __name__ == "__main__":
    main()
