"""A station export made ready for a trained model: parsed and repaired like the pipeline's record,
cut to the columns the model was trained on, given the same engineered columns, and scaled with the
training slice's statistics (never the export's own)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.data.features import FeaturesConfig, add_features
from jena_forecast.data.parse import ParseConfig, QualityReport, parse_csv
from jena_forecast.plumbing.errors import PipelineError


@dataclass(frozen=True)
class StationRecord:
    """An export on the 10-minute grid: timestamps, the normalized array (rows, scaler columns; NaN
    where a gap was too long to fill), the columns of the file that were not used, its report."""

    source: str
    timestamps: pd.DatetimeIndex
    data: np.ndarray
    ignored_columns: tuple[str, ...]
    report: QualityReport

    @property
    def valid_rows(self) -> np.ndarray:
        """True for each row with every value present."""
        return np.asarray(~np.isnan(self.data).any(axis=1))


def select_columns(table: pd.DataFrame, columns: list[str], source: str) -> pd.DataFrame:
    """The trained-on ``columns`` of ``table`` in training order; refuse a file that lacks any."""
    present = {str(column) for column in table.columns}
    missing = [column for column in columns if column not in present]
    if missing:
        raise PipelineError(
            f"{source}: lacks the column(s) the model was trained on: "
            f"{', '.join(repr(name) for name in missing)}. "
            f"The file has: {', '.join(repr(str(name)) for name in table.columns)}"
        )
    return table[columns]


def scale_columns(table: pd.DataFrame, scaler_record: dict[str, Any], source: str) -> np.ndarray:
    """``table`` normalized with the training statistics of ``scaler_record``, float32."""
    stats = scaler_record["columns"]
    if [str(column) for column in table.columns] != list(stats):
        raise PipelineError(
            f"{source}: its columns after the feature settings are "
            f"{[str(column) for column in table.columns]}, the scaler's are {list(stats)}"
        )
    values = table.to_numpy(dtype=np.float64)
    mean = np.array([stats[name]["mean"] for name in stats], dtype=np.float64)
    scale = np.array([stats[name]["scale"] for name in stats], dtype=np.float64)
    return ((values - mean) / scale).astype(np.float32)


@contextmanager
def utf8_export(path: Path) -> Iterator[Path]:
    """``path`` itself when its header is UTF-8; else a UTF-8 copy of it read as Latin-1 (Windows
    exports of the station's data write ``m²`` and ``µ`` that way), removed afterwards."""
    raw = path.read_bytes()
    header = raw.split(b"\n", 1)[0]
    try:
        header.decode("utf-8")
    except UnicodeDecodeError:
        with tempfile.TemporaryDirectory(prefix="export-") as scratch:
            copy = Path(scratch) / path.name
            copy.write_bytes(raw.decode("latin-1").encode("utf-8"))
            yield copy
        return
    yield path


def read_export(
    path: Path,
    parse: ParseConfig,
    features: FeaturesConfig,
    target_column: str,
    raw_columns: list[str],
    scaler_record: dict[str, Any],
) -> StationRecord:
    """Parse the export at ``path`` as the pipeline parses its record (UTF-8, or Latin-1 where its
    header is not UTF-8), keep ``raw_columns`` (the parsed columns the model saw), add the
    engineered columns and scale with ``scaler_record``."""
    source = str(path)
    if not path.is_file():
        raise PipelineError(f"{source}: file not found")
    with utf8_export(path) as readable:
        try:
            table, report = parse_csv(readable, parse, target_column, progress=False)
        except PipelineError as error:
            raise PipelineError(str(error).replace(str(readable), source)) from error
    used = select_columns(table, raw_columns, source)
    engineered = add_features(used, features, target_column, source)
    data = scale_columns(engineered, scaler_record, source)
    ignored = tuple(str(column) for column in table.columns if str(column) not in raw_columns)
    return StationRecord(source, pd.DatetimeIndex(table.index), data, ignored, report)
