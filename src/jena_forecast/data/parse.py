"""Parse the raw CSV into a regular, typed table and report every repair made to it.

The rules, applied in this order:

* The header names the columns; the timestamp column (``parse.timestamp_column``) is required and
  every other column must be numeric. A cell that is not a number is refused with its file and line.
* Timestamps are parsed with ``parse.timestamp_format``; one that does not parse, or that does not
  fall on the ``parse.interval_minutes`` grid, is refused with its line.
* Sentinel values (``parse.sentinel_values``, -9999 in the official file) and empty cells become
  missing values, in every column.
* Rows repeating an earlier timestamp with identical values are dropped (the official file repeats
  a whole day); repeats with different values are refused, since neither can be trusted.
* Rows are sorted by time, then put on a regular grid: each missing timestamp becomes a row of
  missing values.
* In each column, a run of at most ``parse.max_fill_rows`` missing values between two observed
  ones is filled by linear interpolation; longer runs stay missing, and no window ever uses them.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from jena_forecast.config import ParseConfig
from jena_forecast.errors import PipelineError

TIMESTAMP_INDEX_NAME = "timestamp"


@dataclass(frozen=True)
class QualityReport:
    """What the parser found and repaired; written to ``metrics/`` as the data-quality report."""

    rows_read: int
    rows_kept: int
    duplicate_rows_dropped: int
    time_steps_back: int
    sentinel_cells_replaced: int
    empty_cells_read: int
    gaps: int
    missing_rows: int
    largest_gap_minutes: int
    largest_gap_start: str | None
    cells_interpolated: int
    rows_still_missing: int
    first_timestamp: str
    last_timestamp: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _first_bad_field_count(path: Path, expected: int) -> tuple[int, int] | None:
    """1-based line and field count of the first row whose field count differs from the header's."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        for line_number, row in enumerate(csv.reader(handle), start=1):
            if row and len(row) != expected:
                return line_number, len(row)
    return None


def read_raw_csv(path: Path) -> pd.DataFrame:
    """Read the CSV with the pyarrow engine; refuse empty, header-only and ragged files."""
    if not path.is_file():
        raise PipelineError(f"{path}: file not found; run the download stage first")
    if path.stat().st_size == 0:
        raise PipelineError(f"{path}: the file is empty; expected a header line and data rows")
    try:
        frame = pd.read_csv(path, engine="pyarrow", encoding="utf-8")
    except Exception as error:  # pyarrow raises its own types; name the line when we can
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            header_fields = len(next(csv.reader(handle), []))
        bad = _first_bad_field_count(path, header_fields)
        if bad is not None:
            line, fields = bad
            raise PipelineError(
                f"{path}:{line}: expected {header_fields} fields like the header, found {fields} "
                "(a decimal comma or a stray separator?)"
            ) from error
        raise PipelineError(f"{path}: cannot be read as CSV: {error}") from error
    if frame.empty:
        raise PipelineError(f"{path}: the file has a header but no data rows")
    frame.columns = [str(column).lstrip("\ufeff") for column in frame.columns]
    return frame


def _numeric_columns(frame: pd.DataFrame, path: Path, timestamp_column: str) -> pd.DataFrame:
    values = {}
    for column in frame.columns:
        if column == timestamp_column:
            continue
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = coerced.isna() & series.notna() & (series.astype(str).str.strip() != "")
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise PipelineError(
                    f"{path}:{row + 2}: column {column!r}: {series.iloc[row]!r} is not a number"
                )
            series = coerced
        values[column] = series.astype("float64")
    if not values:
        raise PipelineError(f"{path}: no measurement columns besides {timestamp_column!r}")
    return pd.DataFrame(values)


