"""THE dataset loader, shared by training, evaluation and benchmarks: ``load_splits(cfg.data)``.

Batch labeling streams files through the same readers (``stance.io.readers``).
"""

from stance.data.loader import SPLITS, load_splits

__all__ = ["SPLITS", "load_splits"]
