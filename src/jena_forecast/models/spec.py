"""One entry of ``models`` validated into a ``ModelSpec``: its builder and the builder's params, its
recipe, training overrides over ``train``, and its geometry checked against ``windows``."""

from __future__ import annotations

from typing import Any

from pydantic import (
    PositiveInt,
)

from jena_forecast.data.windows import WindowsConfig
from jena_forecast.models.catalog import BUILDER_PARAMS, BuilderParams
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import (
    MISSING,
    RESERVED_MODEL_NAMES,
    Frozen,
    Sections,
    validate_section,
)
from jena_forecast.training.config import TrainConfig


class ModelSpec(Frozen):
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
    anchor: str | None = (
        None  # an entry of ``anchored``: the classical model its forecast starts at
    )

    @property
    def target_kind(self) -> str:
        """``point``, ``sequence`` (see BuilderParams) or ``path``: a point model that also
        forecasts ``aux_horizons - 1`` earlier points, (batch, horizons)."""
        return "path" if self.aux_horizons else self.builder_params.target_kind

    @property
    def horizons(self) -> int | None:
        """How many points of the path to the 24 h target the model forecasts; None: one."""
        return self.aux_horizons or getattr(self.builder_params, "horizons", None)


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


# The params section of the networks whose output starts at a classical model's forecast: they
# are models like those of ``models`` (every tool sees them there), each with an ``anchor``.
ANCHORED = "anchored"
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
    section: str = "models",
) -> ModelSpec | None:
    prefix = f"{section}.{name}"
    if not isinstance(raw, dict):
        raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        problems.append(f"{prefix}: expected a mapping of model params. Received: {raw!r}")
        return None
    anchor = None
    if section == ANCHORED:
        raw = dict(raw)
        anchor = raw.pop("anchor", None)
        if not isinstance(anchor, str) or not anchor:
            problems.append(
                f"{prefix}.anchor: required, the name of a model of classical whose forecast the "
                f"network starts at (such as ridge_anchor). Received: {prefix}.anchor={anchor!r}"
            )
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
    builder_params = validate_section(BUILDER_PARAMS[builder], prefix, entries, problems)
    before = len(problems)
    _check_model_geometry(prefix, step_rows, lookback_rows, builder_params, windows, problems)
    _check_aux_horizons(prefix, aux_horizons, builder_params, windows, problems)
    if not isinstance(overrides, dict):
        problems.append(
            f"{prefix}.train: expected a mapping of training params. Received: {overrides!r}"
        )
        return None
    if train_defaults is None:  # invalid defaults: the overrides are still checked on their own
        own: list[str] = []
        validate_section(TrainConfig, f"{prefix}.train", overrides, own)
        problems.extend(problem for problem in own if not problem.endswith(MISSING))
        return None
    train = validate_section(
        TrainConfig, f"{prefix}.train", {**train_defaults.model_dump(), **overrides}, problems
    )
    if builder_params is None or train is None or len(problems) > before:
        return None
    if anchor is not None and (builder_params.target_kind != "point" or not residual):
        problems.append(
            f"{prefix}: an anchored network forecasts one point (or a path to it, aux_horizons) "
            f"as a change, residual: true; it corrects the change {anchor!r} forecasts. Received: "
            f"{builder!r} with {builder_params.target_kind} targets, residual: {residual}"
        )
        return None
    return ModelSpec(
        name=name,
        builder=builder,
        builder_params=builder_params,
        train=train,
        step_rows=step_rows,
        lookback_rows=lookback_rows,
        aux_horizons=aux_horizons,
        residual=residual,
        recipe=recipe,
        anchor=anchor,
    )


def validate_models(
    raw: dict[str, Any],
    train: TrainConfig | None,
    windows: WindowsConfig | None,
    problems: list[str],
) -> dict[str, ModelSpec]:
    """Every entry of ``models`` with its recipe applied, ``train`` beneath its own, and its
    geometry checked against ``windows``; problems go to ``problems``."""
    raw_models = raw.get("models") or {}
    if not isinstance(raw_models, dict):
        problems.append(
            f"models: expected a mapping of model name to params. Received: {raw_models!r}"
        )
        return {}
    for name in raw_models:
        if name in RESERVED_MODEL_NAMES:
            problems.append(
                f"models.{name}: the name {name!r} is reserved for a leaderboard row "
                f"({', '.join(RESERVED_MODEL_NAMES)}); rename the model"
            )
    recipes = _validate_recipes(raw.get("recipes"), problems)
    models: dict[str, ModelSpec] = {}
    for name, entry in raw_models.items():
        spec = _validate_model(str(name), entry, train, windows, problems, recipes)
        if spec is not None:
            models[str(name)] = spec
    raw_anchored = raw.get(ANCHORED) or {}
    if not isinstance(raw_anchored, dict):
        problems.append(
            f"{ANCHORED}: expected a mapping of model name to params. Received: {raw_anchored!r}"
        )
        return models
    for name, entry in raw_anchored.items():
        if name in raw_models or name in RESERVED_MODEL_NAMES:
            problems.append(
                f"{ANCHORED}.{name}: the name {name!r} is taken (by models or a leaderboard "
                "row); rename the model"
            )
            continue
        spec = _validate_model(str(name), entry, train, windows, problems, recipes, ANCHORED)
        if spec is not None:
            models[str(name)] = spec
    return models


class ModelsConfig(Sections):
    """The networks of ``models`` and ``anchored`` and what fits them: ``seed``, ``windows``,
    ``train`` (each model's own ``train`` and recipe on top)."""

    seed: int
    windows: WindowsConfig
    train: TrainConfig
    models: dict[str, ModelSpec]

    @classmethod
    def collect(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        super().collect(raw, values, problems)
        if "models" not in values:
            values["models"] = validate_models(
                raw, values.get("train"), values.get("windows"), problems
            )

    def model(self, name: str) -> ModelSpec:
        """The spec of model ``name``, or a PipelineError listing the known names."""
        if name not in self.models:
            known = ", ".join(sorted(self.models)) or "(none)"
            raise PipelineError(f"model {name!r} is not in params models. Known models: {known}")
        return self.models[name]

    @property
    def anchored(self) -> tuple[str, ...]:
        """The networks of ``anchored``: each has its own seed study, refit and deployment fit."""
        return tuple(name for name, spec in self.models.items() if spec.anchor is not None)
