"""The one error handler of every entry point: a user's mistake is one line and exit code 2.

``--debug`` (or ``HYDRA_FULL_ERROR=1``) shows the traceback instead, for every entry point.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, TypeVar

from stance.errors import StanceError

T = TypeVar("T")
USAGE_ERROR = 2
INTERRUPTED = 130
DEBUG_ENV = "STANCE_DEBUG"  # an environment variable, so that launchers' worker processes see it too


def debug_requested() -> bool:
    return os.environ.get(DEBUG_ENV) == "1"


def run_cli(main: Callable[[], T], *, debug: bool = False, interrupted: str = "interrupted") -> T:
    """Call ``main``; turn user errors (ours, Hydra's config errors, OS errors) into one line on stderr."""
    try:
        return main()
    except Exception as exc:
        if debug or not isinstance(exc, user_errors()):
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        sys.exit(USAGE_ERROR)
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        sys.exit(INTERRUPTED)


def user_errors() -> tuple[type[Exception], ...]:
    """The exception types that are a user's mistake. Hydra's and OmegaConf's only where they were
    imported (they cannot have raised otherwise): importing them costs stance-label a quarter of a second."""
    errors: tuple[type[Exception], ...] = (StanceError, OSError)
    if "hydra" in sys.modules:
        from hydra.errors import HydraException

        errors += (HydraException,)
    if "omegaconf" in sys.modules:
        from omegaconf.errors import OmegaConfBaseException

        errors += (OmegaConfBaseException,)
    return errors


def run_hydra_app(app: Callable[[], object], argv: list[str]) -> None:
    """Run a ``@hydra.main`` app so that config errors (a misspelt key, a value of the wrong type) are one line too.

    The app's own task calls ``run_cli`` itself: its exit then passes through Hydra untouched,
    while an exception would make Hydra print an extra line first.
    """
    if "--debug" in argv:  # Hydra would reject the flag
        argv.remove("--debug")
        os.environ[DEBUG_ENV] = "1"
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        os.environ[DEBUG_ENV] = "1"
    previous = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra then raises its config errors instead of printing them
    try:
        run_cli(app, debug=debug_requested())
    finally:
        if previous is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = previous


def one_line(exc: BaseException) -> str:
    """The first line of the error, and of its cause where that says what was wrong (Hydra wraps OmegaConf's)."""
    if isinstance(exc, OSError) and exc.strerror:  # "[Errno 2] No such file or directory: 'x'" -> "x: No such file or directory"
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    cause = exc.__cause__
    if cause is not None and not isinstance(exc, StanceError) and str(cause).strip():
        first = f"{first.rstrip('.')}: {str(cause).strip().splitlines()[0]}"
    return first
