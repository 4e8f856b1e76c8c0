"""Supervised windows as index arrays over the normalized array, and a vectorized batch assembler.

A window is named by its *anchor*: the row of its last input ("now"). It covers the
``lookback_rows`` rows ending at the anchor; its inputs are every ``step_rows``-th of them, ending at
the anchor (``lookback_rows // step_rows`` timesteps, the ``sampling_rate`` of
``keras.utils.timeseries_dataset_from_array``), and its target is the target column at row
``anchor + delay_rows``. The naive forecast of a window is the target column at its anchor: the
temperature 24 hours from now equals the temperature now.

A window belongs to a split only when every row from the first of its ``lookback_rows`` to its target
lies inside that split, and is kept only when none of those rows has a missing value, so no window
crosses a split boundary or a long gap in the record. Anchors do not depend on ``step_rows``, so models
sampling their inputs at different rates are scored on exactly the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import Field, PositiveInt

from jena_forecast.data.normalize import SPLIT_NAMES, column_stats
from jena_forecast.plumbing.artifacts import load_array, load_arrays
from jena_forecast.plumbing.atomic import read_json
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen


class WindowsConfig(Frozen):
    """Supervised windows: inputs every ``step_rows`` over ``lookback_rows``, target ``delay_rows`` ahead."""

    lookback_rows: PositiveInt
    step_rows: PositiveInt
    delay_rows: PositiveInt
    target_column: str = Field(min_length=1)

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """The look back is whole steps; the target is a measurement, not the timestamp column
        (where ``parse`` is read too)."""
        windows, parse = values.get("windows"), values.get("parse")
        if windows is None:
            return
        if windows.lookback_rows % windows.step_rows:
            problems.append(
                "windows.lookback_rows must be a multiple of windows.step_rows. "
                f"Received: windows.lookback_rows={windows.lookback_rows}, "
                f"windows.step_rows={windows.step_rows}"
            )
        if parse is not None and windows.target_column == parse.timestamp_column:
            problems.append(
                "windows.target_column must be a measurement column, not parse.timestamp_column. "
                f"Received: windows.target_column={windows.target_column!r}"
            )


@dataclass(frozen=True)
class WindowSpec:
    """Window geometry in rows, and which column is the target."""

    lookback_rows: int
    step_rows: int
    delay_rows: int
    target_index: int

    @classmethod
    def from_config(cls, config: WindowsConfig, target_index: int) -> WindowSpec:
        return cls(config.lookback_rows, config.step_rows, config.delay_rows, target_index)

    @property
    def timesteps(self) -> int:
        return self.lookback_rows // self.step_rows

    @property
    def input_offsets(self) -> np.ndarray:
        """Row offsets of the inputs relative to the anchor, oldest first, ending at 0."""
        return np.arange(-(self.lookback_rows - self.step_rows), 1, self.step_rows, dtype=np.int64)

    @property
    def span_rows(self) -> int:
        """Rows from the first row a window covers to its target, both included."""
        return self.lookback_rows + self.delay_rows

    def for_model(self, lookback_rows: int | None, step_rows: int | None) -> WindowSpec:
        """The same windows (anchors and targets) as a model sees them: every ``step_rows`` rows
        over its most recent ``lookback_rows``; ``None`` keeps these windows' own."""
        return WindowSpec(
            lookback_rows or self.lookback_rows,
            step_rows or self.step_rows,
            self.delay_rows,
            self.target_index,
        )


def window_anchors(valid_rows: np.ndarray, start: int, end: int, spec: WindowSpec) -> np.ndarray:
    """Anchors of every window lying wholly in rows [start, end) and touching no invalid row.

    A window covers every row from its first input to its target, the rows between the anchor and
    the target included: a sequence model's targets (``seq2seq``) are read from them, and every
    model is scored on the same windows.
    """
    first = start + spec.lookback_rows - 1
    last = end - 1 - spec.delay_rows
    if last < first:
        return np.empty(0, dtype=np.int64)
    anchors = np.arange(first, last + 1, dtype=np.int64)
    invalid_before = np.concatenate([[0], np.cumsum(~valid_rows, dtype=np.int64)])
    span_start = anchors - (spec.lookback_rows - 1)
    span_end = anchors + spec.delay_rows + 1
    return anchors[invalid_before[span_end] - invalid_before[span_start] == 0]


