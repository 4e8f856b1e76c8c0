"""`dvc exp run` and the experiments queue on the tiny project: params in, metrics out, as the README says."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from dvc_project import DENSE_CHANGE_STAGES, PROJECT_ROOT, environment, run, stages_run

pytestmark = pytest.mark.slow

QUEUE_TIMEOUT_SECONDS = (
    1800  # two tiny experiments take 3 minutes on 2 cores, 30 on 2 overloaded ones
)
QUEUE_POLL_SECONDS = 5


def experiments(project: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """`dvc exp show --json`: the data of HEAD and of each of its experiments, by name."""
    head = run(["git", "rev-parse", "HEAD"], project).stdout.strip()
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    baseline = next(row for row in shown if row["rev"] == head)
    named = {exp["name"]: exp["revs"][0] for exp in baseline["experiments"] or []}
    return baseline["data"], named


def dense_metrics(data: dict[str, Any]) -> dict[str, Any]:
    return data["metrics"]["metrics/scores/dense.json"]["data"]


def dense_units(data: dict[str, Any]) -> int:
    return data["params"]["params.yaml"]["data"]["models"]["dense"]["units"]


def test_exp_run_reruns_only_the_changed_model_and_exp_show_reports_its_metrics(project_copy):
    project = project_copy
    ran = run(["dvc", "exp", "run", "-S", "models.dense.units=8", "-n", "dense-8"], project)
    assert sorted(stages_run(ran.stdout)) == DENSE_CHANGE_STAGES
    assert "Ran experiment(s): dense-8" in ran.stdout

    baseline, named = experiments(project)
    assert set(named) == {"dense-8"}
    experiment = named["dense-8"]["data"]
    assert (dense_units(baseline), dense_units(experiment)) == (32, 8)
    workspace = json.loads((project / "metrics" / "scores" / "dense.json").read_text())
    assert dense_metrics(experiment) == workspace  # what the stage wrote is what exp show reports
    record = json.loads((project / "metrics" / "models" / "dense.json").read_text())
    assert workspace["val_mae_degc"] == record["val"]["mae_degc"]
    assert dense_metrics(experiment)["val_mae_degc"] != dense_metrics(baseline)["val_mae_degc"]
    # Models whose params did not change keep their metrics.
    for path in ("metrics/scores/gru.json", "metrics/scores/naive.json"):
        assert experiment["metrics"][path] == baseline["metrics"][path]


def queue_rows(project: Path) -> dict[str, str]:
    """Experiment name -> status (Queued, Running, Success, Failed, ...) from `dvc queue status`."""
    status = run(["dvc", "queue", "status"], project).stdout
    return dict(re.findall(r"^[0-9a-f]{7}\s+(\S+)\s+.*?\s(\w+)\s*$", status, flags=re.M))


def wait_for_queue(project: Path, names: set[str], timeout_seconds: float) -> dict[str, str]:
    """Poll `dvc queue status` until no experiment of ``names`` is queued or running."""
    deadline = time.monotonic() + timeout_seconds
    rows: dict[str, str] = {}
    while time.monotonic() < deadline:
        rows = queue_rows(project)
        if set(rows) >= names and not {rows[name] for name in names} & {"Queued", "Running"}:
            return rows
        time.sleep(QUEUE_POLL_SECONDS)
    logs = "\n".join(
        run(["dvc", "queue", "logs", name], project, check=False).stdout for name in names
    )
    raise AssertionError(
        f"the experiments queue did not finish within {timeout_seconds:.0f} s: {rows}\n{logs}"
    )


def start_queue(project: Path, workers: int) -> None:
    """`dvc queue start -j workers`, not waiting for the workers it leaves running.

    The workers inherit the command's stdout and stderr: read through pipes, the call would only
    return once the queue is empty, and a stuck queue would hang the test past any timeout.
    """
    log = project.parent / "queue-start.log"
    with log.open("w") as output:
        started = subprocess.run(
            ["dvc", "queue", "start", "-j", str(workers)],
            cwd=project,
            env=environment(project),
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
    assert started.returncode == 0, log.read_text()


def test_a_queued_sweep_runs_on_two_workers_and_every_experiment_has_metrics(project_copy):
    project = project_copy
    queued = run(
        ["dvc", "exp", "run", "--queue", "-S", "models.dense.units=4,16", "-n", "dense"], project
    )
    assert "Queued experiment 'dense-1'" in queued.stdout
    assert "Queued experiment 'dense-2'" in queued.stdout
    names = {"dense-1", "dense-2"}
    try:
        start_queue(project, workers=2)
        rows = wait_for_queue(project, names, QUEUE_TIMEOUT_SECONDS)
    finally:
        run(["dvc", "queue", "stop", "--kill"], project, check=False)
    assert {name: rows[name] for name in names} == {"dense-1": "Success", "dense-2": "Success"}

    for name in names:
        log = run(["dvc", "queue", "logs", name], project).stdout
        assert sorted(stages_run(log)) == DENSE_CHANGE_STAGES, log
    baseline, named = experiments(project)
    assert set(named) == names
    units = {name: dense_units(named[name]["data"]) for name in names}
    assert units == {"dense-1": 4, "dense-2": 16}
    scores = {name: dense_metrics(named[name]["data"]) for name in names}
    assert (
        len(
            {scores[name]["val_mae_degc"] for name in names}
            | {dense_metrics(baseline)["val_mae_degc"]}
        )
        == 3
    )  # each experiment trained its own model
    for score in scores.values():  # skill and MAE of one record, against one naive MAE
        naive_mae = score["val_mae_degc"] / (1 - score["val_skill"])
        assert naive_mae == pytest.approx(
            dense_metrics(baseline)["val_mae_degc"] / (1 - dense_metrics(baseline)["val_skill"])
        )
    # The workspace is untouched: queued experiments run in their own copies.
    assert run(["git", "status", "--porcelain"], project).stdout == ""
    assert dense_units(baseline) == 32


# README sections whose `dvc exp run` lines change only params the tiny project has (the
# Performance section's name models it leaves out).
DOCUMENTED = ("README.md", "docs/experiments.md", "docs/protocols.md", "docs/models.md")


def readme_experiment_commands() -> list[str]:
    """The `dvc exp run` lines of the shell blocks of the README and the guides, comments removed."""
    text = "".join((PROJECT_ROOT / name).read_text() for name in DOCUMENTED)
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = [re.sub(r"\s+#\s.*$", "", line) for block in blocks for line in block.splitlines()]
    return [line.strip() for line in lines if line.startswith("dvc exp run ")]


def test_the_readme_experiment_commands_are_accepted_by_dvc(project_copy):
    commands = readme_experiment_commands()
    assert len(commands) >= 5 and any("," in command for command in commands)
    for command in commands:
        words = shlex.split(command)
        if (
            "--queue" not in words
        ):  # queue it instead of running it: the params are applied the same way
            words.insert(3, "--queue")
        queued = run(words, project_copy, check=False)
        assert queued.returncode == 0 and "Queued experiment" in queued.stdout, (
            f"{command}\n{queued.stdout}\n{queued.stderr}"
        )
    run(["dvc", "queue", "remove", "--queued"], project_copy)
