"""What every figure shares: matplotlib without a display, one colour per label, saving."""

from __future__ import annotations

from pathlib import Path

from stance.io.atomic import atomic_output

# Okabe-Ito colours, told apart with the common colour-vision deficiencies
LABEL_COLORS = {"supportive": "#0072B2", "reserved": "#999999", "opposed": "#D55E00"}


def pyplot():
    """matplotlib.pyplot on the Agg backend: figures go to files, never to a window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def subplots(*args, **kwargs):
    """``pyplot.subplots`` with constrained layout: titles, colour bars and outside legends get their room."""
    return pyplot().subplots(*args, layout="constrained", **kwargs)


def save(figure, path: str | Path) -> Path:
    path = Path(path)
    with atomic_output(path, "wb") as handle:
        figure.savefig(handle, format=path.suffix.lstrip("."))
    pyplot().close(figure)
    return path
