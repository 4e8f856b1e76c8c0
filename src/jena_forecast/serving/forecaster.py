"""A trained model packed with everything a forecast needs, so that it travels alone.

A forecaster directory (the ``package`` stage writes ``data/forecaster/``, declared as a DVC
artifact) holds ``forecaster.json`` and one file per member (``.keras`` or ``.skops``)::

    model            the leaderboard name: a model, or ``ensemble`` (the mean of its members)
    members          [{name, kind, file, ...}]: a network, the input step it samples and its own
                     shorter lookback where it has one (an anchored network also its ``anchor``,
                     a classical member of its own), or a classical estimator with its
                     window-feature params
    windows          lookback_rows, step_rows, delay_rows, target_column
    raw_columns      the parsed columns the model was trained on, in order
    parse, features  the pipeline's params of those names, used to read a new export
    scaler           the training slice's mean and scale of every column
    intervals        per level: the half-width in degC, as calibrated at the end of the test split
    scores, protocol, data   the record the model was scored with

Nothing is read from ``params.yaml`` or the pipeline's data when a forecaster is loaded.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.data.features import FeaturesConfig
from jena_forecast.data.parse import ParseConfig
from jena_forecast.data.windows import InputGather, WindowSpec, naive_forecast
from jena_forecast.evaluation.ensemble import ENSEMBLE
from jena_forecast.evaluation.forecasts import Forecasts
from jena_forecast.evaluation.intervals import adaptive_calibration, half_widths, level_key
from jena_forecast.evaluation.metrics import delay_forecast, forecast_paths
from jena_forecast.evaluation.scoring import ScoringConfig
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.atomic import atomic_dir, read_json, write_json
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen

BEST = "best"


class ForecasterConfig(ModelsConfig, ClassicalConfig, ScoringConfig):
    """What packing a forecaster reads: the models, their windows, parse and feature settings,
    and the prediction intervals."""


class PackageConfig(Frozen):
    """Which model the ``package`` stage packs as the forecaster artifact: ``best`` (the
    leaderboard's first trained row), a network of ``models``, or ``ensemble``."""

    model: str

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """``package.model`` names ``best``, the ensemble or a model of ``models`` or ``classical``."""
        package = values.get("package")
        named = {
            str(name)
            for key in ("models", "classical")
            if isinstance(raw.get(key), dict)
            for name in raw[key]
        }
        if package is None or not isinstance(raw.get("models"), dict):
            return
        if package.model not in {BEST, "ensemble", *named}:
            problems.append(
                f"package.model: {package.model!r} is not a model. Expected best, ensemble or one of: "
                f"{', '.join(sorted(named))}"
            )


FORMAT = 1
MANIFEST = "forecaster.json"


KERAS = "keras"
# Feature switches a forecaster packed before they existed does not name: they were off.
FEATURES_ADDED_LATER: dict[str, Any] = {"column_diffs": {}}
CLASSICAL = "classical"


@dataclass(frozen=True)
class Member:
    """One model of a forecaster: a network (``.keras``, sampling inputs every ``step_rows``
    rows) or a classical estimator (``.skops``, with its estimator name and window-feature
    params)."""

    name: str
    kind: str
    model_path: Path
    step_rows: int = 0
    lookback_rows: int = 0  # 0: the forecaster's windows' own
    estimator: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    anchor: Member | None = (
        None  # an anchored network's classical model (name ``<network>.anchor``)
    )

    @property
    def file_name(self) -> str:
        return f"{self.name}.{'keras' if self.kind == KERAS else 'skops'}"

    def manifest(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "kind": self.kind, "file": self.file_name}
        if self.kind == KERAS:
            entry["step_rows"] = self.step_rows
            if self.lookback_rows:
                entry["lookback_rows"] = self.lookback_rows
            if self.anchor is not None:
                entry["anchor"] = self.anchor.manifest()
        else:
            entry.update(estimator=self.estimator, params=self.params)
        return entry


@dataclass(frozen=True)
class Forecaster:
    """A model (one network or an ensemble of them) with its data settings, scaler and intervals."""

    model: str
    members: tuple[Member, ...]
    spec: WindowSpec
    target_column: str
    raw_columns: list[str]
    parse: ParseConfig
    features: FeaturesConfig
    scaler: dict[str, Any]
    intervals: dict[str, dict[str, float]]
    record: dict[str, Any]
    # per column, the training slice's min and max in the column's units (input_check)
    training_ranges: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def target_stats(self) -> tuple[float, float]:
        """(mean, scale) of the target column: degC = normalized * scale + mean."""
        stats = self.scaler["columns"][self.target_column]
        return float(stats["mean"]), float(stats["scale"])

    @property
    def history_rows(self) -> int:
        """Rows of complete history a forecast needs: the lookback, plus the longest lag of an
        engineered difference."""
        return self.spec.lookback_rows + self.features.history_rows

    def predict(
        self, data: np.ndarray, timestamps: pd.DatetimeIndex, anchors: np.ndarray
    ) -> np.ndarray:
        """The 24 h forecast in degC of the window at each anchor of normalized ``data`` (rows
        at ``timestamps``): the mean of the members' forecasts, float64, shape (windows,)."""
        anchors = np.asarray(anchors, dtype=np.int64)
        forecasts = [self.member_forecast(m, data, timestamps, anchors) for m in self.members]
        mean, scale = self.target_stats
        return np.mean(np.stack(forecasts), axis=0) * scale + mean

    def member_forecast(
        self, member: Member, data: np.ndarray, timestamps: pd.DatetimeIndex, anchors: np.ndarray
    ) -> np.ndarray:
        """One member's normalized 24 h forecast of the windows at ``anchors``, (windows,)."""
        rows_per_hour = 60 // self.parse.interval_minutes
        return member_forecast(
            member, data, timestamps, anchors, self.spec, self.scaler, rows_per_hour
        )

    def naive(self, data: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """The naive forecast in degC of the window at each anchor: the target at the anchor."""
        mean, scale = self.target_stats
        values = naive_forecast(data, np.asarray(anchors, dtype=np.int64), self.spec)[:, 0]
        return values.astype(np.float64) * scale + mean


def member_forecast(
    member: Member,
    data: np.ndarray,
    timestamps: pd.DatetimeIndex,
    anchors: np.ndarray,
    spec: WindowSpec,
    scaler: dict[str, Any],
    rows_per_hour: int,
) -> np.ndarray:
    """A member's normalized 24 h forecast of the windows at ``anchors`` of ``data`` (rows at
    ``timestamps``, scaled by ``scaler``, the training statistics), float64, (windows,). A classical member forecasts the
    naive value plus its predicted change, from the window features at each anchor."""
    anchors = np.asarray(anchors, dtype=np.int64)
    if member.kind == CLASSICAL:
        from jena_forecast.classical.design import classical_features
        from jena_forecast.classical.estimators import forecast_change
        from jena_forecast.classical.params import ESTIMATOR_PARAMS
        from jena_forecast.classical.persist import load_estimator

        params = ESTIMATOR_PARAMS[member.estimator](**member.params)
        features = classical_features(data, timestamps, scaler, spec, params, rows_per_hour)
        naive = naive_forecast(data, anchors, spec)[:, 0]
        estimator = load_estimator(member.model_path)
        return forecast_change(estimator, features.at(anchors), naive).reshape(-1)
    from jena_forecast.training.predict import PREDICT_BATCH_SIZE, load_model

    model = load_model(member.model_path)
    if member.anchor is not None:
        data = anchored_inputs(member.anchor, data, timestamps, spec, scaler, rows_per_hour)
    gather = InputGather(data, spec.for_model(member.lookback_rows, member.step_rows))
    parts = np.array_split(anchors, max(1, -(-len(anchors) // PREDICT_BATCH_SIZE)))
    paths = [
        forecast_paths(np.asarray(model.predict(gather(part), verbose=0)))
        for part in parts
        if len(part)
    ]
    return delay_forecast(np.concatenate(paths)).reshape(-1).astype(np.float64)


def anchored_inputs(
    anchor: Member,
    data: np.ndarray,
    timestamps: pd.DatetimeIndex,
    spec: WindowSpec,
    scaler: dict[str, Any],
    rows_per_hour: int,
) -> np.ndarray:
    """``data`` with an anchored network's anchor column: ``anchor``'s forecast change at every row."""
    from jena_forecast.classical.params import ESTIMATOR_PARAMS
    from jena_forecast.classical.persist import load_estimator
    from jena_forecast.classical.row_changes import row_changes
    from jena_forecast.data.anchor_column import with_anchor_column

    params = ESTIMATOR_PARAMS[anchor.estimator](**anchor.params)
    estimator = load_estimator(anchor.model_path)
    changes = row_changes(estimator, data, timestamps, scaler, spec, params, rows_per_hour)
    return with_anchor_column(data, changes, f"{anchor.name}'s forecast changes")


def end_of_test_half_widths(
    config: ForecasterConfig, forecasts: Forecasts, spec: WindowSpec
) -> dict[str, dict[str, float]]:
    """Per level, the half-width (degC) that ``intervals.method`` gives a window right after the
    test split: adaptive, the last test window's (the latest 28 days of known errors and the miss
    rate reached); split, its one width from validation."""
    errors = {split: forecasts.abs_errors(split) for split in ("val", "test")}
    calibration = adaptive_calibration(
        config.intervals, forecasts.anchors, spec.delay_rows, config.parse.interval_minutes
    )
    widths = half_widths(errors, config.intervals.levels, calibration)
    return {
        level_key(level): {
            "level": level,
            "half_width_degc": round(float(widths[level]["test"][-1]) * forecasts.target_scale, 6),
        }
        for level in config.intervals.levels
    }


def _manifest(forecaster: Forecaster) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "model": forecaster.model,
        "members": [member.manifest() for member in forecaster.members],
        "windows": {
            "lookback_rows": forecaster.spec.lookback_rows,
            "step_rows": forecaster.spec.step_rows,
            "delay_rows": forecaster.spec.delay_rows,
            "target_column": forecaster.target_column,
        },
        "raw_columns": forecaster.raw_columns,
        "parse": forecaster.parse.model_dump(mode="json"),
        "features": forecaster.features.model_dump(mode="json"),
        "scaler": forecaster.scaler,
        "intervals": forecaster.intervals,
        "training_ranges": forecaster.training_ranges,
        **forecaster.record,
    }


def save_forecaster(forecaster: Forecaster, directory: Path) -> None:
    """Write the forecaster to ``directory`` (replaced whole, atomically): manifest and models."""
    with atomic_dir(directory) as tmp:
        for member in forecaster.members:
            shutil.copyfile(member.model_path, tmp / member.file_name)
            if member.anchor is not None:
                shutil.copyfile(member.anchor.model_path, tmp / member.anchor.file_name)
        write_json(tmp / MANIFEST, _manifest(forecaster))


RECORD_KEYS = ("scores", "protocol", "data", "packed_from", "fit", "fitted_rows")


def load_forecaster(directory: Path) -> Forecaster:
    """Read a forecaster directory written by ``save_forecaster``."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise PipelineError(
            f"{directory}: not a forecaster (no {MANIFEST}); run `dvc repro package`, "
            "`dvc pull data/forecaster` or `dvc artifacts get` first"
        )
    manifest = read_json(manifest_path)
    if manifest.get("format") != FORMAT:
        raise PipelineError(
            f"{manifest_path}: format {manifest.get('format')!r}, this version reads {FORMAT}"
        )
    try:
        windows = manifest["windows"]
        columns = list(manifest["scaler"]["columns"])
        spec = WindowSpec(
            windows["lookback_rows"],
            windows["step_rows"],
            windows["delay_rows"],
            columns.index(windows["target_column"]),
        )
        members = tuple(_member(directory, m) for m in manifest["members"])
        return Forecaster(
            model=manifest["model"],
            members=members,
            spec=spec,
            target_column=windows["target_column"],
            raw_columns=list(manifest["raw_columns"]),
            parse=ParseConfig(**manifest["parse"]),
            features=FeaturesConfig(**{**FEATURES_ADDED_LATER, **manifest["features"]}),
            scaler=manifest["scaler"],
            intervals=manifest["intervals"],
            record={key: manifest[key] for key in RECORD_KEYS if key in manifest},
            training_ranges=dict(manifest.get("training_ranges", {})),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise PipelineError(f"{manifest_path}: malformed forecaster manifest: {error!r}") from error


def _member(directory: Path, entry: dict[str, Any]) -> Member:
    """A member of a forecaster's manifest, its file in ``directory``."""
    anchor = entry.get("anchor")
    return Member(
        name=entry["name"],
        kind=entry["kind"],
        model_path=directory / entry["file"],
        step_rows=int(entry.get("step_rows", 0)),
        lookback_rows=int(entry.get("lookback_rows", 0)),
        estimator=entry.get("estimator", ""),
        params=dict(entry.get("params", {})),
        anchor=_member(directory, anchor) if anchor is not None else None,
    )


def members_of(
    config: ForecasterConfig, name: str, ensemble_record: dict[str, Any] | None
) -> list[str]:
    """The models behind leaderboard row ``name``: itself, or the ensemble's members."""
    if name == ENSEMBLE:
        if ensemble_record is None:
            raise PipelineError("the ensemble has no record; run the ensemble stage first")
        names = list(ensemble_record["members"])
    else:
        names = [name]
    known = [*config.models, *config.classical]
    for member in names:
        if member not in known:
            raise PipelineError(
                f"{member!r} is not a model of params.yaml. Expected one of: "
                f"{', '.join([*known, ENSEMBLE])}"
            )
    return names


@dataclass(frozen=True)
class PipelineFiles:
    """Where the pipeline keeps what a forecaster is packed from (``dvc.yaml``'s ``vars: paths``)."""

    model_dir: Path
    scaler: Path
    data_quality: Path
    model_metrics: Path
    forecasts: Path
    ensemble_metrics: Path
    ensemble_forecasts: Path
    normalized: Path | None = None  # the training slice's ranges come from it

    def record(self, name: str) -> Path:
        return self.ensemble_metrics if name == ENSEMBLE else self.model_metrics / f"{name}.json"

    def kept_forecasts(self, name: str) -> Path:
        return self.ensemble_forecasts if name == ENSEMBLE else self.forecasts / f"{name}.npz"


def member_of(config: ForecasterConfig, name: str, model_dir: Path, spec: WindowSpec) -> Member:
    """Model ``name`` of params as a forecaster member, its saved file in ``model_dir``."""
    if name in config.classical:
        classical = config.classical_model(name)
        member = Member(
            name,
            CLASSICAL,
            model_dir / f"{name}.skops",
            estimator=classical.estimator,
            params=classical.params.model_dump(mode="json"),
        )
        stage = f"classical@{name}"
    else:
        model = config.model(name)
        anchor = None
        if model.anchor is not None:
            anchor = replace(
                member_of(config, model.anchor, model_dir, spec), name=f"{name}.anchor"
            )
        member = Member(
            name,
            KERAS,
            model_dir / f"{name}.keras",
            step_rows=model.step_rows or spec.step_rows,
            lookback_rows=model.lookback_rows or 0,
            anchor=anchor,
        )
        stage = f"anchored@{name}" if anchor is not None else f"train@{name}"
    if not member.model_path.is_file():
        raise PipelineError(f"{member.model_path}: model file not found; run {stage} or dvc pull")
    return member


def pack(config: ForecasterConfig, name: str, files: PipelineFiles) -> Forecaster:
    """The forecaster of leaderboard row ``name`` (a network or ``ensemble``) from the pipeline's
    trained models, scaler, data-quality report, metrics record and kept forecasts."""
    from jena_forecast.evaluation.forecasts import load_forecasts

    record = read_json(files.record(name))
    names = members_of(config, name, record if name == ENSEMBLE else None)
    from jena_forecast.data.windows import window_spec

    scaler = read_json(files.scaler)
    target = config.windows.target_column
    spec, _ = window_spec(config.windows, files.scaler)
    members = [member_of(config, member, files.model_dir, spec) for member in names]
    forecasts = load_forecasts(files.kept_forecasts(name))
    return Forecaster(
        model=name,
        members=tuple(members),
        spec=spec,
        target_column=target,
        raw_columns=list(read_json(files.data_quality)["columns"]),
        parse=config.parse,
        features=config.features,
        scaler=scaler,
        intervals=end_of_test_half_widths(config, forecasts, spec),
        record={
            "scores": {
                f"{split}_{key}": record[split][key]
                for split in ("val", "test")
                for key in ("mae_degc", "naive_mae_degc", "skill_vs_naive")
            },
            "protocol": record["protocol"],
            "data": record["data"],
        },
        training_ranges=fitted_rows_ranges(files.normalized, scaler),
    )


def fitted_rows_ranges(normalized: Path | None, scaler: dict[str, Any]) -> dict[str, Any]:
    """Each column's range over the rows the scaler was fitted on (the training slice, or every
    row for the deployment fit)."""
    if normalized is None:
        return {}
    from jena_forecast.plumbing.artifacts import load_array
    from jena_forecast.serving.input_check import training_ranges

    start, end = scaler["fitted_rows"]
    return training_ranges(load_array(normalized), scaler, (int(start), int(end)))
