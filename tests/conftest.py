"""Shared fixtures: tiny configs and synthetic Jena-format files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

from synthetic import SyntheticJena  # noqa: E402

from jena_forecast.config import ParseConfig  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def parse_config() -> ParseConfig:
    return ParseConfig()


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
