"""Where each group stands: label shares per group (and over time) of a file written by stance-label."""

from stance.summary.summarize import summarize

__all__ = ["summarize"]
