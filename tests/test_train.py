import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from transformers import pipeline

from stance.config import compose
from stance.labels import LABELS
from stance.training import train

TARGET = "deployment of Western/European troops to Ukraine"


def test_model_directory_describes_itself(tiny_model_dir: Path):
    files = {p.name for p in tiny_model_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "stance_config.yaml", "metrics.json"} <= files
    assert not [name for name in files if name.endswith((".bin", ".pt", ".pkl"))]  # safetensors and text only
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["id2label"] == {"0": "supportive", "1": "reserved", "2": "opposed"}
    assert config["label2id"] == {"supportive": 0, "reserved": 1, "opposed": 2}
    assert config["stance_default_target"] == TARGET
    resolved = yaml.safe_load((tiny_model_dir / "stance_config.yaml").read_text())
    assert resolved["model"]["kind"] == "tiny" and "${" not in json.dumps(resolved)
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    for split in ("dev", "test"):
        assert {"accuracy", "macro_f1", "f_avg", "per_class", "confusion_matrix"} <= set(metrics[split])
        assert sum(map(sum, metrics[split]["confusion_matrix"])) == metrics["examples"][split]


def test_plain_transformers_pipeline_returns_our_labels(tiny_model_dir: Path):
    classify = pipeline("text-classification", model=str(tiny_model_dir))
    result = classify({"text": TARGET, "text_pair": "We will never send our soldiers there."})
    assert result["label"] in LABELS


def test_training_learns_with_class_weights_and_the_contrastive_term(tmp_path, corpus_csv):
    cfg = compose("train", [
        "model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={tmp_path}",
        "trainer.max_steps=60", "trainer.learning_rate=3e-3", "trainer.class_weights=balanced",
        "trainer.contrastive_weight=0.5",
        "trainer.max_length=32", "model.hidden_size=64",
    ])
    metrics = train(cfg)
    # the synthetic phrases are separable: a learning run beats chance (1/3) clearly
    assert metrics["dev"]["accuracy"] > 0.6
    assert Path(metrics["model_dir"], "metrics.json").is_file()
    assert not Path(tmp_path, "model.partial").exists()


@pytest.mark.slow
def test_bundled_minilm_trains_offline_for_a_few_steps_with_the_dropout_asked_for(tmp_path, corpus_csv):
    cfg = compose("train", ["model=minilm", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={tmp_path}",
                            "model.dropout=0.2"])
    metrics = train(cfg)
    config = json.loads(Path(metrics["model_dir"], "config.json").read_text())
    assert config["hidden_size"] == 384 and config["num_hidden_layers"] == 6  # all-MiniLM-L6-v2's shape
    assert config["hidden_dropout_prob"] == config["attention_probs_dropout_prob"] == 0.2  # the checkpoint's is 0.1
    assert metrics["train_steps"] == 4


def run_cli(script, *args, cwd):
    """Run an installed console script of this environment from ``cwd``."""
    executable = Path(sys.executable).parent / script
    return subprocess.run([str(executable), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_prints_the_model_path_last(tmp_path, corpus_csv):
    result = run_cli("stance-train", "model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"hydra.run.dir={tmp_path}/run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last == str(tmp_path / "run" / "model")
    assert Path(last, "model.safetensors").is_file()


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    result = run_cli("stance-train", "model=tiny", "data=files", f"data.train={tmp_path}/missing.csv", f"hydra.run.dir={tmp_path}/run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: no such file: {tmp_path}/missing.csv"
