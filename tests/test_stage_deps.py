"""Every stage depends on the library code it runs, and on nothing else it does not read: editing a
module or a param reruns exactly the stages it can change."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT
from dvc.dependency.param import ParamsDependency
from dvc.repo import Repo

sys.path.insert(0, str(PROJECT_ROOT / "tools"))
from stage_deps import library_closure, missing_deps  # noqa: E402

LIB = "src/jena_forecast"
DATA_CHAIN = ("download", "parse", "features", "normalize", "windows")
AGGREGATES = ("ensemble", "ensemble_seeds", "leaderboard", "report", "package")


def test_every_stage_depends_on_every_library_file_it_imports():
    assert missing_deps() == []


def test_the_split_presets_and_the_window_code_reach_the_stages_that_score():
    # data/normalize.py holds the split presets, data/windows.py the naive forecast.
    for stage in ("baseline", "classical", "train", "evaluate", "seeds", "ensemble"):
        closure = library_closure(Path("stages") / f"{stage}.py")
        assert Path(f"{LIB}/data/normalize.py") in closure, stage
        assert Path(f"{LIB}/data/windows.py") in closure, stage
    # ... through function-level imports too (the classical estimators are imported in run()).
    classical = library_closure(Path("stages/classical.py"))
    assert Path(f"{LIB}/classical/estimators.py") in classical


def test_the_data_chain_imports_no_model_training_or_scoring_code():
    for stage in DATA_CHAIN:
        closure = {str(path) for path in library_closure(Path("stages") / f"{stage}.py")}
        assert closure, stage
        for package in ("models", "training", "classical", "evaluation", "serving"):
            assert not [path for path in closure if path.startswith(f"{LIB}/{package}/")], stage
        assert f"{LIB}/config.py" not in closure, stage


def test_a_dep_left_out_is_reported_with_its_stage(tmp_path):
    pipeline = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())
    baseline = pipeline["stages"]["baseline"]
    baseline["deps"].remove("${lib}/data/normalize.py")
    classical = pipeline["stages"]["classical"]["do"]
    classical["deps"].remove("${lib}/classical")
    edited = tmp_path / "dvc.yaml"
    edited.write_text(yaml.safe_dump(pipeline))
    problems = missing_deps(edited)
    assert f"stage baseline: runs {LIB}/data/normalize.py but does not depend on it" in problems
    assert (
        f"stage classical: runs {LIB}/classical/estimators.py but does not depend on it" in problems
    )


@pytest.fixture(scope="module")
def pipeline_stages(tmp_path_factory) -> dict[str, tuple[list[str], list[str]]]:
    """Every stage of the project's real dvc.yaml as DVC expands it, with one backtest export
    named: its code and data deps (paths) and its params keys."""
    root = tmp_path_factory.mktemp("pipeline")
    shutil.copy(PROJECT_ROOT / "dvc.yaml", root / "dvc.yaml")
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["backtest"]["exports"] = {"later": {"path": "data/backtest/later.csv"}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    Repo.init(str(root), no_scm=True)
    stages = {}
    for stage in Repo(str(root)).index.stages:
        paths = [str(dep.def_path) for dep in stage.deps if not isinstance(dep, ParamsDependency)]
        keys = [
            key for dep in stage.deps if isinstance(dep, ParamsDependency) for key in dep.params
        ]
        stages[stage.name] = (paths, keys)
    return stages


def stale_after_editing(stages: dict, path: str) -> set[str]:
    """The stages `dvc status` shows changed after ``path`` is edited: a dep is that file or a
    folder above it."""
    return {
        name
        for name, (paths, _) in stages.items()
        if any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in paths)
    }


def stale_after_setting(stages: dict, key: str) -> set[str]:
    """The stages whose params change when ``key`` (dotted) changes value: a tracked key is that
    key, a section above it or a key below it."""

    def related(tracked: str) -> bool:
        return tracked == key or key.startswith(tracked + ".") or tracked.startswith(key + ".")

    return {name for name, (_, keys) in stages.items() if any(map(related, keys))}


def test_a_backtest_change_stales_only_the_backtest_stages(pipeline_stages):
    backtests = {name for name in pipeline_stages if name.startswith("backtest@")}
    assert backtests == {"backtest@later"}
    assert stale_after_setting(pipeline_stages, "backtest.exports.later.sha256") == backtests
    assert stale_after_editing(pipeline_stages, f"{LIB}/serving/backtest.py") == backtests
    assert stale_after_editing(pipeline_stages, f"{LIB}/serving/station.py") == backtests


def test_one_models_params_stale_its_stages_and_what_aggregates_every_model(pipeline_stages):
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    studied = set(params["seed_study"]["models"])
    swept = params["lr_range_test"]["model"]
    for model in ("gru", "dense", "conv1d"):
        own = {f"train@{model}", f"evaluate@{model}"}
        own |= {f"seeds@{model}"} if model in studied else set()
        own |= {"lr_range_test"} if model == swept else set()
        expected = own | set(AGGREGATES) | {"backtest@later"}
        assert stale_after_setting(pipeline_stages, f"models.{model}.units") == expected, model


def test_training_code_stales_the_networks_but_not_the_data_or_the_classical_fits(
    pipeline_stages,
):
    stale = stale_after_editing(pipeline_stages, f"{LIB}/training/fit.py")
    trains = {name for name in pipeline_stages if name.startswith(("train@", "seeds@"))}
    assert trains <= stale
    untouched = set(DATA_CHAIN) | {"baseline"}
    untouched |= {name for name in pipeline_stages if name.startswith("classical@")}
    assert not stale & untouched
    # A model's params class stales the networks' stages, never the data chain or classical.
    assert not stale_after_editing(pipeline_stages, f"{LIB}/models/catalog.py") & untouched


def test_a_data_stage_reruns_for_its_own_code_only(pipeline_stages):
    assert stale_after_editing(pipeline_stages, f"{LIB}/data/download.py") == {
        "download",
        *AGGREGATES,
        "backtest@later",
    }
    assert "download" not in stale_after_editing(pipeline_stages, f"{LIB}/data/parse.py")
    assert "download" not in stale_after_setting(pipeline_stages, "windows.lookback_rows")
