"""TweetEval's stance layout, read from its folders or from the hub."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stance.errors import DataError
from stance.data.datasets_io import open_dataset


def read_tweeteval(cfg, split: str) -> pd.DataFrame:
    """TweetEval's stance layout: ``<path>/<target>/<split>_{text,labels}.txt``, aligned by line.

    ``path`` may instead be the hub data set ``cardiffnlp/tweet_eval`` (configs ``stance_<target>``).
    """
    root, split_name = str(cfg.path), cfg[split]
    parts = []
    for key, phrase in cfg.targets.items():
        if Path(root).is_dir():
            folder = Path(root) / key
            text_file, label_file = folder / f"{split_name}_text.txt", folder / f"{split_name}_labels.txt"
            for file in (text_file, label_file):
                if not file.is_file():
                    raise DataError(f"no such file: {file} (set data.path to the tweeteval stance folder)")
            texts = text_file.read_text(encoding="utf-8").splitlines()
            labels = label_file.read_text(encoding="utf-8").splitlines()
            if len(texts) != len(labels):
                raise DataError(f"{folder}: {len(texts)} texts but {len(labels)} labels in split {split_name!r}")
            where = [f"{text_file} line {i + 1}" for i in range(len(texts))]
        else:
            hub = open_dataset(root, "hub", hub_config=f"stance_{key}", split=split)
            texts, labels = hub["text"], [str(label) for label in hub["label"]]
            where = [f"{root}/stance_{key} {split} row {i + 1}" for i in range(len(texts))]
        parts.append(pd.DataFrame({"text": texts, "target": phrase, "label": labels, "where": where}))
    return pd.concat(parts, ignore_index=True)
