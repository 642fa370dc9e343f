"""Training: the recipe and its steps. ``from stance.training import train``."""

from stance.training.recipe import train

__all__ = ["train"]