def _timestamps(frame: pd.DataFrame, path: Path, config: ParseConfig) -> pd.DatetimeIndex:
    if config.timestamp_column not in frame.columns:
        raise PipelineError(
            f"{path}:1: no timestamp column {config.timestamp_column!r} (parse.timestamp_column); "
            f"header columns: {', '.join(repr(c) for c in frame.columns)}"
        )
    raw = frame[config.timestamp_column].astype("string")
    parsed = pd.to_datetime(raw, format=config.timestamp_format, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise PipelineError(
            f"{path}:{row + 2}: timestamp {raw.iloc[row]!r} does not match "
            f"parse.timestamp_format={config.timestamp_format!r}"
        )
    index = pd.DatetimeIndex(parsed)
    interval = pd.Timedelta(minutes=config.interval_minutes)
    off_grid = (index - index.normalize()) % interval != pd.Timedelta(0)
    if off_grid.any():
        row = int(np.flatnonzero(off_grid)[0])
        raise PipelineError(
            f"{path}:{row + 2}: timestamp {raw.iloc[row]!r} is not on the "
            f"{config.interval_minutes}-minute grid (parse.interval_minutes)"
        )
    return index


def _drop_duplicates(values: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, int]:
    repeated = values.index.duplicated(keep="first")
    if not repeated.any():
        return values, 0
    first_rows = values[~repeated]
    repeats = values[repeated].to_numpy()
    originals = first_rows.reindex(values.index[repeated]).to_numpy()
    same = (repeats == originals) | (np.isnan(repeats) & np.isnan(originals))
    conflicting = ~same.all(axis=1)
    if conflicting.any():
        position = int(np.flatnonzero(repeated)[np.flatnonzero(conflicting)[0]])
        timestamp = values.index[position]
        first_line = int(np.flatnonzero(values.index == timestamp)[0]) + 2
        raise PipelineError(
            f"{path}:{position + 2}: timestamp {timestamp} repeats line {first_line} "
            "with different values; refusing to guess which one is right"
        )
    return first_rows, int(repeated.sum())


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and lengths of the runs of True in a 1-D boolean mask."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[::2], edges[1::2] - edges[::2]


def run_lengths(missing: np.ndarray) -> np.ndarray:
    """For a 1-D boolean mask, the length of the run of True each element belongs to (0 if False)."""
    lengths = np.zeros(missing.shape[0], dtype=np.int64)
    _, runs = _runs(missing)
    lengths[missing] = np.repeat(runs, runs)
    return lengths


def _fill_short_runs(grid: pd.DataFrame, max_fill_rows: int) -> tuple[pd.DataFrame, int]:
    if max_fill_rows == 0 or not grid.isna().any().any():
        return grid, 0
    interpolated = grid.interpolate(method="linear", limit_area="inside")
    filled = grid.copy()
    cells = 0
    for column in grid.columns:
        missing = grid[column].isna().to_numpy()
        short = (
            (run_lengths(missing) <= max_fill_rows)
            & missing
            & interpolated[column].notna().to_numpy()
        )
        filled.loc[short, column] = interpolated.loc[short, column]
        cells += int(short.sum())
    return filled, cells


@dataclass(frozen=True)
class _Gaps:
    count: int
    missing_rows: int
    largest_rows: int
    largest_start: str | None


def _gaps(observed: pd.DatetimeIndex, grid: pd.DatetimeIndex) -> _Gaps:
    """The runs of grid timestamps that no row of the file holds."""
    starts, lengths = _runs(~grid.isin(observed))
    if not len(lengths):
        return _Gaps(0, 0, 0, None)
    largest = int(np.argmax(lengths))
    return _Gaps(
        len(lengths), int(lengths.sum()), int(lengths[largest]), str(grid[starts[largest]])
    )


def parse_csv(path: Path, config: ParseConfig) -> tuple[pd.DataFrame, QualityReport]:
    """Read, validate and repair the CSV at ``path``; return the regular float32 table and its report."""
    frame = read_raw_csv(path)
    index = _timestamps(frame, path, config)
    values = _numeric_columns(frame, path, config.timestamp_column)
    values.index = index
    empty_cells = int(values.isna().to_numpy().sum())
    sentinels = values.isin(list(config.sentinel_values)).to_numpy()
    values = values.mask(sentinels)
    steps_back = int((np.diff(index.asi8) < 0).sum())
    values, duplicates = _drop_duplicates(values, path)
    values = values.sort_index(kind="stable")
    grid_index = pd.date_range(
        values.index[0], values.index[-1], freq=pd.Timedelta(minutes=config.interval_minutes)
    )
    gaps = _gaps(values.index, grid_index)
    grid = values.reindex(grid_index)
    grid, cells_interpolated = _fill_short_runs(grid, config.max_fill_rows)
    grid = grid.astype("float32")
    grid.index.name = TIMESTAMP_INDEX_NAME
    report = QualityReport(
        rows_read=len(frame),
        rows_kept=len(grid),
        duplicate_rows_dropped=duplicates,
        time_steps_back=steps_back,
        sentinel_cells_replaced=int(sentinels.sum()),
        empty_cells_read=empty_cells,
        gaps=gaps.count,
        missing_rows=gaps.missing_rows,
        largest_gap_minutes=gaps.largest_rows * config.interval_minutes,
        largest_gap_start=gaps.largest_start,
        cells_interpolated=cells_interpolated,
        rows_still_missing=int(grid.isna().any(axis=1).sum()),
        first_timestamp=str(grid.index[0]),
        last_timestamp=str(grid.index[-1]),
    )
    return grid, report
