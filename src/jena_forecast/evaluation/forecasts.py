"""Every model's 24 h forecasts of every val and test window, kept so that any comparison can be
recomputed later, on any revision (``python -m jena_forecast.compare``).

One ``.npz`` per model (``data/forecasts/<model>.npz``), normalized units, one value per window::

    val, test                    the model's forecasts        (windows,)
    val_actual, test_actual      what was observed            (windows,)
    val_naive, test_naive        the naive forecast           (windows,)
    val_anchors, test_anchors    each window's anchor row     (windows,)
    target_mean, target_scale    degC = value * target_scale + target_mean
    data, protocol               which data and windows (the metrics files' ``data`` and ``protocol``)

About 25,000 windows per split: 1.2 MB a model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from jena_forecast.data.windows import WindowSpec, assemble_targets, naive_forecast
from jena_forecast.plumbing.artifacts import save_arrays
from jena_forecast.plumbing.errors import PipelineError

SPLITS = ("val", "test")
SERIES = ("", "_actual", "_naive", "_anchors")
SCALARS = ("target_mean", "target_scale", "data", "protocol")


def seed_forecast_key(split: str, seed: int) -> str:
    """The name of one seed's forecasts of one split in a seed study's forecasts file
    (``data/seed_forecasts/<model>.npz``): ``test_seed_7``."""
    return f"{split}_seed_{seed}"


def data_fingerprint(data: np.ndarray) -> str:
    """Which data a score belongs to: the row count and a short sha256 of the normalized array.

    The array is what every window is cut from, so the fingerprint changes with the CSV and with
    every parse, features and normalize setting: ``rows=106585 sha256=3f2a9c1b0d4e``.
    """
    array = np.ascontiguousarray(data)
    digest = hashlib.sha256(array.tobytes()).hexdigest()[:12]
    return f"rows={array.shape[0]} sha256={digest}"


@dataclass(frozen=True)
class Forecasts:
    """One model's forecasts of the val and test windows, with what they are scored against."""

    predicted: dict[str, np.ndarray]
    actual: dict[str, np.ndarray]
    naive: dict[str, np.ndarray]
    anchors: dict[str, np.ndarray]
    target_mean: float
    target_scale: float
    data: str
    protocol: str

    def abs_errors(self, split: str) -> np.ndarray:
        """|forecast - actual| of every window of ``split``, in normalized units (float64)."""
        return np.abs(self.predicted[split] - self.actual[split])

    def naive_abs_errors(self, split: str) -> np.ndarray:
        """|naive - actual| of every window of ``split``, in normalized units (float64)."""
        return np.abs(self.naive[split] - self.actual[split])


def _flat(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def forecasts_of(
    predicted_norm: dict[str, np.ndarray],
    data: np.ndarray,
    anchors: dict[str, np.ndarray],
    spec: WindowSpec,
    target_mean: float,
    target_scale: float,
    protocol: str,
) -> Forecasts:
    """The ``Forecasts`` of normalized 24 h forecasts ``predicted_norm`` of the val and test windows."""
    return Forecasts(
        predicted={split: _flat(predicted_norm[split]) for split in SPLITS},
        actual={split: _flat(assemble_targets(data, anchors[split], spec)) for split in SPLITS},
        naive={split: _flat(naive_forecast(data, anchors[split], spec)) for split in SPLITS},
        anchors={split: np.asarray(anchors[split], dtype=np.int64) for split in SPLITS},
        target_mean=float(target_mean),
        target_scale=float(target_scale),
        data=data_fingerprint(data),
        protocol=protocol,
    )


def save_forecasts(path: str | Path, forecasts: Forecasts) -> None:
    """Write ``forecasts`` as one ``.npz`` (atomically; see the module docstring for its arrays)."""
    arrays: dict[str, np.ndarray] = {}
    for split in SPLITS:
        arrays[split] = forecasts.predicted[split]
        arrays[f"{split}_actual"] = forecasts.actual[split]
        arrays[f"{split}_naive"] = forecasts.naive[split]
        arrays[f"{split}_anchors"] = forecasts.anchors[split]
    arrays["target_mean"] = np.array(forecasts.target_mean, dtype=np.float64)
    arrays["target_scale"] = np.array(forecasts.target_scale, dtype=np.float64)
    arrays["data"] = np.array(forecasts.data)
    arrays["protocol"] = np.array(forecasts.protocol)
    save_arrays(path, arrays)


def read_forecasts(source: str | Path | BinaryIO, where: str) -> Forecasts:
    """Read the ``Forecasts`` of an open ``.npz`` file object or a path; ``where`` names it in errors."""
    names = [f"{split}{suffix}" for split in SPLITS for suffix in SERIES] + list(SCALARS)
    try:
        archive = np.load(source, allow_pickle=False)
    except FileNotFoundError as error:
        raise PipelineError(f"{where}: file not found; run the stage that writes it") from error
    except (OSError, ValueError) as error:
        raise PipelineError(f"{where}: not a forecasts file: {error}") from error
    with archive:
        missing = [name for name in names if name not in archive.files]
        if missing:
            raise PipelineError(
                f"{where}: missing arrays {missing}; it was written before every forecast was "
                "kept with its windows and data. Rerun its stage (dvc repro)"
            )
        values = {name: archive[name] for name in names}
    return Forecasts(
        predicted={split: _flat(values[split]) for split in SPLITS},
        actual={split: _flat(values[f"{split}_actual"]) for split in SPLITS},
        naive={split: _flat(values[f"{split}_naive"]) for split in SPLITS},
        anchors={split: values[f"{split}_anchors"].astype(np.int64) for split in SPLITS},
        target_mean=float(values["target_mean"]),
        target_scale=float(values["target_scale"]),
        data=str(values["data"]),
        protocol=str(values["protocol"]),
    )


def load_forecasts(path: str | Path) -> Forecasts:
    """Read the forecasts file at ``path``."""
    return read_forecasts(path, str(path))


def check_same_windows(first: Forecasts, second: Forecasts, names: tuple[str, str]) -> None:
    """Refuse to compare forecasts of different data, protocol or windows, saying which differs.

    ``names`` label the two in the message (e.g. ``("main:gru", "my-branch:gru")``).
    """
    problems = [
        f"{label}: {names[0]} has {a!r}, {names[1]} has {b!r}"
        for label, a, b in (
            ("data", first.data, second.data),
            ("protocol", first.protocol, second.protocol),
        )
        if a != b
    ]
    for split in SPLITS:
        ours, theirs = first.anchors[split], second.anchors[split]
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs):
            problems.append(
                f"{split} windows: {names[0]} has {ours.size}, {names[1]} has {theirs.size}"
                + (" with other anchors" if ours.shape == theirs.shape else "")
            )
        elif not np.array_equal(first.actual[split], second.actual[split]):
            problems.append(f"{split} targets differ between {names[0]} and {names[1]}")
    if first.target_scale != second.target_scale or first.target_mean != second.target_mean:
        problems.append(
            f"target scaling: {names[0]} has mean {first.target_mean} scale "
            f"{first.target_scale}, {names[1]} has mean {second.target_mean} scale "
            f"{second.target_scale}"
        )
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise PipelineError(
            f"cannot compare {names[0]} with {names[1]}: they were not scored on the same "
            f"windows of the same data\n{listing}"
        )
