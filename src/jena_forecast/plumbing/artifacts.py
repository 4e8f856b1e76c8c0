"""Read and write the arrays that stages pass to each other, safely (never unpickling data files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jena_forecast.plumbing.atomic import atomic_path
from jena_forecast.plumbing.errors import PipelineError


def save_array(path: str | Path, array: np.ndarray) -> None:
    """Save one array as ``.npy`` atomically."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)


def load_array(path: str | Path) -> np.ndarray:
    """Load one ``.npy`` array without allowing pickled objects."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError as error:
        raise PipelineError(
            f"{path}: file not found; run the stage that writes it first"
        ) from error
    except ValueError as error:
        raise PipelineError(f"{path}: not a plain numeric array: {error}") from error


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Save named arrays as one uncompressed ``.npz`` atomically."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)


def load_arrays(path: str | Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Load the named arrays of an ``.npz`` without allowing pickled objects."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in names if name not in archive.files]
            if missing:
                raise PipelineError(
                    f"{path}: missing arrays {missing}; rerun the stage that writes it"
                )
            return {name: archive[name] for name in names}
    except FileNotFoundError as error:
        raise PipelineError(
            f"{path}: file not found; run the stage that writes it first"
        ) from error
