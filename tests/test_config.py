"""Typed configs: a misspelt key fails at compose time; nonsense values are refused before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from stance.config import compose
from stance.config.validate import validate
from stance.errors import ConfigError


def test_a_misspelt_key_fails_when_composing_and_names_the_key():
    with pytest.raises(ConfigCompositionException, match="trainer.max_epochz"):
        compose("train", ["trainer.max_epochz=1", "output_dir=."])


def test_a_value_of_the_wrong_type_fails_when_composing():
    with pytest.raises(ConfigCompositionException, match="trainer.learning_rate=abc"):
        compose("train", ["trainer.learning_rate=abc", "output_dir=."])


@pytest.mark.parametrize("override, message", [
    ("trainer.max_epochs=-1", "trainer.max_epochs=-1: must be >= 1"),
    ("trainer.max_epochs=0", "trainer.max_epochs=0: must be >= 1"),
    ("trainer.batch_size=0", "trainer.batch_size=0: must be >= 1"),
    ("trainer.learning_rate=10", "trainer.learning_rate=10.0: must be above 0 and below 1"),
    ("trainer.learning_rate=0", "trainer.learning_rate=0.0: must be above 0 and below 1"),
    ("trainer.warmup_ratio=1.5", "trainer.warmup_ratio=1.5: must be >= 0 and below 1"),
    ("trainer.max_length=5", "trainer.max_length=5: must be between 16 and 512 tokens"),
    ("trainer.max_length=4096", "trainer.max_length=4096: must be between 16 and 512 tokens"),
    ("trainer.precision=int8", "trainer.precision=int8: use one of auto, fp32, bf16"),
    ("trainer.device=cuda:1", "trainer.device=cuda:1: use auto, cpu or cuda"),
    ("trainer.select_metric=loss", "trainer.select_metric=loss: use one of macro_f1, f_avg, accuracy"),
    ("trainer.class_weights=[1,2]", "trainer.class_weights=[1, 2]: use null, balanced, or three positive weights"),
    ("trainer.contrastive_weight=-1", "trainer.contrastive_weight=-1.0: must be >= 0"),
    ("trainer.contrastive_temperature=0", "trainer.contrastive_temperature=0.0: must be above 0 and at most 1"),
    ("model.name=roberta-base", "model.name is read for model=hub only; model=minilm ignores it"),
    ("model.pooling=max", "model.pooling=max: use one of cls, mean"),
    ("model.dropout=1", "model.dropout=1.0: must be >= 0 and below 1"),
    ("data.on_overlap=ignore", "data.on_overlap=ignore: use one of error, warn"),
    ("ensemble.seeds=[42]", "ensemble.seeds [42] repeats the main model's seed=42"),
])
def test_nonsense_values_are_refused_naming_the_key(override, message):
    with pytest.raises(ConfigError) as error:
        validate(compose("train", [override, "output_dir=."]))
    assert str(error.value).startswith(message)


def test_hub_model_needs_a_name():
    with pytest.raises(ConfigError, match="model=hub needs model.name"):
        validate(compose("train", ["model=hub", "output_dir=."]))


def test_every_shipped_recipe_validates():
    for overrides in ([], ["experiment=tweeteval_blend"], ["experiment=tweeteval_ensemble"], ["experiment=ruw"],
                      ["data=mixture"], ["model=tiny", "trainer=fast"], ["linear=tfidf_minilm"], ["model=hub", "model.name=x"]):
        validate(compose("train", [*overrides, "output_dir=."]))


def stance_train(*args, cwd):
    return subprocess.run([str(Path(sys.executable).parent / "stance-train"), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("override, message", [
    ("trainer.max_epochz=1", "error: Could not override 'trainer.max_epochz': Key 'max_epochz' not in 'TrainerConfig'"),
    ("trainer.learning_rate=abc", "error: Error merging override trainer.learning_rate=abc: Value 'abc' of type 'str' could not be converted to Float"),
    ("trainer.max_epochs=-1", "error: trainer.max_epochs=-1: must be >= 1"),
])
def test_cli_refuses_with_one_line_and_exit_2_before_any_work(tmp_path, override, message):
    result = stance_train("model=tiny", override, f"hydra.run.dir={tmp_path}/run", cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (2, message)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_debug_shows_the_traceback(tmp_path):
    result = stance_train("model=tiny", "trainer.max_epochs=-1", "--debug", f"hydra.run.dir={tmp_path}/run", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr and "ConfigError" in result.stderr


def test_eval_help_lists_the_data_group_alone_with_every_option():
    result = subprocess.run([str(Path(sys.executable).parent / "stance-eval"), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    groups = result.stdout.split("== Configuration groups ==")[1].split("== Config ==")[0]
    listed = [line for line in groups.splitlines() if ": " in line]
    shipped = sorted(path.stem for path in (Path(__file__).resolve().parents[1] / "conf" / "data").glob("*.yaml"))
    assert listed == [f"data: {', '.join(shipped)}"]  # no model/trainer/linear groups, which evaluation does not read
