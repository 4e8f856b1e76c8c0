"""Team data versioning: `dvc push` to the committed default remote, then a fresh clone pulls it."""

from __future__ import annotations

import pytest
from dvc_project import run, stages_run

pytestmark = pytest.mark.slow

# .dvc/config's default remote: a directory beside the repository.
REMOTE_NAME = "jena-forecast-dvc-storage"


def test_push_then_clone_and_pull_gives_a_clean_workspace_that_reruns_nothing(reproduced_project):
    project = reproduced_project
    remote = project.parent / REMOTE_NAME
    pushed = run(["dvc", "push"], project).stdout
    assert "pushed" in pushed
    assert remote.is_dir() and any(path.is_file() for path in remote.rglob("*"))

    clone = project.parent / "clone"
    run(["git", "clone", "-q", str(project), str(clone)], project.parent)
    assert not (clone / "models" / "gru.keras").exists()
    run(["dvc", "pull"], clone)

    assert (clone / "models" / "gru.keras").read_bytes() == (
        project / "models" / "gru.keras"
    ).read_bytes()
    assert (clone / "data" / "interim" / "jena.parquet").is_file()
    assert "up to date" in run(["dvc", "status"], clone).stdout
    assert stages_run(run(["dvc", "repro"], clone).stdout) == []
    assert run(["git", "status", "--porcelain"], clone).stdout == ""
