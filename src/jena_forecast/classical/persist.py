"""Fitted classical estimators on disk, in skops's format: loading one runs no code from the file
(unlike pickle or joblib), and only scikit-learn, NumPy and this package's own estimator types
are accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.plumbing.atomic import atomic_path
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.stable_zip import stable_skops

TRUSTED_PREFIXES = ("sklearn.", "numpy.", "builtins.", "jena_forecast.classical.")


def save_estimator(path: str | Path, estimator: Any) -> None:
    """Write the fitted ``estimator`` to ``path`` (``.skops``), atomically, the same bytes for the
    same estimator."""
    import skops.io

    with atomic_path(path) as tmp:
        skops.io.dump(estimator, tmp)
        stable_skops(tmp)


def load_estimator(path: str | Path) -> Any:
    """Read an estimator written by ``save_estimator``; refuse a file with other types in it."""
    import skops.io

    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: fitted model not found; run its classical stage first")
    try:
        types = skops.io.get_untrusted_types(file=path)
    except Exception as error:  # skops raises zipfile, JSON and its own errors alike
        raise PipelineError(f"{path}: not a saved estimator: {error}") from error
    foreign = [name for name in types if not name.startswith(TRUSTED_PREFIXES)]
    if foreign:
        raise PipelineError(
            f"{path}: holds types that are not scikit-learn's or this package's: {foreign}"
        )
    return skops.io.load(path, trusted=types)
