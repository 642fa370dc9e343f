"""Library logs routed through the app's handlers (Hydra's run log), once each."""

from __future__ import annotations

import logging


def route_library_logs() -> None:
    """Send transformers' and datasets' records through Hydra's handlers (they do not propagate)."""
    import datasets
    import transformers

    transformers.utils.logging.disable_default_handler()
    for library in (transformers, datasets):
        library.utils.logging.enable_propagation()
        library.utils.logging.set_verbosity_warning()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()  # tokenizing bars add noise; the Trainer's bar is the one to watch
    # datasets offers no switch for its own stderr handler; drop it so records print once
    datasets_root = logging.getLogger("datasets")
    for handler in list(datasets_root.handlers):
        datasets_root.removeHandler(handler)
