"""Every model scored on another export of the station: out of time, with the training slice's
scaler, on every complete window of the file, next to naive on the same windows, with the same
intervals as the pipeline's own splits (``significance.split_uncertainty``)."""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import (
    Field,
    NonNegativeFloat,
    ValidationError,
    field_validator,
)

from jena_forecast.data.download import extract_member, sha256_of
from jena_forecast.data.parse import ParseConfig
from jena_forecast.data.windows import (
    WindowSpec,
    assemble_targets,
    naive_forecast,
    window_anchors,
)
from jena_forecast.evaluation.forecasts import data_fingerprint
from jena_forecast.evaluation.metrics import split_metrics
from jena_forecast.evaluation.scoring import ScoringConfig, bootstrap
from jena_forecast.evaluation.significance import split_uncertainty
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen, format_errors
from jena_forecast.serving.station import StationRecord

SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


EXPORT_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class BacktestExport(Frozen):
    """One more export of the station to score every model on: a file of this repository (a
    ``.csv``, or a ``.zip`` holding one), its sha256 when pinned, the ``parse`` params it needs
    that differ from the pipeline's (e.g. ``timestamp_format: auto``), and how far past the
    training slice's range its values may go (``serving.input_check``). ``name`` is its key under
    ``backtest.exports``."""

    name: str
    path: str
    sha256: str | None = None
    parse: dict[str, Any] = Field(default_factory=dict)
    # Inputs beyond the training slice's range by more than this many of the column's training
    # standard deviations (or outside physical limits) refuse the export, unless force_inputs.
    input_margin_std: NonNegativeFloat = 1.0
    force_inputs: bool = False

    @field_validator("name")
    @classmethod
    def _name_is_plain(cls, name: str) -> str:
        if not EXPORT_NAME_PATTERN.fullmatch(name):
            raise ValueError("must be letters, digits, '_' or '-' (it names the stage and files)")
        return name

    @field_validator("path")
    @classmethod
    def _path_is_local(cls, path: str) -> str:
        if "://" in path:
            raise ValueError(
                "must be a file of this repository; bring a URL in with "
                "'dvc import-url URL data/backtest/NAME.csv' and name that path"
            )
        if not path.endswith((".csv", ".zip")):
            raise ValueError("must name a .csv file or a .zip holding one")
        return path

    @field_validator("sha256")
    @classmethod
    def _sha256_is_hex(cls, value: str | None) -> str | None:
        if value is not None and not SHA256_PATTERN.fullmatch(value.lower()):
            raise ValueError("must be 64 hexadecimal digits, or null")
        return None if value is None else value.lower()

    def parse_config(self, base: ParseConfig) -> ParseConfig:
        """The pipeline's ``parse`` params with this export's own on top."""
        return ParseConfig(**{**base.model_dump(), **self.parse})


