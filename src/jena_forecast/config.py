"""Params: ``params.yaml`` is read once, validated into frozen typed objects, every problem reported together.

``params.yaml`` holds every default of the pipeline's sections: these classes validate them and
have none of their own, so a missing key is an error that names it. A model's own params (its
builder's or estimator's) keep their defaults beside their builder (``models/catalog.py``,
``classical/params.py``); a ``params.yaml`` entry shows the ones it sets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from jena_forecast.classical.params import ESTIMATOR_PARAMS, EstimatorParams
from jena_forecast.errors import PipelineError
from jena_forecast.models.catalog import BUILDER_PARAMS, BuilderParams

DEFAULT_PARAMS_PATH = Path("params.yaml")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
SPLIT_PRESETS: dict[str, tuple[float | int, float | int]] = {
    # Deep Learning with Python, 2nd/3rd edition: 50% / 25% / 25% of the rows.
    "dlwp2": (0.5, 0.75),
    # Deep Learning with Python, 1st edition: rows [0, 200000), [200000, 300000), [300000, end).
    "dlwp1": (200_000, 300_000),
}
MIN_SEEDS = 3
MISSING = ": required param is missing"
# Rows of the leaderboard that are not entries of ``models``: a model may not take their names.
RESERVED_MODEL_NAMES = ("naive", "ensemble")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DownloadConfig(_Frozen):
    """Where the raw data comes from and the checksum it must have.

    ``source`` picks one of three zips: ``embedded``, the 2009-2011 record shipped with the project
    (its path comes from the pipeline, its checksum is ``embedded_sha256``); ``url``, the official
    2009-2016 file; ``mirror``, a local copy. ``sha256`` pins the ``url`` or ``mirror`` zip.
    """

    source: Literal["embedded", "url", "mirror"]
    embedded_sha256: str
    url: str
    mirror: str | None
    sha256: str | None = None
    member: str
    timeout_seconds: PositiveFloat
    retries: NonNegativeInt

    @field_validator("url")
    @classmethod
    def _url_is_https_or_local(cls, url: str) -> str:
        parsed = urlparse(url)
        if parsed.scheme in {"https", "file"}:
            return url
        if parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS:
            return url
        raise ValueError(
            "must be an https:// URL (http:// only for a loopback host, file:// for a local file)"
        )

    @field_validator("mirror", "sha256", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("sha256", "embedded_sha256")
    @classmethod
    def _sha256_is_hex(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", value):
            raise ValueError(
                "must be 64 hexadecimal characters, or empty to record the observed one"
            )
        return None if value is None else value.lower()

    @model_validator(mode="after")
    def _mirror_is_named(self) -> DownloadConfig:
        if self.source == "mirror" and self.mirror is None:
            raise ValueError("source is mirror but no mirror is named: set download.mirror")
        return self

    @field_validator("member")
    @classmethod
    def _member_is_plain_name(cls, member: str) -> str:
        if not member or "/" in member or "\\" in member or member in {".", ".."}:
            raise ValueError("must be a plain file name inside the zip, without directories")
        return member


class ParseConfig(_Frozen):
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


class SplitConfig(_Frozen):
    """Time split boundaries: a named preset, or ``custom`` with fractions (floats) or rows (ints)."""

    preset: Literal["dlwp2", "dlwp1", "custom"]
    train_end: StrictInt | StrictFloat | None
    val_end: StrictInt | StrictFloat | None

    @field_validator("train_end", "val_end")
    @classmethod
    def _boundary_in_range(cls, value: int | float | None) -> int | float | None:
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ValueError("must be in (0, 1) when given as a fraction")
        if isinstance(value, int) and value <= 0:
            raise ValueError("must be a positive row number when given as an integer")
        return value

    def boundaries(self) -> tuple[float | int, float | int]:
        """The (train_end, val_end) pair this config names."""
        if self.preset == "custom":
            assert self.train_end is not None and self.val_end is not None
            return self.train_end, self.val_end
        return SPLIT_PRESETS[self.preset]

    def describe(self) -> str:
        """The preset's name, or ``custom train_end=... val_end=...``."""
        if self.preset == "custom":
            return f"custom train_end={self.train_end} val_end={self.val_end}"
        return self.preset


