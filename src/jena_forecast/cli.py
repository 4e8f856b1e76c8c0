"""What every stage entry point shares: quiet TensorFlow, one-line user errors, exit code 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from jena_forecast.errors import PipelineError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

USER_ERROR_EXIT_CODE = 2


def run_stage(name: str, main: Callable[[], str]) -> None:
    """Run a stage's ``main``; print its one-line summary, or a user error without a traceback."""
    try:
        summary = main()
    except PipelineError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        raise SystemExit(USER_ERROR_EXIT_CODE) from None
    except KeyboardInterrupt:
        print(f"{name}: interrupted; no output of this run was put in place", file=sys.stderr)
        raise SystemExit(130) from None
    print(f"{name}: {summary}")


def model_argument() -> str:
    """The model name a per-model stage is called with (``python stages/train.py gru``)."""
    if len(sys.argv) != 2:
        raise PipelineError("expected exactly one argument, the model name from params.yaml models")
    return sys.argv[1]
