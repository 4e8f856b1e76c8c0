"""All of ``params.yaml`` validated together: every section, every check across sections, and
unknown sections refused.

No stage imports this module: each stage validates the sections it reads (``plumbing/params.py``),
so it depends on their code alone. Tools, tests and ``python -m jena_forecast.config`` (which
checks a whole ``params.yaml`` at once, before a long run) use it. The section classes are
importable from here too, where they live beside the code that reads them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from jena_forecast.classical.spec import ClassicalConfig, ClassicalSpec
from jena_forecast.data.download import DownloadConfig
from jena_forecast.data.features import FeaturesConfig
from jena_forecast.data.normalize import SPLIT_PRESETS, SplitConfig
from jena_forecast.data.parse import ParseConfig
from jena_forecast.data.windows import WindowsConfig
from jena_forecast.evaluation.ensemble import EnsembleConfig
from jena_forecast.evaluation.intervals import IntervalsConfig
from jena_forecast.evaluation.scoring import ScoringConfig
from jena_forecast.evaluation.seed_study import SeedStudyConfig
from jena_forecast.evaluation.significance import SignificanceConfig
from jena_forecast.models.spec import ANCHORED, RECIPE_KEYS, ModelsConfig, ModelSpec
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import DEFAULT_PARAMS_PATH
from jena_forecast.refit.config import RefitConfig
from jena_forecast.serving.backtest import BacktestConfig, BacktestExport
from jena_forecast.serving.forecaster import BEST, PackageConfig
from jena_forecast.training.config import LrRangeTestConfig, TrainConfig

__all__ = [
    "BEST",
    "RECIPE_KEYS",
    "SPLIT_PRESETS",
    "BacktestConfig",
    "BacktestExport",
    "ClassicalSpec",
    "DownloadConfig",
    "EnsembleConfig",
    "FeaturesConfig",
    "IntervalsConfig",
    "LrRangeTestConfig",
    "ModelSpec",
    "PackageConfig",
    "ParseConfig",
    "PipelineConfig",
    "RefitConfig",
    "SeedStudyConfig",
    "SignificanceConfig",
    "SplitConfig",
    "TrainConfig",
    "WindowsConfig",
    "load_params",
    "parse_params",
]


class PipelineConfig(ModelsConfig, ClassicalConfig, ScoringConfig):
    """Every section of the pipeline, validated."""

    download: DownloadConfig
    lr_range_test: LrRangeTestConfig
    seed_study: SeedStudyConfig
    ensemble: EnsembleConfig
    refit: RefitConfig
    backtest: BacktestConfig
    package: PackageConfig

    @classmethod
    def collect(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        known = {*cls.model_fields, "recipes", ANCHORED}
        for key in sorted(set(raw) - known, key=str):
            problems.append(
                f"{key}: unknown param section. Expected one of: {', '.join(sorted(known))}"
            )
        super().collect(raw, values, problems)
        models = values.get("models") or {}
        classical = raw.get("classical") if isinstance(raw.get("classical"), dict) else None
        refit = values.get("refit")
        for name, spec in models.items():
            if spec.anchor is None:
                continue
            if classical is not None and spec.anchor not in classical:
                listing = ", ".join(map(str, classical)) or "(none)"
                problems.append(
                    f"{ANCHORED}.{name}.anchor: {spec.anchor!r} is not in classical. "
                    f"Expected one of: {listing}"
                )
            if refit is not None and spec.anchor not in refit.classical:
                problems.append(
                    f"{ANCHORED}.{name}.anchor: {spec.anchor!r} is not in refit.classical; the "
                    "network's refit and deployment fit start at its anchor's. Add it there"
                )


def parse_params(raw: Any, source: str = "params.yaml") -> PipelineConfig:
    """Validate a params mapping; raise one PipelineError that lists every problem found."""
    return PipelineConfig.from_raw(raw, source)


def load_params(path: str | Path = DEFAULT_PARAMS_PATH) -> PipelineConfig:
    """Read and validate the whole of ``params.yaml``."""
    return PipelineConfig.load(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m jena_forecast.config [params.yaml]``: every problem of every section at once."""
    path = Path((argv if argv is not None else sys.argv[1:] or [str(DEFAULT_PARAMS_PATH)])[0])
    try:
        config = load_params(path)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{path}: valid ({len(config.models)} models, {len(config.classical)} classical)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
