"""Experiment tracking: the Trainer's losses and dev scores to TensorBoard (under the run directory) or MLflow."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from stance.errors import ConfigError

TENSORBOARD_DIRNAME = "tensorboard"


def tracking_callbacks(trainer_cfg, work_dir: str | Path, main_process: bool = True) -> list:
    """One Trainer callback per name in ``trainer.report_to``, each writing where the config says.

    TensorBoard logs go to ``<work_dir>/tensorboard``; MLflow to ``trainer.mlflow_tracking_uri``
    (MLflow's own default when null: $MLFLOW_TRACKING_URI, else ./mlflow.db) under the experiment
    ``trainer.mlflow_experiment``, one MLflow run per training run (named by TrainingArguments.run_name).
    """
    callbacks = []
    if "tensorboard" in trainer_cfg.report_to and main_process:  # a writer opens its event file at once
        from torch.utils.tensorboard import SummaryWriter
        from transformers.integrations import TensorBoardCallback

        callbacks.append(TensorBoardCallback(SummaryWriter(log_dir=str(Path(work_dir) / TENSORBOARD_DIRNAME))))
    if "mlflow" in trainer_cfg.report_to:
        if importlib.util.find_spec("mlflow") is None:
            raise ConfigError("trainer.report_to=[mlflow] needs MLflow: pip install 'stance[mlflow]'")
        import mlflow
        from transformers.integrations import MLflowCallback

        if main_process:  # the callback logs from the main process only; the others must not race to create the experiment
            if trainer_cfg.mlflow_tracking_uri:
                mlflow.set_tracking_uri(trainer_cfg.mlflow_tracking_uri)
            mlflow.set_experiment(trainer_cfg.mlflow_experiment)
        callbacks.append(MLflowCallback())
    return callbacks