class BacktestConfig(Frozen):
    """Other exports of the station that every model is scored on, by name (``backtest@<name>``
    stages)."""

    exports: dict[str, BacktestExport]

    @field_validator("exports", mode="before")
    @classmethod
    def _named_by_key(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            return {
                key: {**entry, "name": key} if isinstance(entry, dict) else entry
                for key, entry in value.items()
            }
        return value

    def export(self, name: str) -> BacktestExport:
        """The export named ``name``, or a PipelineError listing the known names."""
        if name in self.exports:
            return self.exports[name]
        known = ", ".join(self.exports) or "(none)"
        raise PipelineError(f"backtest export {name!r} is not in params. Known exports: {known}")

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """Each export's ``parse`` overrides must make valid ``parse`` params."""
        backtest, parse = values.get("backtest"), values.get("parse")
        if backtest is None or parse is None:
            return
        for name, export in backtest.exports.items():
            try:
                export.parse_config(parse)
            except ValidationError as error:
                problems.extend(format_errors(f"backtest.exports.{name}.parse", error))
            except TypeError as error:
                problems.append(f"backtest.exports.{name}.parse: {error}")


def check_sha256(path: Path, export: BacktestExport) -> str:
    """The sha256 of the export's file; a PipelineError when it differs from the pinned one."""
    observed = sha256_of(path)
    if export.sha256 is not None and observed != export.sha256:
        raise PipelineError(
            f"{path}: sha256 {observed} differs from backtest export {export.name!r}'s pinned "
            f"{export.sha256}; the file changed: pin the new checksum if the change is intended"
        )
    return observed


@contextmanager
def export_csv(path: Path) -> Iterator[Path]:
    """The export's CSV: the file itself, or the one CSV inside a ``.zip`` (extracted to a
    temporary file, removed afterwards)."""
    if path.suffix != ".zip":
        yield path
        return
    if not path.is_file():
        raise PipelineError(f"{path}: file not found")
    try:
        with zipfile.ZipFile(path) as archive:
            members = [name for name in archive.namelist() if name.endswith(".csv")]
    except zipfile.BadZipFile as error:
        raise PipelineError(f"{path}: not a zip archive: {error}") from error
    if len(members) != 1:
        raise PipelineError(f"{path}: expected one .csv member in the zip, found {members}")
    with tempfile.TemporaryDirectory() as directory:
        csv_path = Path(directory) / Path(members[0]).name
        extract_member(path, members[0], csv_path, str(path))
        yield csv_path


def export_anchors(record: StationRecord, spec: WindowSpec) -> np.ndarray:
    """Every complete window of the export (no missing value from lookback to target)."""
    anchors = window_anchors(record.valid_rows, 0, len(record.timestamps), spec)
    if not len(anchors):
        raise PipelineError(
            f"{record.source}: no complete window: a window spans {spec.span_rows} rows without a "
            f"gap, the file has {len(record.timestamps)} rows "
            f"({record.timestamps[0]} to {record.timestamps[-1]})"
        )
    return anchors


def score_models(
    config: ScoringConfig,
    forecasts_norm: dict[str, np.ndarray],
    data: np.ndarray,
    anchors: np.ndarray,
    spec: WindowSpec,
    target_scale: float,
) -> dict[str, dict[str, Any]]:
    """Each model's MAE, naive's, skill and their uncertainty on the export's windows, and naive's
    own row (skill 0)."""
    actual = assemble_targets(data, anchors, spec)[:, 0].astype(np.float64)
    naive = naive_forecast(data, anchors, spec)[:, 0].astype(np.float64)
    resampling = bootstrap(config, len(anchors))
    rows: dict[str, dict[str, Any]] = {}
    for name, predicted in {"naive": naive, **forecasts_norm}.items():
        predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
        rows[name] = split_metrics(
            predicted[:, None], data, anchors, spec, target_scale
        ) | split_uncertainty(
            np.abs(predicted - actual), np.abs(naive - actual), resampling, target_scale
        )
    return rows


def check_inputs(
    export: BacktestExport, record: StationRecord, scaler: dict[str, Any], normalized: Path
) -> list[str]:
    """The export's rows beyond the training slice's range (``export.input_margin_std``) or
    physical limits: a PipelineError naming them, or with ``force_inputs`` their descriptions for
    the record."""
    from jena_forecast.plumbing.artifacts import load_array
    from jena_forecast.serving.input_check import record_out_of_range, training_ranges

    start, end = scaler["fitted_rows"]
    ranges = training_ranges(load_array(normalized), scaler, (int(start), int(end)))
    found = record_out_of_range(
        record.data, record.timestamps, scaler, ranges, export.input_margin_std
    )
    described = [item.describe(record.source, "the export") for item in found]
    if described and not export.force_inputs:
        raise PipelineError(
            "; ".join(described) + f". Check the export's units and columns, or set "
            f"backtest.exports.{export.name}.force_inputs: true (or a larger input_margin_std)"
        )
    return described


def export_record(
    export: BacktestExport, record: StationRecord, anchors: np.ndarray, sha256: str
) -> dict[str, Any]:
    """What the scores belong to: the file, its checksum, its span and its windows."""
    return {
        "name": export.name,
        "path": export.path,
        "sha256": sha256,
        "first_timestamp": str(record.timestamps[0]),
        "last_timestamp": str(record.timestamps[-1]),
        "rows": len(record.timestamps),
        "windows": int(len(anchors)),
        "rows_still_missing": record.report.rows_still_missing,
        "ignored_columns": list(record.ignored_columns),
        "data": data_fingerprint(record.data),
    }
