"""``params.yaml`` read once and validated at the boundary into frozen typed objects.

A section's class lives beside the code that reads it (``DownloadConfig`` in ``data/download.py``,
``TrainConfig`` in ``training/config.py``, ...). A stage declares the sections it reads as the fields
of one ``Sections`` class, so it imports, and so depends on, the code of those sections alone::

    class Config(Sections):      # stages/normalize.py
        split: SplitConfig

    Config.load()                # every problem of every section it reads, in one PipelineError

``params.yaml`` holds every default: the classes hold none of their own, so a missing key is an
error that names it. A section's class may check itself against the other sections of the same
``Sections`` (``check``); models and classical entries are validated by the classes that need
their own rules (``models/spec.py``, ``classical/spec.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from jena_forecast.plumbing.errors import PipelineError

DEFAULT_PARAMS_PATH = Path("params.yaml")
MISSING = ": required param is missing"
# Rows of the leaderboard that are not entries of ``models`` or ``classical``: no model may take them.
RESERVED_MODEL_NAMES = ("naive", "ensemble")
M = TypeVar("M", bound=BaseModel)


class Frozen(BaseModel):
    """A validated, immutable group of params; unknown keys are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """Checks across sections, once every section of a ``Sections`` is validated: ``raw`` is
        all of params, ``values`` the validated sections by key (None where invalid)."""


def format_errors(prefix: str, error: ValidationError) -> list[str]:
    """One line per problem of ``error``, each naming the param (``prefix.key``) and what it got."""
    problems = []
    for item in error.errors():
        where = ".".join([*([prefix] if prefix else []), *(str(part) for part in item["loc"])])
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


def validate_section(model: type[M], prefix: str, raw: Any, problems: list[str]) -> M | None:
    """``raw`` validated as ``model``, or None after adding its problems to ``problems``."""
    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as error:
        problems.extend(format_errors(prefix, error))
        return None


def read_params(path: str | Path = DEFAULT_PARAMS_PATH) -> dict[str, Any]:
    """The params mapping of ``path``, or a PipelineError naming the file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PipelineError(f"{path}: params file not found") from error
    except yaml.YAMLError as error:
        raise PipelineError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise PipelineError(f"{path}: expected a mapping of params at the top level")
    return raw


class Sections(Frozen):
    """The sections of ``params.yaml`` one stage reads, one field each, named by their key.

    A field typed by a params class is that section, validated by it; ``seed`` is an integer.
    A subclass with fields of its own kind (``models``) validates them in ``collect``, then calls
    ``super().collect``; several such classes combine by inheritance (``class Config(ModelsConfig,
    ScoringConfig)``), each section validated once.
    """

    @classmethod
    def collect(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """Validate every field not yet in ``values``, then run each section's ``check``."""
        for key, field in cls.model_fields.items():
            if key in values:
                continue
            kind = field.annotation
            if key == "seed":
                values[key] = _integer(raw, key, problems)
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                values[key] = validate_section(kind, key, raw.get(key), problems)
        for key, field in cls.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, Frozen) and key in values:
                kind.check(raw, values, problems)

    @classmethod
    def from_raw(cls, raw: Any, source: str = "params.yaml") -> Self:
        """Validate a params mapping; raise one PipelineError that lists every problem found."""
        if not isinstance(raw, dict):
            raise PipelineError(f"{source}: expected a mapping of params at the top level")
        problems: list[str] = []
        values: dict[str, Any] = {}
        cls.collect(raw, values, problems)
        if problems:
            listing = "\n".join(f"  - {problem}" for problem in problems)
            raise PipelineError(f"{source}: {len(problems)} invalid param(s):\n{listing}")
        return cls.model_construct(**values)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PARAMS_PATH) -> Self:
        """Read ``params.yaml`` and validate the sections of this class."""
        return cls.from_raw(read_params(path), str(path))


def _integer(raw: dict[str, Any], key: str, problems: list[str]) -> int | None:
    if key not in raw:
        problems.append(f"{key}{MISSING}")
        return None
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(f"{key}: must be an integer. Received: {key}={value!r}")
        return None
    return value
