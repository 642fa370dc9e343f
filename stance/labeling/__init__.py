"""Batch labeling of files: ``label_file(model_dir, input, output)``."""

from stance.labeling.job import default_output, label_file
from stance.labeling.parts import partial_dir

__all__ = ["default_output", "label_file", "partial_dir"]
