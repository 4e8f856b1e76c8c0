"""Parse the raw CSV into a regular, typed table and report every repair made to it.

The rules, applied in this order. Repaired (and counted in the data-quality report):

* Encoding: the file is read as UTF-8 (a byte-order mark is skipped, CRLF or LF line endings).
  Bytes that are not valid UTF-8, as in exports whose unit symbols (``µ``, ``²``) were written in
  Latin-1, are decoded with ``errors="replace"`` to U+FFFD and counted, never guessed: a Latin-1
  fallback would turn the valid UTF-8 of the rest of the header into mojibake.
* Sentinel values (``parse.sentinel_values``, -9999 in the official file) and empty or ``NaN``
  cells become missing values, in every column.
* Rows repeating an earlier timestamp with identical values are dropped (the official file repeats
  a whole day).
* Rows are sorted by time, then put on a regular grid: each missing timestamp becomes a row of
  missing values.
* In each column, a run of at most ``parse.max_fill_rows`` missing values between two observed
  ones is filled by linear interpolation; longer runs stay missing, and no window ever uses them.

Refused, with the file and 1-based line:

* An empty file, a header without data rows, a row with more or fewer fields than the header.
* A header without the timestamp column (``parse.timestamp_column``) or without the target column
  (``windows.target_column``); every other column of the header is kept as a measurement.
* A semicolon-separated file, or a decimal comma (``-8,02``): the station's exports use ``,``
  between fields and ``.`` as decimal point, and a number is never guessed from a comma.
* A cell that is not a finite number.
* A timestamp that does not parse with ``parse.timestamp_format``, or that is off the
  ``parse.interval_minutes`` grid. ``parse.timestamp_format: auto`` detects one of the station's two
  formats from the first row (``31.12.2009 23:50:00`` or ``2009-12-31 23:50:00``; their shapes
  cannot be confused) and then requires it of every row.
* Rows repeating an earlier timestamp with different values, since neither can be trusted.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import (
    NonNegativeInt,
    PositiveInt,
    field_validator,
)
from tqdm import tqdm

from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen


class ParseConfig(Frozen):
    """How the CSV is read and repaired."""

    timestamp_column: str
    timestamp_format: str
    interval_minutes: PositiveInt
    sentinel_values: tuple[float, ...]
    max_fill_rows: NonNegativeInt

    @field_validator("timestamp_format")
    @classmethod
    def _format_is_auto_or_strftime(cls, value: str) -> str:
        if value != "auto" and "%" not in value:
            raise ValueError(
                "must be 'auto' (detect '%d.%m.%Y %H:%M:%S' or '%Y-%m-%d %H:%M:%S') "
                "or a strftime format such as '%d.%m.%Y %H:%M:%S'"
            )
        return value


TIMESTAMP_INDEX_NAME = "timestamp"
AUTO_FORMAT = "auto"
KNOWN_TIMESTAMP_FORMATS = {
    "%d.%m.%Y %H:%M:%S": re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}"),
    "%Y-%m-%d %H:%M:%S": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
}
DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*")
REPLACEMENT_UTF8 = "\ufffd".encode()


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
    timestamp_format: str
    invalid_utf8_replaced: int
    columns: list[str]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _first_bad_field_count(text: str, expected: int) -> tuple[int, int] | None:
    """1-based line and field count of the first row whose field count differs from the header's."""
    for line_number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if row and len(row) != expected:
            return line_number, len(row)
    return None


def _decode(raw: bytes) -> tuple[str, int]:
    """The file's text, and how many invalid UTF-8 sequences became U+FFFD."""
    try:
        return raw.decode("utf-8-sig"), 0
    except UnicodeDecodeError:
        text = raw.decode("utf-8-sig", errors="replace")
        return text, text.count("\ufffd") - raw.count(REPLACEMENT_UTF8)


def _check_separator(header: list[str], path: Path) -> None:
    if len(header) == 1 and ";" in header[0]:
        raise PipelineError(
            f"{path}:1: the header is separated by ';' (an export with decimal commas?); "
            "expected ',' between fields and '.' as decimal point, like the station's own files"
        )


class _RowCountingBytes(io.BytesIO):
    """The CSV's bytes, advancing ``bar`` by the data rows the reader has taken so far.

    pyarrow's reader pulls the file in blocks (1 MiB) as it parses, so counting the line ends of
    each block costs one ``bytes.count`` per block and leaves the parse itself untouched.
    """

    def __init__(self, data: bytes, bar: tqdm) -> None:
        super().__init__(data)
        self._bar = bar
        self._lines = 0

    def read(self, size: int | None = -1, /) -> bytes:
        block = super().read(size)
        self._lines += block.count(b"\n")
        self._bar.update(max(self._lines - 1, 0) - self._bar.n)  # the first line is the header
        return block


def _rows_bar(data: bytes, progress: bool | None) -> tqdm:
    """A bar of data rows on stderr: always (True), never (False) or when stderr is a TTY (None)."""
    if progress is None:
        progress = sys.stderr is not None and sys.stderr.isatty()
    total = data.count(b"\n") - 1 + (not data.endswith(b"\n")) if progress else None
    return tqdm(total=total, desc="parse", unit=" rows", unit_scale=True, disable=not progress)


