"""The ``refit`` section of params: which models are fitted again on training + validation."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from jena_forecast.plumbing.params import Frozen


class RefitConfig(Frozen):
    """Models refitted on training + validation, chosen on validation: networks of ``models``
    (``refit@<name>``) and entries of ``classical`` (``refit_classical@<name>``)."""

    models: tuple[str, ...]
    classical: tuple[str, ...]

    @field_validator("models", "classical")
    @classmethod
    def _distinct(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(names)) != len(names):
            raise ValueError("must not name a model twice")
        return names

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """Every refitted network is one of ``models`` with a seed study (its seeds' early-stopping
        epochs are what the refit freezes); every refitted classical model one of ``classical``."""
        refit = values.get("refit")
        if refit is None:
            return
        networks = _names(raw.get("models"))
        classical = _names(raw.get("classical"))
        seed_study = values.get("seed_study")  # checked where that section is valid
        known: dict[str, Any]
        for key, names, known in (
            ("models", refit.models, networks),
            ("classical", refit.classical, classical),
        ):
            for name in names:
                if name not in known:
                    listing = ", ".join(map(str, known)) or "(none)"
                    problems.append(
                        f"refit.{key}: {name!r} is not in {key}. Expected names of: {listing}"
                    )
        studied: tuple[str, ...] = seed_study.models if seed_study is not None else ()
        for name in refit.models if seed_study is not None else ():
            if name in networks and name not in studied:
                problems.append(
                    f"refit.models: {name!r} has no seed study (seed_study.models); a network's refit "
                    "trains each seed for the epochs that seed's early stopping kept. Add it to "
                    "seed_study.models or leave it out of refit.models"
                )


def _names(section: Any) -> dict[str, Any]:
    return section if isinstance(section, dict) else {}
