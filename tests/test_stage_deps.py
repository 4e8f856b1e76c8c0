"""Every stage depends on the library code it runs, so editing any module reruns what it can change."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from conftest import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "tools"))
from stage_deps import library_closure, missing_deps  # noqa: E402


def test_every_stage_depends_on_every_library_file_it_imports():
    assert missing_deps() == []


def test_the_split_presets_and_the_window_code_reach_the_baselines():
    # config.py holds the split presets and the protocol; data/windows.py the naive forecast.
    for stage in ("baseline", "classical", "train", "evaluate", "seeds", "ensemble"):
        closure = library_closure(Path("stages") / f"{stage}.py")
        assert Path("src/jena_forecast/config.py") in closure, stage
        assert Path("src/jena_forecast/data/windows.py") in closure, stage
    # ... through function-level imports too (the classical estimators are imported in run()).
    classical = library_closure(Path("stages/classical.py"))
    assert Path("src/jena_forecast/classical/estimators.py") in classical


def test_a_dep_left_out_is_reported_with_its_stage(tmp_path):
    pipeline = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())
    baseline = pipeline["stages"]["baseline"]
    baseline["deps"].remove("src/jena_forecast/config.py")
    classical = pipeline["stages"]["classical"]["do"]
    classical["deps"].remove("src/jena_forecast/classical")
    edited = tmp_path / "dvc.yaml"
    edited.write_text(yaml.safe_dump(pipeline))
    problems = missing_deps(edited)
    assert "stage baseline: runs src/jena_forecast/config.py but does not depend on it" in problems
    assert (
        "stage classical: runs src/jena_forecast/classical/estimators.py but does not depend on it"
        in problems
    )