def split_anchors(
    valid_rows: np.ndarray, bounds: dict[str, tuple[int, int]], spec: WindowSpec
) -> dict[str, np.ndarray]:
    """Anchors per split; a split too short for one window, or without any valid one, is an error."""
    anchors = {}
    for name, (start, end) in bounds.items():
        if end - start < spec.span_rows:
            raise PipelineError(
                f"windows: a window spans {spec.span_rows} rows (windows.lookback_rows="
                f"{spec.lookback_rows} + windows.delay_rows={spec.delay_rows}), "
                f"more than the {end - start} rows "
                f"of the {name} split; shorten the windows or move the split boundaries"
            )
        anchors[name] = window_anchors(valid_rows, start, end, spec)
        if anchors[name].size == 0:
            raise PipelineError(
                f"windows: the {name} split [{start}, {end}) has no window without missing values; "
                "its gaps are longer than parse.max_fill_rows allows to fill"
            )
    return anchors


def assemble_inputs(data: np.ndarray, anchors: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """Inputs of the windows at ``anchors``: shape (windows, timesteps, features), one gather."""
    return data[anchors[:, None] + spec.input_offsets[None, :]]


def assemble_targets(data: np.ndarray, anchors: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """Targets of the windows at ``anchors``: shape (windows, 1)."""
    return data[anchors + spec.delay_rows, spec.target_index][:, None]


def horizon_offsets(spec: WindowSpec, horizons: int) -> np.ndarray:
    """Row offsets of ``horizons`` evenly spaced forecast points ending at ``delay_rows``."""
    if spec.delay_rows % horizons:
        raise ValueError(f"delay_rows={spec.delay_rows} is not a multiple of horizons={horizons}")
    return np.arange(1, horizons + 1, dtype=np.int64) * (spec.delay_rows // horizons)


def assemble_sequence_targets(
    data: np.ndarray, anchors: np.ndarray, spec: WindowSpec, horizons: int
) -> np.ndarray:
    """Sequence-to-sequence targets: after every input timestep, the next ``horizons`` points.

    Shape (windows, timesteps, horizons). The last timestep's row holds the forecast path from "now"
    to ``delay_rows`` ahead; every row lies between the window's first row and its target, so no
    target leaves the split.
    """
    rows = anchors[:, None, None] + spec.input_offsets[None, :, None]
    return data[rows + horizon_offsets(spec, horizons)[None, None, :], spec.target_index]


def naive_forecast(data: np.ndarray, anchors: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """The naive forecast of each window, the target column at its anchor: shape (windows, 1)."""
    return data[anchors, spec.target_index][:, None]


def phase_rows(values: np.ndarray, step: int) -> list[np.ndarray]:
    """The rows of each phase ``p < step`` (rows ``p, p + step, ...``), each copied contiguous."""
    return [np.ascontiguousarray(values[phase::step]) for phase in range(step)]


def consecutive_windows(rows: np.ndarray, length: int) -> np.ndarray:
    """Read-only view ``view[i] = rows[i : i + length]``, shape ``(windows, length, *rows.shape[1:])``.

    Each window of a contiguous array is one contiguous block. Too few rows give no window.
    """
    if len(rows) < length:
        return np.empty((0, length, *rows.shape[1:]), dtype=rows.dtype)
    return np.moveaxis(sliding_window_view(rows, length, axis=0), -1, 1)


def gather_by_phase(
    views: list[np.ndarray], first_rows: np.ndarray, step: int, shape: tuple[int, ...]
) -> np.ndarray:
    """``views[row % step][row // step]`` for each of ``first_rows``, one block copy per phase."""
    phases, starts = first_rows % step, first_rows // step
    gathered = np.empty((len(first_rows), *shape), dtype=views[0].dtype)
    for phase in np.unique(phases):
        chosen = phases == phase
        gathered[chosen] = views[phase][starts[chosen]]
    return gathered


class InputGather:
    """The inputs of windows by anchor, equal to ``assemble_inputs``, in a few block copies.

    A window's inputs are ``timesteps`` consecutive rows of one phase (row number modulo
    ``step_rows``; ``phase_rows``, ``consecutive_windows``), so a
    batch costs at most ``step_rows`` block copies instead of one small copy per input row. Memory:
    one copy of ``data``, whatever the number of windows.
    """

    def __init__(self, data: np.ndarray, spec: WindowSpec) -> None:
        self.step, self.first_offset = spec.step_rows, int(spec.input_offsets[0])
        self.shape = (spec.timesteps, data.shape[1])
        self.views = [
            consecutive_windows(rows, spec.timesteps) for rows in phase_rows(data, spec.step_rows)
        ]

    def __call__(self, anchors: np.ndarray) -> np.ndarray:
        """Inputs of the windows at ``anchors``: shape (windows, timesteps, features)."""
        return gather_by_phase(self.views, anchors + self.first_offset, self.step, self.shape)


class TargetGather:
    """Point targets by anchor, equal to ``assemble_targets``: shape (windows, 1)."""

    def __init__(self, data: np.ndarray, spec: WindowSpec) -> None:
        self.values, self.delay = data[:, spec.target_index], spec.delay_rows

    def __call__(self, anchors: np.ndarray) -> np.ndarray:
        return self.values[anchors + self.delay][:, None]


class PathTargetGather:
    """The next ``horizons`` points up to ``delay_rows`` ahead of each anchor: (windows, horizons),
    the last column the 24 h target (a point model's auxiliary horizons)."""

    def __init__(self, data: np.ndarray, spec: WindowSpec, horizons: int) -> None:
        self.values = data[:, spec.target_index]
        self.offsets = horizon_offsets(spec, horizons)

    def __call__(self, anchors: np.ndarray) -> np.ndarray:
        return self.values[anchors[:, None] + self.offsets[None, :]]


class SequenceTargetGather:
    """Sequence targets by anchor, equal to ``assemble_sequence_targets``.

    When the horizons' spacing is a multiple of ``step_rows`` (24 hourly horizons at one input per
    hour), every target of a window lies in the phase of its inputs: the (timesteps, horizons) block
    is a strided view of that phase's target values, copied without an index per element.
    Otherwise each target is gathered by its row.
    """

    def __init__(self, data: np.ndarray, spec: WindowSpec, horizons: int) -> None:
        self.data, self.spec, self.horizons = data, spec, horizons
        spacing = int(horizon_offsets(spec, horizons)[0])
        self.phased = spacing % spec.step_rows == 0
        if self.phased:
            stride = spacing // spec.step_rows
            # ahead[i, h]: the target at phase row i + stride * (h + 1)
            self.views = [
                consecutive_windows(
                    consecutive_windows(rows, stride * horizons + 1)[:, stride::stride],
                    spec.timesteps,
                )
                for rows in phase_rows(data[:, spec.target_index], spec.step_rows)
            ]
            self.first_offset = int(spec.input_offsets[0])

    def __call__(self, anchors: np.ndarray) -> np.ndarray:
        if not self.phased:
            return assemble_sequence_targets(self.data, anchors, self.spec, self.horizons)
        shape = (self.spec.timesteps, self.horizons)
        return gather_by_phase(self.views, anchors + self.first_offset, self.spec.step_rows, shape)


def window_spec(windows: WindowsConfig, scaler_path: Path) -> tuple[WindowSpec, float]:
    """The window geometry from params and the target column's training scale (degC per unit)."""
    scaler_record = read_json(scaler_path)
    columns = list(scaler_record["columns"])
    _, scale = column_stats(scaler_record, windows.target_column, str(scaler_path))
    return WindowSpec.from_config(windows, columns.index(windows.target_column)), scale


def load_windows(array_path: Path, anchors_path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The normalized array and the anchors of each split."""
    return load_array(array_path), load_arrays(anchors_path, SPLIT_NAMES)
