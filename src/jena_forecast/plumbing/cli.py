"""What every stage entry point shares: its paths from the command line, quiet TensorFlow, one-line
user errors, exit code 2.

A stage module's ``run(config: Config, [name,] *, a_path, b_path, ...)`` takes the params
sections it reads (``Config``, a ``plumbing.params.Sections``) and its paths as keyword arguments;
``call_with_paths(run)`` validates those sections of ``params.yaml`` and reads the paths from
options named after them, so ``dvc.yaml`` is the only place a path is written::

    python -m stages.evaluate gru --array-path data/processed/normalized.npy ...
    -> run(Config.load(), "gru", array_path=Path("data/processed/normalized.npy"), ...)

Per-model path patterns (``metrics/models/{name}.json``) are expanded by ``per_model``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from jena_forecast.plumbing.errors import PipelineError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

USER_ERROR_EXIT_CODE = 2
T = TypeVar("T")


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def path_arguments(
    prog: str,
    names: Sequence[str],
    positional: Sequence[str] = (),
    optional: Sequence[str] = (),
    argv: Sequence[str] | None = None,
) -> argparse.Namespace:
    """Parse ``argv`` (default: the command line): the ``positional`` arguments (e.g. ``name``),
    then one ``--a-path PATH`` option per name of ``names`` (required) and ``optional``."""
    parser = argparse.ArgumentParser(prog=prog)
    for name in positional:
        parser.add_argument(name)
    for name in (*names, *optional):
        parser.add_argument(
            _option(name), dest=name, type=Path, required=name in names, metavar="PATH"
        )
    return parser.parse_args(argv)


def per_model(pattern: Path, names: Sequence[str]) -> dict[str, Path]:
    """Each model's path from a pattern of the command line: ``metrics/models/{name}.json``."""
    if "{name}" not in str(pattern):
        raise PipelineError(f"{pattern}: expected a path pattern with {{name}} in it")
    return {name: Path(str(pattern).replace("{name}", name)) for name in names}


def call_with_paths(
    run: Callable[..., T], argv: Sequence[str] | None = None
) -> tuple[list[str], T]:
    """Call a stage's ``run(config, [name,] *, paths...)`` with the sections of ``params.yaml`` that
    ``config``'s type declares and the command line; return the positional arguments (a model's
    name) and what ``run`` returned.

    Every positional parameter after ``config`` is a positional argument; every keyword-only
    parameter is an ``--option PATH`` of the same name, required unless it has a default.
    """
    first, *parameters = inspect.signature(run).parameters.values()
    sections = get_type_hints(run)[first.name]
    positional = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    keywords = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
    required = [p.name for p in keywords if p.default is p.empty]
    optional = [p.name for p in keywords if p.default is not p.empty]
    args = path_arguments(f"python -m {run.__module__}", required, positional, optional, argv)
    values: dict[str, Any] = vars(args)
    given = [values[name] for name in positional]
    result = run(
        sections.load(),
        *given,
        **{p.name: values[p.name] for p in keywords if values[p.name] is not None},
    )
    return given, result


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