def read_raw_csv(path: Path, progress: bool | None = None) -> tuple[pd.DataFrame, int]:
    """Read the CSV with the pyarrow engine; refuse empty, header-only, ragged and ';' files.

    Returns the frame and the number of invalid UTF-8 sequences replaced by U+FFFD. ``progress``
    shows the rows read on stderr: always (True), never (False), or when stderr is a TTY (None).
    """
    if not path.is_file():
        raise PipelineError(f"{path}: file not found; run the download stage first")
    raw = path.read_bytes()
    if not raw.strip():
        raise PipelineError(f"{path}: the file is empty; expected a header line and data rows")
    text, replaced = _decode(raw)
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    _check_separator(header, path)
    data = text.encode("utf-8") if replaced else raw
    with _rows_bar(data, progress) as bar:
        source = io.BytesIO(data) if bar.disable else _RowCountingBytes(data, bar)
        try:
            frame = pd.read_csv(source, engine="pyarrow", encoding="utf-8")
        except Exception as error:  # pyarrow raises its own types; name the line when we can
            bad = _first_bad_field_count(text, len(header))
            if bad is not None:
                line, fields = bad
                raise PipelineError(
                    f"{path}:{line}: expected {len(header)} fields like the header, found "
                    f"{fields} (a decimal comma or a stray separator?)"
                ) from error
            raise PipelineError(f"{path}: cannot be read as CSV: {error}") from error
        bar.total = len(frame)
        bar.update(len(frame) - bar.n)
    if frame.empty:
        raise PipelineError(f"{path}: the file has a header but no data rows")
    frame.columns = [str(column).lstrip("\ufeff") for column in frame.columns]
    return frame, replaced


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
                cell = str(series.iloc[row])
                expected = (
                    "a decimal comma; expected '.' as decimal point"
                    if DECIMAL_COMMA.fullmatch(cell)
                    else "not a number"
                )
                raise PipelineError(f"{path}:{row + 2}: column {column!r}: {cell!r} is {expected}")
            series = coerced
        series = series.astype("float64")
        infinite = np.isinf(series.to_numpy())
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise PipelineError(
                f"{path}:{row + 2}: column {column!r}: '{series.iloc[row]}' is not a finite number"
            )
        values[column] = series
    if not values:
        raise PipelineError(f"{path}: no measurement columns besides {timestamp_column!r}")
    return pd.DataFrame(values)


def detect_timestamp_format(first: str, path: Path) -> str:
    """The known format whose shape ``first`` (the timestamp of line 2) has."""
    for candidate, shape in KNOWN_TIMESTAMP_FORMATS.items():
        if shape.fullmatch(first.strip()):
            return candidate
    known = " or ".join(repr(known) for known in KNOWN_TIMESTAMP_FORMATS)
    raise PipelineError(
        f"{path}:2: timestamp {first!r} has neither known format ({known}) that "
        "parse.timestamp_format=auto detects; set parse.timestamp_format to its strftime format"
    )


def _timestamps(
    frame: pd.DataFrame, path: Path, config: ParseConfig
) -> tuple[pd.DatetimeIndex, str]:
    if config.timestamp_column not in frame.columns:
        raise PipelineError(
            f"{path}:1: no timestamp column {config.timestamp_column!r} (parse.timestamp_column); "
            f"header columns: {', '.join(repr(c) for c in frame.columns)}"
        )
    raw = frame[config.timestamp_column].astype("string")
    timestamp_format = config.timestamp_format
    detected = ""
    if timestamp_format == AUTO_FORMAT:
        timestamp_format = detect_timestamp_format(str(raw.iloc[0]), path)
        detected = " (detected from line 2)"
    parsed = pd.to_datetime(raw, format=timestamp_format, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise PipelineError(
            f"{path}:{row + 2}: timestamp {raw.iloc[row]!r} does not match "
            f"parse.timestamp_format={timestamp_format!r}{detected}"
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
    return index, timestamp_format


def _check_target(frame: pd.DataFrame, path: Path, target_column: str | None) -> None:
    if target_column is not None and target_column not in frame.columns:
        raise PipelineError(
            f"{path}:1: no target column {target_column!r} (windows.target_column); "
            f"header columns: {', '.join(repr(c) for c in frame.columns)}"
        )


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


def parse_csv(
    path: Path,
    config: ParseConfig,
    target_column: str | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, QualityReport]:
    """Read, validate and repair the CSV at ``path``; return the regular float32 table and its report.

    ``target_column`` (``windows.target_column``), when given, must be a column of the header.
    ``progress``: a bar of the rows read on stderr (None: only when stderr is a TTY).
    """
    frame, replaced = read_raw_csv(path, progress)
    index, timestamp_format = _timestamps(frame, path, config)
    _check_target(frame, path, target_column)
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
        timestamp_format=timestamp_format,
        invalid_utf8_replaced=replaced,
        columns=[str(column) for column in grid.columns],
    )
    return grid, report
