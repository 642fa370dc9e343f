import json
import logging
from collections import Counter

import pandas as pd
import pytest
from datasets import Dataset, DatasetDict

from stance.data import load_splits
from stance.errors import DataError
from stance.labels import LABELS, LabelError
from conftest import write_corpus
from omegaconf import OmegaConf
from stance.config.schema import DataConfig

DEFAULT_TARGET = "deployment of Western/European troops to Ukraine"


def data_cfg(**overrides):
    """A data config node: the schema's defaults (stance.config.schema.DataConfig) and ``overrides``."""
    return OmegaConf.merge(OmegaConf.structured(DataConfig), {"default_target": DEFAULT_TARGET, **overrides})


def rows(n=30):
    return pd.DataFrame({"text": [f"statement number {i}" for i in range(n)], "label": [LABELS[i % 3] for i in range(n)]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_reads_every_file_format(tmp_path, suffix):
    frame = rows()
    path = tmp_path / f"train{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    splits = load_splits(data_cfg(train=str(path), test=str(path), on_overlap="warn"), splits=("train", "test"))
    assert splits["test"]["text"] == frame["text"].tolist()
    assert splits["test"].features["label"].names == list(LABELS)
    assert set(splits["test"]["target"]) == {DEFAULT_TARGET}


def test_reads_a_saved_datasets_directory(tmp_path):
    frame = rows()
    DatasetDict({"train": Dataset.from_pandas(frame), "validation": Dataset.from_pandas(frame.head(9))}).save_to_disk(tmp_path / "ds")
    splits = load_splits(data_cfg(dev=str(tmp_path / "ds")), splits=("dev",))
    assert len(splits["dev"]) == 9


def test_one_file_is_split_stratified_and_reproducibly(tmp_path):
    path = write_corpus(tmp_path / "all.csv", n=300)
    first = load_splits(data_cfg(train=str(path)), seed=7)
    again = load_splits(data_cfg(train=str(path)), seed=7)
    other = load_splits(data_cfg(train=str(path)), seed=8)
    assert [len(first[s]) for s in ("train", "dev", "test")] == [240, 30, 30]
    assert first["test"]["text"] == again["test"]["text"]
    assert first["test"]["text"] != other["test"]["text"]
    assert Counter(first["test"]["label"]) == {0: 10, 1: 10, 2: 10}
    assert not set(first["train"]["text"]) & set(first["test"]["text"])


def test_target_column_and_default_target(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"text": ["a b", "c d"], "label": ["favor", "against"], "topic": ["sanctions against Russia", ""]}).to_csv(path, index=False)
    split = load_splits(data_cfg(test=str(path), target_column="topic"), splits=("test",))["test"]
    assert split["target"] == ["sanctions against Russia", DEFAULT_TARGET]
    assert split["label"] == [0, 2]


def test_exact_duplicates_are_dropped_from_training_and_counted(tmp_path, caplog):
    path = tmp_path / "d.csv"
    pd.concat([rows(6), rows(6).head(2)]).to_csv(path, index=False)
    with caplog.at_level(logging.INFO, logger="stance.data"):
        split = load_splits(data_cfg(train=str(path)), splits=("train",))["train"]
    assert len(split) == 6
    assert "exact duplicates dropped: 2" in caplog.text
    # an evaluation set is scored as given: every row counts, as in the published scores
    assert len(load_splits(data_cfg(test=str(path)), splits=("test",))["test"]) == 8


def test_empty_and_null_texts_are_skipped_with_a_count(tmp_path, caplog):
    path = tmp_path / "e.jsonl"
    records = [{"text": "fine statement", "label": "for"}, {"text": "", "label": "con"}, {"text": None, "label": "none"}, {"text": "   ", "label": "pro"}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    with caplog.at_level(logging.INFO, logger="stance.data"):
        split = load_splits(data_cfg(test=str(path)), splits=("test",))["test"]
    assert split["text"] == ["fine statement"]
    assert "2 empty text" in caplog.text and "1 missing text" in caplog.text


def test_overlap_between_train_and_test_fails_unless_warn(tmp_path, caplog):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    rows(30).to_csv(train, index=False)
    frame = rows(3)
    frame["text"] = frame["text"].str.upper()  # overlap is found through case and spacing
    frame.to_csv(test, index=False)
    with pytest.raises(DataError, match=r"3 texts occur in both train and test.*data.on_overlap=warn"):
        load_splits(data_cfg(train=str(train), test=str(test)))
    with caplog.at_level(logging.WARNING):
        load_splits(data_cfg(train=str(train), test=str(test), on_overlap="warn"))
    assert "3 texts occur in both train and test" in caplog.text


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match=r"^no such file: .*nope\.csv$"):
        load_splits(data_cfg(test=str(tmp_path / "nope.csv")), splits=("test",))


def test_missing_column_lists_the_columns_there_are(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"statement": ["x"], "stance": ["for"]}).to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        load_splits(data_cfg(test=str(path)), splits=("test",))
    assert str(info.value) == f"{path}: missing column 'text', 'label'; columns present: statement, stance"


def test_empty_split_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("text,label\n")
    with pytest.raises(DataError, match=r"split 'test' is empty"):
        load_splits(data_cfg(test=str(path)), splits=("test",))


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "label": "for"}\n{"text": "broken", "label": \n')
    with pytest.raises(DataError, match=r"bad\.jsonl line 2: malformed JSON"):
        load_splits(data_cfg(test=str(path)), splits=("test",))


def test_unknown_label_names_file_row_value_and_accepted_set(tmp_path):
    path = tmp_path / "l.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["favor", "against", "perhaps"]}).to_csv(path, index=False)
    with pytest.raises(LabelError, match=r"l\.csv row 3: unknown label 'perhaps'; accepted \(case-insensitive\): .*favor"):
        load_splits(data_cfg(test=str(path)), splits=("test",))


def test_training_needs_a_train_file(tmp_path):
    path = write_corpus(tmp_path / "t.csv")
    with pytest.raises(DataError, match="training needs data.train"):
        load_splits(data_cfg(test=str(path)))