class FeaturesConfig(_Frozen):
    """Columns the ``features`` stage adds to the parsed table; with every switch off it is unchanged."""

    time_signals: StrictBool
    wind_vector: StrictBool
    wind_speed_column: str | None
    max_wind_speed_column: str | None
    wind_direction_column: str | None
    temperature_diffs: tuple[PositiveInt, ...]
    column_diffs: dict[str, tuple[PositiveInt, ...]]

    @field_validator(
        "wind_speed_column", "max_wind_speed_column", "wind_direction_column", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("temperature_diffs", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return () if value is None else value

    @field_validator("temperature_diffs")
    @classmethod
    def _lags_are_distinct(cls, lags: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(lags)) != len(lags):
            raise ValueError("must not repeat a lag")
        return lags

    @field_validator("column_diffs", mode="before")
    @classmethod
    def _none_is_no_column(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("column_diffs")
    @classmethod
    def _named_columns_with_distinct_lags(
        cls, diffs: dict[str, tuple[int, ...]]
    ) -> dict[str, tuple[int, ...]]:
        for column, lags in diffs.items():
            if not column.strip():
                raise ValueError("a column name must not be empty")
            if not lags or len(set(lags)) != len(lags):
                raise ValueError(f"{column!r}: give distinct lags, e.g. [18, 72, 144]")
        return diffs

    @property
    def enabled(self) -> bool:
        return (
            self.time_signals
            or self.wind_vector
            or bool(self.temperature_diffs)
            or bool(self.column_diffs)
        )

    @property
    def history_rows(self) -> int:
        """How many rows before a window's first one its differences reach back."""
        lags = [
            *self.temperature_diffs,
            *(lag for lags in self.column_diffs.values() for lag in lags),
        ]
        return max(lags, default=0)

    def describe(self) -> str:
        """``none``, or the switches that are on:
        ``time_signals+wind_vector+temperature_diffs=6,36+column_diffs=p (mbar):18,144``."""
        names = [name for name in ("time_signals", "wind_vector") if getattr(self, name)]
        if self.temperature_diffs:
            names.append("temperature_diffs=" + ",".join(map(str, self.temperature_diffs)))
        if self.column_diffs:
            names.append(
                "column_diffs="
                + ";".join(
                    f"{c}:{','.join(map(str, lags))}" for c, lags in self.column_diffs.items()
                )
            )
        return "+".join(names) or "none"


class WindowsConfig(_Frozen):
    """Supervised windows: inputs every ``step_rows`` over ``lookback_rows``, target ``delay_rows`` ahead."""

    lookback_rows: PositiveInt
    step_rows: PositiveInt
    delay_rows: PositiveInt
    target_column: str = Field(min_length=1)


class TrainConfig(_Frozen):
    """How one model is fitted; ``train`` in params holds the defaults, a model's ``train`` overrides them."""

    optimizer: Literal["adam", "rmsprop", "sgd"]
    learning_rate: PositiveFloat
    momentum: float = Field(ge=0.0, lt=1.0)
    loss: Literal["mae", "mse", "huber"]
    batch_size: PositiveInt
    epochs: PositiveInt
    steps_per_epoch: PositiveInt | None
    patience: NonNegativeInt
    lr_schedule: Literal["constant", "cosine", "plateau"]
    warmup_steps: NonNegativeInt
    weight_decay: float = Field(ge=0.0)
    global_clipnorm: PositiveFloat | None
    ema_momentum: float | None = Field(gt=0.0, lt=1.0)
    shuffle: bool
    # How the model runs, not what it is: all three default to today's single-device float32 path.
    strategy: Literal["default", "mirrored", "multi_worker"]
    jit_compile: bool
    mixed_precision: bool

    @model_validator(mode="after")
    def _warmup_needs_a_schedule(self) -> TrainConfig:
        if self.warmup_steps and self.lr_schedule == "plateau":
            raise ValueError(
                "warmup_steps must be 0 with lr_schedule plateau (the plateau callback sets the "
                f"rate itself); received warmup_steps={self.warmup_steps}"
            )
        return self


class ModelSpec(_Frozen):
    """One entry of ``models``: which builder, its own params, and its training overrides."""

    name: str
    builder: str
    builder_params: BuilderParams
    train: TrainConfig
    step_rows: PositiveInt | None = None
    lookback_rows: PositiveInt | None = None
    aux_horizons: PositiveInt | None = None
    residual: bool = False
    recipe: str | None = None

    @property
    def target_kind(self) -> str:
        """``point``, ``sequence`` (see BuilderParams) or ``path``: a point model that also
        forecasts ``aux_horizons - 1`` earlier points, (batch, horizons)."""
        return "path" if self.aux_horizons else self.builder_params.target_kind

    @property
    def horizons(self) -> int | None:
        """How many points of the path to the 24 h target the model forecasts; None: one."""
        return self.aux_horizons or getattr(self.builder_params, "horizons", None)


class ClassicalSpec(_Frozen):
    """One entry of ``classical``: which scikit-learn estimator and its params."""

    name: str
    estimator: str
    params: EstimatorParams


class LrRangeTestConfig(_Frozen):
    """The learning-rate range test: one short run of ``model`` with an exponentially growing rate."""

    model: str
    min_learning_rate: PositiveFloat
    max_learning_rate: PositiveFloat
    steps: PositiveInt


class SeedStudyConfig(_Frozen):
    """Models retrained from several seeds, to report a mean and a standard deviation of their scores."""

    models: tuple[str, ...]
    seeds: tuple[StrictInt, ...]

    @field_validator("models")
    @classmethod
    def _models_are_distinct(cls, models: tuple[str, ...]) -> tuple[str, ...]:
        if not models:
            raise ValueError("must name at least one model of models")
        if len(set(models)) != len(models):
            raise ValueError("must not name a model twice")
        return models

    @field_validator("seeds")
    @classmethod
    def _three_distinct_seeds(cls, seeds: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(seeds)) != len(seeds) or len(seeds) < MIN_SEEDS:
            raise ValueError(f"must be at least {MIN_SEEDS} distinct integers")
        return seeds


class EnsembleConfig(_Frozen):
    """The ensemble: the mean forecast of ``members``, or else of the ``top_k`` models by val MAE."""

    top_k: PositiveInt
    members: tuple[str, ...] | None
    include_classical: bool

    @field_validator("members", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == [] or value == () else value

    @field_validator("members")
    @classmethod
    def _distinct(cls, members: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if members is not None and len(set(members)) != len(members):
            raise ValueError("must not name a model twice")
        return members


class IntervalsConfig(_Frozen):
    """Prediction intervals (``jena_forecast.intervals``): the coverage levels, and how widths are
    calibrated: ``split`` conformal from the validation errors, or ``adaptive`` conformal inference
    run online through val and test with step ``adaptation_rate`` over the latest
    ``calibration_days`` of known errors."""

    levels: tuple[float, ...]
    method: Literal["adaptive", "split"]
    adaptation_rate: float = Field(ge=0.0, lt=1.0)
    calibration_days: PositiveFloat

    @field_validator("levels")
    @classmethod
    def _distinct_fractions(cls, levels: tuple[float, ...]) -> tuple[float, ...]:
        if not levels:
            raise ValueError("must name at least one coverage level")
        if any(not 0.0 < level < 1.0 for level in levels):
            raise ValueError("every level must be a fraction strictly between 0 and 1")
        if len(set(levels)) != len(levels):
            raise ValueError("must not name a level twice")
        return tuple(sorted(levels))


class SignificanceConfig(_Frozen):
    """The uncertainty of every score and comparison (``jena_forecast.significance``): a circular
    block bootstrap over windows, and the model confidence set that finds the models tied with
    the best."""

    block_days: PositiveFloat
    replications: int = Field(ge=100)
    level: float = Field(gt=0.0, lt=1.0)
    seed: int
    tie_size: float = Field(gt=0.0, lt=1.0)


SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
EXPORT_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class BacktestExport(_Frozen):
    """One more export of the station to score every model on: a file of this repository (a
    ``.csv``, or a ``.zip`` holding one), its sha256 when pinned, and the ``parse`` params it
    needs that differ from the pipeline's (e.g. ``timestamp_format: auto``). ``name`` is its key
    under ``backtest.exports``."""

    name: str
    path: str
    sha256: str | None = None
    parse: dict[str, Any] = Field(default_factory=dict)

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


class BacktestConfig(_Frozen):
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


BEST = "best"


class PackageConfig(_Frozen):
    """Which model the ``package`` stage packs as the forecaster artifact: ``best`` (the
    leaderboard's first trained row), a network of ``models``, or ``ensemble``."""

    model: str


class PipelineConfig(_Frozen):
    """Every param of the pipeline, validated."""

    seed: int
    download: DownloadConfig
    parse: ParseConfig
    split: SplitConfig
    windows: WindowsConfig
    train: TrainConfig
    features: FeaturesConfig
    models: dict[str, ModelSpec]
    classical: dict[str, ClassicalSpec]
    lr_range_test: LrRangeTestConfig
    seed_study: SeedStudyConfig
    ensemble: EnsembleConfig
    intervals: IntervalsConfig
    significance: SignificanceConfig
    backtest: BacktestConfig
    package: PackageConfig

    def protocol(self) -> str:
        """Which windows a score belongs to: the split and the window geometry.

        For example ``dlwp2 lookback=1440 step=6 delay=144``.
        """
        windows = self.windows
        return (
            f"{self.split.describe()} lookback={windows.lookback_rows} "
            f"step={windows.step_rows} delay={windows.delay_rows}"
        )

    def data_record(self, data: str) -> dict[str, str]:
        """What every metrics file says about the data behind its numbers: the split and window
        geometry, the feature switches, and ``data`` (``forecasts.data_fingerprint``)."""
        return {"protocol": self.protocol(), "features": self.features.describe(), "data": data}

    def model(self, name: str) -> ModelSpec:
        """The spec of model ``name``, or a PipelineError listing the known names."""
        if name not in self.models:
            known = ", ".join(sorted(self.models)) or "(none)"
            raise PipelineError(f"model {name!r} is not in params models. Known models: {known}")
        return self.models[name]

    def classical_model(self, name: str) -> ClassicalSpec:
        """The spec of classical model ``name``, or a PipelineError listing the known names."""
        if name not in self.classical:
            known = ", ".join(sorted(self.classical)) or "(none)"
            raise PipelineError(
                f"model {name!r} is not in params classical. Known classical models: {known}"
            )
        return self.classical[name]


def _location(prefix: str, loc: tuple[Any, ...]) -> str:
    parts = [prefix] if prefix else []
    parts += [str(part) for part in loc]
    return ".".join(parts)


def _format_errors(prefix: str, error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        where = _location(prefix, item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown param")
        elif item["type"] == "missing":
            problems.append(f"{where}{MISSING}")
        elif not item["loc"]:  # a check across the section's fields names its own values
            problems.append(f"{where}: {message}")
        else:
            problems.append(f"{where}: {message}. Received: {where}={item.get('input')!r}")
    return problems


def _validate_section(
    model: type[BaseModel], prefix: str, raw: Any, problems: list[str]
) -> BaseModel | None:
    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as error:
        problems.extend(_format_errors(prefix, error))
        return None


def _check_windows(windows: WindowsConfig, problems: list[str]) -> None:
    if windows.lookback_rows % windows.step_rows:
        problems.append(
            "windows.lookback_rows must be a multiple of windows.step_rows. "
            f"Received: windows.lookback_rows={windows.lookback_rows}, "
            f"windows.step_rows={windows.step_rows}"
        )


def _check_target(parse: ParseConfig, windows: WindowsConfig, problems: list[str]) -> None:
    if windows.target_column == parse.timestamp_column:
        problems.append(
            "windows.target_column must be a measurement column, not parse.timestamp_column. "
            f"Received: windows.target_column={windows.target_column!r}"
        )


def _check_split(raw: Any, split: SplitConfig | None, problems: list[str]) -> None:
    raw = raw if isinstance(raw, dict) else {}
    preset = raw.get("preset", "dlwp2")
    given = [key for key in ("train_end", "val_end") if raw.get(key) is not None]
    if preset == "custom":
        for key in sorted({"train_end", "val_end"} - set(given)):
            problems.append(f"split.{key}: required when split.preset=custom")
        if split is not None and len(given) == 2:
            train_end, val_end = split.boundaries()
            if type(train_end) is type(val_end) and train_end >= val_end:
                problems.append(
                    "split.train_end must be before split.val_end. "
                    f"Received: split.train_end={train_end}, split.val_end={val_end}"
                )
    elif preset in SPLIT_PRESETS:
        for key in given:
            problems.append(
                f"split.{key}: only used with split.preset=custom; "
                f"remove it or set split.preset=custom. Received: split.preset={preset}"
            )


def _check_aux_horizons(
    prefix: str,
    aux_horizons: Any,
    builder_params: BuilderParams | None,
    windows: WindowsConfig | None,
    problems: list[str],
) -> None:
    if aux_horizons is None:
        return
    if not isinstance(aux_horizons, int) or isinstance(aux_horizons, bool) or aux_horizons < 2:
        problems.append(
            f"{prefix}.aux_horizons: must be an integer >= 2 (null: the 24 h point alone). "
            f"Received: {aux_horizons!r}"
        )
    elif builder_params is not None and builder_params.target_kind != "point":
        problems.append(
            f"{prefix}.aux_horizons: only for a point model; its builder already forecasts "
            f"{builder_params.target_kind} targets. Received: {prefix}.aux_horizons={aux_horizons}"
        )
    elif windows is not None and windows.delay_rows % aux_horizons:
        problems.append(
            f"{prefix}.aux_horizons must divide windows.delay_rows. Received: "
            f"{prefix}.aux_horizons={aux_horizons}, windows.delay_rows={windows.delay_rows}"
        )


def _check_model_geometry(
    prefix: str,
    step_rows: Any,
    lookback_rows: Any,
    builder_params: BuilderParams | None,
    windows: WindowsConfig | None,
    problems: list[str],
) -> None:
    for key, value in (("step_rows", step_rows), ("lookback_rows", lookback_rows)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value <= 0
        ):
            problems.append(f"{prefix}.{key}: must be a positive integer. Received: {value!r}")
            return
    if windows is None:
        return
    if lookback_rows is not None:
        step = step_rows or windows.step_rows
        if lookback_rows > windows.lookback_rows or lookback_rows % step:
            problems.append(
                f"{prefix}.lookback_rows must be at most windows.lookback_rows and a multiple of "
                f"the model's step. Received: {prefix}.lookback_rows={lookback_rows}, "
                f"windows.lookback_rows={windows.lookback_rows}, step_rows={step}"
            )
    if step_rows is not None and windows.lookback_rows % step_rows:
        problems.append(
            f"{prefix}.step_rows must divide windows.lookback_rows. Received: "
            f"{prefix}.step_rows={step_rows}, windows.lookback_rows={windows.lookback_rows}"
        )
    horizons = getattr(builder_params, "horizons", None)
    if horizons is not None and windows.delay_rows % horizons:
        problems.append(
            f"{prefix}.horizons must divide windows.delay_rows. Received: "
            f"{prefix}.horizons={horizons}, windows.delay_rows={windows.delay_rows}"
        )


RECIPE_KEYS = ("lookback_rows", "aux_horizons", "residual", "step_rows", "train")


def _validate_recipes(raw: Any, problems: list[str]) -> dict[str, dict[str, Any] | None]:
    """``recipes``: named bundles of a model's training keys (``RECIPE_KEYS``) that a model
    takes with ``recipe: <name>``; its own keys still override them. A refused recipe stays by
    name, as None, so the models that take it are not reported a second time."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"recipes: expected a mapping of recipe name to keys. Received: {raw!r}")
        return {}
    recipes: dict[str, dict[str, Any] | None] = {}
    for name, entry in raw.items():
        entry = {} if entry is None else entry
        recipes[str(name)] = None
        if not isinstance(entry, dict):
            problems.append(f"recipes.{name}: expected a mapping of keys. Received: {entry!r}")
            continue
        unknown = sorted(set(entry) - set(RECIPE_KEYS))
        if unknown:
            problems.append(
                f"recipes.{name}: {', '.join(unknown)} cannot be part of a recipe. Expected "
                f"any of: {', '.join(RECIPE_KEYS)} (a model's own layers stay in its entry)"
            )
            continue
        if not isinstance(entry.get("train") or {}, dict):
            problems.append(
                f"recipes.{name}.train: expected a mapping of training params. "
                f"Received: {entry['train']!r}"
            )
            continue
        recipes[str(name)] = dict(entry)
    return recipes


def _apply_recipe(
    prefix: str,
    raw: dict[str, Any],
    recipes: dict[str, dict[str, Any] | None],
    problems: list[str],
) -> tuple[dict[str, Any], str | None] | None:
    """The model entry with its recipe's keys beneath its own (``train`` merged key by key),
    and the recipe's name; None after naming an unknown recipe, or for a refused one (its
    problem is already reported)."""
    entries = dict(raw)
    name = entries.pop("recipe", None)
    if name is None:
        return entries, None
    if not isinstance(name, str) or name not in recipes:
        known = ", ".join(sorted(recipes)) or "(none: params have no recipes)"
        problems.append(
            f"{prefix}.recipe: unknown recipe. Expected one of: {known}. "
            f"Received: {prefix}.recipe={name!r}"
        )
        return None
    recipe = recipes[name]
    if recipe is None:
        return None
    own_train = entries.get("train") or {}
    merged = {**recipe, **entries}
    if isinstance(own_train, dict):
        merged["train"] = {**(recipe.get("train") or {}), **own_train}
    return merged, name


def _validate_model(
    name: str,
    raw: Any,
    train_defaults: TrainConfig | None,
    windows: WindowsConfig | None,
    problems: list[str],
    recipes: dict[str, dict[str, Any] | None] | None = None,
) -> ModelSpec | None:
    prefix = f"models.{name}"
    if not isinstance(raw, dict):
        raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        problems.append(f"{prefix}: expected a mapping of model params. Received: {raw!r}")
        return None
    applied = _apply_recipe(prefix, raw, recipes or {}, problems)
    if applied is None:
        return None
    entries, recipe = applied
    builder = entries.pop("builder", name)
    training = {key: entries.pop(key, None) for key in RECIPE_KEYS}
    overrides = training["train"] or {}
    step_rows, lookback_rows = training["step_rows"], training["lookback_rows"]
    aux_horizons = training["aux_horizons"]
    residual = False if training["residual"] is None else training["residual"]
    if not isinstance(residual, bool):
        problems.append(f"{prefix}.residual: must be true or false. Received: {residual!r}")
        return None
    if builder not in BUILDER_PARAMS:
        known = ", ".join(sorted(BUILDER_PARAMS))
        problems.append(
            f"{prefix}.builder: unknown model builder. Expected one of: {known}. "
            f"Received: {prefix}.builder={builder!r}"
        )
        return None
    builder_params = _validate_section(BUILDER_PARAMS[builder], prefix, entries, problems)
    before = len(problems)
    _check_model_geometry(prefix, step_rows, lookback_rows, builder_params, windows, problems)  # type: ignore[arg-type]
    _check_aux_horizons(prefix, aux_horizons, builder_params, windows, problems)  # type: ignore[arg-type]
    if not isinstance(overrides, dict):
        problems.append(
            f"{prefix}.train: expected a mapping of training params. Received: {overrides!r}"
        )
        return None
    if train_defaults is None:  # invalid defaults: the overrides are still checked on their own
        own: list[str] = []
        _validate_section(TrainConfig, f"{prefix}.train", overrides, own)
        problems.extend(problem for problem in own if not problem.endswith(MISSING))
        return None
    train = _validate_section(
        TrainConfig, f"{prefix}.train", {**train_defaults.model_dump(), **overrides}, problems
    )
    if builder_params is None or train is None or len(problems) > before:
        return None
    return ModelSpec(
        name=name,
        builder=builder,
        builder_params=builder_params,  # type: ignore[arg-type]
        train=train,  # type: ignore[arg-type]
        step_rows=step_rows,
        lookback_rows=lookback_rows,
        aux_horizons=aux_horizons,
        residual=residual,
        recipe=recipe,
    )


def _validate_classical(
    name: str,
    raw: Any,
    windows: WindowsConfig | None,
    parse: ParseConfig | None,
    problems: list[str],
) -> ClassicalSpec | None:
    prefix = f"classical.{name}"
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        problems.append(f"{prefix}: expected a mapping of estimator params. Received: {raw!r}")
        return None
    entries = dict(raw)
    estimator = entries.pop("estimator", name)
    if estimator not in ESTIMATOR_PARAMS:
        known = ", ".join(sorted(ESTIMATOR_PARAMS))
        problems.append(
            f"{prefix}.estimator: unknown classical estimator. Expected one of: {known}. "
            f"Received: {prefix}.estimator={estimator!r}"
        )
        return None
    params = _validate_section(ESTIMATOR_PARAMS[estimator], prefix, entries, problems)
    if not isinstance(params, EstimatorParams) or windows is None or parse is None:
        return None
    if 60 % parse.interval_minutes:
        problems.append(
            f"{prefix}: hourly window features need parse.interval_minutes to divide 60. "
            f"Received: parse.interval_minutes={parse.interval_minutes}"
        )
        return None
    rows_per_hour = 60 // parse.interval_minutes
    before = len(problems)
    if params.lag_hours * rows_per_hour > windows.lookback_rows - 1:
        problems.append(
            f"{prefix}.lag_hours reaches back beyond the window: {params.lag_hours} h is "
            f"{params.lag_hours * rows_per_hour} rows, windows.lookback_rows={windows.lookback_rows} "
            f"allows at most {(windows.lookback_rows - 1) // rows_per_hour} h. "
            f"Received: {prefix}.lag_hours={params.lag_hours}"
        )
    if params.recent_hours * rows_per_hour > windows.lookback_rows:
        problems.append(
            f"{prefix}.recent_hours is longer than the window: {params.recent_hours} h is "
            f"{params.recent_hours * rows_per_hour} rows, more than "
            f"windows.lookback_rows={windows.lookback_rows}. "
            f"Received: {prefix}.recent_hours={params.recent_hours}"
        )
    if len(problems) > before:
        return None
    return ClassicalSpec(name=name, estimator=estimator, params=params)


def _check_classical_names(
    raw_models: dict[Any, Any], raw_classical: dict[Any, Any], problems: list[str]
) -> None:
    for name in sorted(set(map(str, raw_models)) & set(map(str, raw_classical))):
        problems.append(
            f"classical.{name}: the name is already a model of params models; "
            "each model writes metrics/models/<name>.json, so names must differ"
        )
    for name in map(str, raw_classical):
        if name in RESERVED_MODEL_NAMES:
            problems.append(
                f"classical.{name}: the name {name!r} is reserved for a leaderboard row "
                f"({', '.join(RESERVED_MODEL_NAMES)}); rename the model"
            )


def _check_study_names(
    seed_study: BaseModel | None,
    ensemble: BaseModel | None,
    raw_models: dict[Any, Any],
    raw_classical: dict[Any, Any],
    problems: list[str],
) -> None:
    known = ", ".join(map(str, raw_models)) or "(none)"
    candidates = dict(raw_models)
    if isinstance(ensemble, EnsembleConfig) and ensemble.include_classical:
        candidates.update(raw_classical)
    if isinstance(seed_study, SeedStudyConfig):
        for name in seed_study.models:
            if name not in raw_models:
                problems.append(
                    f"seed_study.models: {name!r} is not in models. Expected names of: {known}"
                )
    if isinstance(ensemble, EnsembleConfig):
        for name in ensemble.members or ():
            if name in raw_classical and name not in candidates:
                problems.append(
                    f"ensemble.members: {name!r} is a classical model and "
                    f"ensemble.include_classical is false. Expected names of: {known}"
                )
            elif name not in candidates:
                problems.append(
                    f"ensemble.members: {name!r} is not in models or classical. "
                    f"Expected names of: {', '.join(map(str, candidates))}"
                )
        if ensemble.members is None and ensemble.top_k > len(candidates):
            problems.append(
                f"ensemble.top_k must be at most the number of candidate models ({len(candidates)}). "
                f"Received: ensemble.top_k={ensemble.top_k}"
            )


def _check_backtest(
    backtest: BacktestConfig, parse: ParseConfig | None, problems: list[str]
) -> None:
    """Each export's ``parse`` overrides must make valid ``parse`` params."""
    if parse is None:
        return
    for name, export in backtest.exports.items():
        try:
            export.parse_config(parse)
        except ValidationError as error:
            problems.extend(_format_errors(f"backtest.exports.{name}.parse", error))
        except TypeError as error:
            problems.append(f"backtest.exports.{name}.parse: {error}")


def _check_package(package: PackageConfig, names: set[str], problems: list[str]) -> None:
    """``package.model`` names ``best``, the ensemble or a model of ``models`` or ``classical``."""
    if package.model not in {BEST, "ensemble", *names}:
        problems.append(
            f"package.model: {package.model!r} is not a model. Expected best, ensemble or one of: "
            f"{', '.join(sorted(names))}"
        )


def parse_params(raw: Any, source: str = "params.yaml") -> PipelineConfig:
    """Validate a params mapping; raise one PipelineError that lists every problem found."""
    if not isinstance(raw, dict):
        raise PipelineError(f"{source}: expected a mapping of params at the top level")
    problems: list[str] = []
    sections: dict[str, type[BaseModel]] = {
        "download": DownloadConfig,
        "parse": ParseConfig,
        "split": SplitConfig,
        "windows": WindowsConfig,
        "features": FeaturesConfig,
        "train": TrainConfig,
        "lr_range_test": LrRangeTestConfig,
        "seed_study": SeedStudyConfig,
        "ensemble": EnsembleConfig,
        "intervals": IntervalsConfig,
        "significance": SignificanceConfig,
        "backtest": BacktestConfig,
        "package": PackageConfig,
    }
    known = set(sections) | {"seed", "models", "classical", "recipes"}
    for key in sorted(set(raw) - known):
        problems.append(
            f"{key}: unknown param section. Expected one of: {', '.join(sorted(known))}"
        )
    validated = {
        key: _validate_section(model, key, raw.get(key), problems)
        for key, model in sections.items()
    }
    seed = raw.get("seed")
    if "seed" not in raw:
        problems.append(f"seed{MISSING}")
    elif not isinstance(seed, int) or isinstance(seed, bool):
        problems.append(f"seed: must be an integer. Received: seed={seed!r}")
    if isinstance(validated["windows"], WindowsConfig):
        _check_windows(validated["windows"], problems)
        if isinstance(validated["parse"], ParseConfig):
            _check_target(validated["parse"], validated["windows"], problems)
    split = validated["split"]
    _check_split(raw.get("split"), split if isinstance(split, SplitConfig) else None, problems)
    raw_models = raw.get("models") or {}
    models: dict[str, ModelSpec] = {}
    if not isinstance(raw_models, dict):
        problems.append(
            f"models: expected a mapping of model name to params. Received: {raw_models!r}"
        )
    else:
        for name in raw_models:
            if name in RESERVED_MODEL_NAMES:
                problems.append(
                    f"models.{name}: the name {name!r} is reserved for a leaderboard row "
                    f"({', '.join(RESERVED_MODEL_NAMES)}); rename the model"
                )
        train_defaults = validated["train"]
        windows = validated["windows"]
        recipes = _validate_recipes(raw.get("recipes"), problems)
        for name, entry in raw_models.items():
            spec = _validate_model(
                str(name),
                entry,
                train_defaults if isinstance(train_defaults, TrainConfig) else None,
                windows if isinstance(windows, WindowsConfig) else None,
                problems,
                recipes,
            )
            if spec is not None:
                models[str(name)] = spec
    raw_classical = raw.get("classical") or {}
    classical: dict[str, ClassicalSpec] = {}
    if not isinstance(raw_classical, dict):
        problems.append(
            f"classical: expected a mapping of model name to estimator params. Received: {raw_classical!r}"
        )
    else:
        windows, parse = validated["windows"], validated["parse"]
        for name, entry in raw_classical.items():
            classical_spec = _validate_classical(
                str(name),
                entry,
                windows if isinstance(windows, WindowsConfig) else None,
                parse if isinstance(parse, ParseConfig) else None,
                problems,
            )
            if classical_spec is not None:
                classical[str(name)] = classical_spec
        if isinstance(raw_models, dict):
            _check_classical_names(raw_models, raw_classical, problems)
    lr_range_test = validated["lr_range_test"]
    if isinstance(lr_range_test, LrRangeTestConfig) and isinstance(raw_models, dict):
        if raw_models and lr_range_test.model not in raw_models:
            problems.append(
                f"lr_range_test.model: {lr_range_test.model!r} is not in models. "
                f"Expected one of: {', '.join(map(str, raw_models))}"
            )
        if lr_range_test.min_learning_rate >= lr_range_test.max_learning_rate:
            problems.append(
                "lr_range_test.min_learning_rate must be below lr_range_test.max_learning_rate"
            )
    if isinstance(raw_models, dict) and raw_models:
        # Only sections that params give: dvc.yaml needs both, a library caller may need neither.
        _check_study_names(
            validated["seed_study"] if "seed_study" in raw else None,
            validated["ensemble"] if "ensemble" in raw else None,
            raw_models,
            raw_classical if isinstance(raw_classical, dict) else {},
            problems,
        )
    if isinstance(validated["backtest"], BacktestConfig):
        parse_config = validated["parse"]
        _check_backtest(
            validated["backtest"],
            parse_config if isinstance(parse_config, ParseConfig) else None,
            problems,
        )
    if isinstance(validated["package"], PackageConfig) and isinstance(raw_models, dict):
        named = {*map(str, raw_models)}
        if isinstance(raw_classical, dict):
            named |= {*map(str, raw_classical)}
        _check_package(validated["package"], named, problems)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise PipelineError(f"{source}: {len(problems)} invalid param(s):\n{listing}")
    return PipelineConfig(seed=seed, models=models, classical=classical, **validated)  # type: ignore[arg-type]


def load_params(path: str | Path = DEFAULT_PARAMS_PATH) -> PipelineConfig:
    """Read and validate ``params.yaml``."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PipelineError(f"{path}: params file not found") from error
    except yaml.YAMLError as error:
        raise PipelineError(f"{path}: not valid YAML: {error}") from error
    return parse_params(raw, source=str(path))
