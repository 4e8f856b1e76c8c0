"""One entry of ``classical`` validated into a ``ClassicalSpec``: its estimator and the estimator's
params, its hourly features checked against ``windows`` and ``parse``."""

from __future__ import annotations

from typing import Any

from jena_forecast.classical.params import ESTIMATOR_PARAMS, EstimatorParams
from jena_forecast.data.parse import ParseConfig
from jena_forecast.data.windows import WindowsConfig
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import (
    RESERVED_MODEL_NAMES,
    Frozen,
    Sections,
    validate_section,
)


class ClassicalSpec(Frozen):
    """One entry of ``classical``: which scikit-learn estimator and its params."""

    name: str
    estimator: str
    params: EstimatorParams


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
    params = validate_section(ESTIMATOR_PARAMS[estimator], prefix, entries, problems)
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


def validate_classical(
    raw: dict[str, Any],
    windows: WindowsConfig | None,
    parse: ParseConfig | None,
    problems: list[str],
) -> dict[str, ClassicalSpec]:
    """Every entry of ``classical``, its features checked against ``windows`` and ``parse`` and its
    name against ``models``; problems go to ``problems``."""
    raw_classical = raw.get("classical") or {}
    if not isinstance(raw_classical, dict):
        problems.append(
            f"classical: expected a mapping of model name to estimator params. Received: {raw_classical!r}"
        )
        return {}
    classical: dict[str, ClassicalSpec] = {}
    for name, entry in raw_classical.items():
        spec = _validate_classical(str(name), entry, windows, parse, problems)
        if spec is not None:
            classical[str(name)] = spec
    raw_models = raw.get("models") or {}
    if isinstance(raw_models, dict):
        _check_classical_names(raw_models, raw_classical, problems)
    return classical


class ClassicalConfig(Sections):
    """The scikit-learn baselines of ``classical`` and what they read: ``seed``, ``windows`` and
    ``parse`` (hourly features)."""

    seed: int
    windows: WindowsConfig
    parse: ParseConfig
    classical: dict[str, ClassicalSpec]

    @classmethod
    def collect(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        super().collect(raw, values, problems)
        if "classical" not in values:
            values["classical"] = validate_classical(
                raw, values.get("windows"), values.get("parse"), problems
            )

    def classical_model(self, name: str) -> ClassicalSpec:
        """The spec of classical model ``name``, or a PipelineError listing the known names."""
        if name not in self.classical:
            known = ", ".join(sorted(self.classical)) or "(none)"
            raise PipelineError(
                f"model {name!r} is not in params classical. Known classical models: {known}"
            )
        return self.classical[name]
