"""Where a training run's progress goes: TensorBoard, MLflow, and Hydra's run log."""

import subprocess
import sys

import pytest

from stance.config import compose
from stance.training import train


def test_tensorboard_and_mlflow_receive_losses_and_dev_scores(tmp_path, corpus_csv, one_thread):
    store = tmp_path / "mlflow.db"
    cfg = compose("train", [
        "model=tiny", "trainer=fast", "data=files", f"data.train={corpus_csv}", f"output_dir={tmp_path / 'run'}",
        "trainer.report_to=[tensorboard,mlflow]", f"trainer.mlflow_tracking_uri=sqlite:///{store}", "trainer.mlflow_experiment=tiny",
    ])
    train(cfg)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert {"train/loss", "eval/loss", "eval/macro_f1"} <= set(scalars)
    assert len(events.Scalars("train/loss")) == 4  # trainer=fast: 4 steps, logged at each

    import mlflow

    runs = mlflow.search_runs(experiment_names=["tiny"])
    assert len(runs) == 1 and runs.loc[0, "status"] == "FINISHED"
    # the same dev score at the same (last) evaluation in both trackers
    assert runs.loc[0, "metrics.eval_macro_f1"] == pytest.approx(events.Scalars("eval/macro_f1")[-1].value)
    assert runs.loc[0, "tags.mlflow.runName"] == str(tmp_path / "run")
    assert store.is_file()


def test_library_logs_reach_the_run_log_once(tmp_path):
    """What Hydra configures for a job (console + run log), then the routing every entry point applies.

    In a fresh interpreter: the logging setup is process-wide, and runtimes loaded by earlier
    tests (OpenVINO, ONNX Runtime) keep handlers on streams that pytest has since closed.
    """
    script = f"""
import logging.config
from pathlib import Path

import datasets
import hydra
import transformers
import yaml

from stance.cli.logs import route_library_logs

job_logging = yaml.safe_load((Path(hydra.__file__).parent / "conf/hydra/job_logging/default.yaml").read_text())
job_logging["handlers"]["file"]["filename"] = {str(tmp_path / "stance-train.log")!r}
logging.config.dictConfig(job_logging)
route_library_logs()
transformers.utils.logging.get_logger("transformers.trainer").warning("probe from transformers")
datasets.utils.logging.get_logger("datasets.arrow_dataset").warning("probe from datasets")
transformers.utils.logging.get_logger("transformers.trainer").info("below the warning level")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    run_log = (tmp_path / "stance-train.log").read_text()
    for probe in ("probe from transformers", "probe from datasets"):
        assert run_log.count(probe) == 1
        assert (result.stdout + result.stderr).count(probe) == 1
    assert "below the warning level" not in run_log
