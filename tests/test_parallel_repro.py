"""The parallel runner (python -m jena_forecast.parallel) on copies of the tiny reproduced project:
real `dvc`, real Dask clusters started and closed by the runner or by the test.

Reruns are forced by editing the params of cheap stages: the two classical models, whose fits take
seconds, and the seed study's seeds (a bad value fails ``seeds@linear`` at its params check).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from dvc_project import ANCHORED_MODEL, commit_all, copy_project, edit_params, environment, run
from s3_store import S3Store

pytestmark = pytest.mark.slow

CHEAP = ("classical@ridge", "classical@hist_gbr")
LOG_DIR = Path("build") / "repro-logs"


def change_classical(project: Path) -> None:
    """New params for both classical models: both stages become stale, nothing upstream."""
    edit_params(
        project, **{"classical.ridge.alphas": [1.0, 10.0, 100.0], "classical.hist_gbr.max_iter": 12}
    )


def runner(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "jena_forecast.parallel", *arguments], project, check=False)


def run_record(project: Path) -> dict:
    return json.loads((project / LOG_DIR / "run.json").read_text())


def status(project: Path, *stages: str) -> str:
    return run(["dvc", "status", *stages], project).stdout


def lock_entries(project: Path) -> dict:
    return yaml.safe_load((project / "dvc.lock").read_text())["stages"]


@pytest.fixture(autouse=True)
def nothing_of_dask_left():
    """After each test: no process this test started is left, and none of them listens (the
    session's own servers, such as the S3 store, were running before it and are not its)."""
    earlier = {child.pid for child in psutil.Process().children(recursive=True)}

    def started() -> list[psutil.Process]:
        children = psutil.Process().children(recursive=True)
        return [child for child in children if child.pid not in earlier]

    yield
    deadline = time.monotonic() + 30
    while started() and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [" ".join(child.cmdline()) for child in started()]
    assert left == [], f"left running: {left}"
    listening = [c for c in psutil.Process().net_connections("tcp") if c.status == "LISTEN"]
    assert listening == [], f"left listening: {listening}"


def test_two_workers_run_independent_stages_at_once_and_dvc_status_is_clean(
    reproduced_project, tmp_path
):
    project = copy_project(reproduced_project, tmp_path / "project")
    change_classical(project)
    before = lock_entries(project)

    done = runner(project, "--jobs", "2", *CHEAP)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "dvc status: data and pipelines are up to date" in done.stdout
    record = run_record(project)
    assert record["order"] == list(CHEAP) and record["stale"] == list(CHEAP)
    ridge, hist_gbr = (record["stages"][name] for name in CHEAP)
    assert ridge["outcome"] == hist_gbr["outcome"] == "ran"
    assert ridge["worker"] != hist_gbr["worker"]
    overlap = min(ridge["ended"], hist_gbr["ended"]) - max(ridge["started"], hist_gbr["started"])
    print(
        f"ridge {ridge['seconds']:.1f} s, hist_gbr {hist_gbr['seconds']:.1f} s, "
        f"run at the same time for {overlap:.1f} s"
    )
    assert overlap > 0, "the two stages did not run at the same time"
    assert "up to date" in status(project, *CHEAP)
    after = lock_entries(project)
    assert after["classical@ridge"]["params"]["params.yaml"]["classical.ridge"]["alphas"] == [
        1.0,
        10.0,
        100.0,
    ]
    assert after["classical@hist_gbr"] != before["classical@hist_gbr"]
    assert after["windows"] == before["windows"]  # upstream untouched
    # Each stage's process got its share of the 2 workers' CPUs in TensorFlow's inter-op pool;
    # the pools that split sums keep their defaults, as under `dvc repro` (their sizes move bits).
    threads = max(1, (os.cpu_count() or 1) // 2)
    log = (project / LOG_DIR / "classical@ridge.log").read_text()
    assert f"TF_NUM_INTEROP_THREADS={threads}" in log
    for pool in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        inherited = os.environ.get(pool)  # the runner's own environment, passed on unchanged
        assert (f"{pool}={inherited}" in log) if inherited else (pool not in log), pool
    assert "Running stage 'classical@ridge'" in log


def test_a_failing_stage_stops_its_descendants_and_the_others_finish(reproduced_project, tmp_path):
    project = copy_project(reproduced_project, tmp_path / "project")
    edit_params(
        project,
        **{"classical.hist_gbr.max_iter": 12, "seed_study.seeds": [7, 7, 11]},  # a repeated seed
    )
    before = lock_entries(project)

    done = runner(project, "--jobs", "2")

    assert done.returncode == 1
    assert re.search(r"failed: seeds@linear \(exit \d+\)", done.stdout), done.stdout
    assert "seed_study.seeds: must be at least 3 distinct integers" in done.stdout  # its log
    record = run_record(project)
    anchored = f"anchored@{ANCHORED_MODEL}"  # its own seed study reads the same seeds
    assert record["stages"]["seeds@linear"]["outcome"] == "failed"
    assert record["stages"][anchored]["outcome"] == "failed"
    assert record["stages"]["classical@hist_gbr"]["outcome"] == "ran"  # upstream of neither
    assert record["skipped"]["ensemble"] == anchored  # below the anchored network, not seeds@
    for descendant in ("ensemble_seeds", "leaderboard", "report", "package"):
        assert record["skipped"][descendant] in ("seeds@linear", anchored)
        assert descendant not in record["stages"]
    not_run = re.search(r"not run, an upstream stage failed: (.*)", done.stdout)
    assert not_run, done.stdout
    skipped = not_run.group(1).split(", ")
    assert {"refit@linear", "ensemble", "ensemble_seeds", "leaderboard", "package"} <= set(skipped)
    assert skipped.index("ensemble_seeds") < skipped.index("leaderboard")  # in pipeline order
    after = lock_entries(project)
    assert after["seeds@linear"] == before["seeds@linear"]
    assert after["leaderboard"] == before["leaderboard"]
    assert "up to date" in status(project, "classical@hist_gbr")


def processes_in(directory: Path) -> list[str]:
    """Command lines of the live processes working in ``directory`` or below (Linux)."""
    found = []
    for process in psutil.process_iter(["cwd", "cmdline"]):
        cwd = process.info["cwd"]
        if cwd and (cwd == str(directory) or cwd.startswith(f"{directory}/")):
            found.append(" ".join(process.info["cmdline"] or []))
    return found


def dvc_lock_held(project: Path) -> bool:
    """Whether a process holds DVC's repository lock (.dvc/tmp/lock, an flock)."""
    path = project / ".dvc" / "tmp" / "lock"
    if not path.exists():
        return False
    with path.open("a") as stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(stream, fcntl.LOCK_UN)
    return False


def test_sigterm_stops_the_running_stages_and_a_rerun_resumes(reproduced_project, tmp_path):
    project = copy_project(reproduced_project, tmp_path / "project")
    change_classical(project)
    log = project / LOG_DIR / "classical@hist_gbr.log"
    head = subprocess.Popen(
        [sys.executable, "-m", "jena_forecast.parallel", "--jobs", "2", *CHEAP],
        cwd=project,
        env=environment(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (log.exists() and "Running stage" in log.read_text()):
        assert head.poll() is None, head.communicate()[0]
        assert time.monotonic() < deadline, "classical@hist_gbr never started"
        time.sleep(0.05)
    head.send_signal(signal.SIGTERM)  # the stage is importing its libraries: seconds to go
    output = head.communicate(timeout=120)[0]

    assert head.returncode == 128 + signal.SIGTERM, output
    assert "SIGTERM: stopping" in output and "run again to go on" in output
    assert processes_in(project) == [], "a stage or dvc outlived the runner"
    assert json.loads((project / ".dvc" / "tmp" / "rwlock").read_text()) in ({}, {"write": {}})
    assert not dvc_lock_held(project)
    assert not list(project.rglob(".*.tmp-*")), "a half-written output was left behind"
    first = run_record(project)
    assert first["interrupted"] == "SIGTERM"
    assert first["stages"]["classical@hist_gbr"]["outcome"] == "interrupted"
    finished = [name for name, stage in first["stages"].items() if stage["outcome"] == "ran"]
    assert "classical@hist_gbr" in status(project, *CHEAP)

    resumed = runner(project, "--jobs", "2", *CHEAP)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    second = run_record(project)
    assert "classical@hist_gbr" in second["order"]
    assert not set(finished) & set(second["order"]), "a finished stage ran again"
    assert "up to date" in status(project, *CHEAP)


def start_worker(address: str, clone: Path) -> subprocess.Popen[str]:
    """A `dask worker` started in ``clone``, as on another machine: one thread, no dashboard."""
    dask = Path(sys.executable).parent / "dask"
    return subprocess.Popen(
        [str(dask), "worker", address, "--nthreads", "1", "--nworkers", "1"]
        + ["--no-dashboard", "--memory-limit", "0", "--host", "127.0.0.1"],
        cwd=clone,
        env=environment(clone),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def use_store_keys(project: Path, store: S3Store) -> None:
    """This member's endpoint and keys for the committed remote, in .dvc/config.local."""
    for option, value in store.dvc_remote_settings().items():
        run(["dvc", "remote", "modify", "--local", "team", option, value], project)


def test_workers_in_two_clones_push_and_the_head_restores_their_stages(
    reproduced_project, tmp_path, s3_store
):
    """Two workers, each in its own clone, on loopback; the team's S3 remote (a real S3 server,
    tests/s3_store.py) between them and the head."""
    from distributed import Client, LocalCluster

    head = copy_project(reproduced_project, tmp_path / "head")
    run(["dvc", "remote", "add", "--default", "team", f"s3://{s3_store.bucket}/parallel"], head)
    change_classical(head)
    commit_all(head, "New params for both classical models, on the team's bucket")
    use_store_keys(head, s3_store)
    clones = [tmp_path / "clone-1", tmp_path / "clone-2"]
    for clone in clones:
        run(["git", "clone", "-q", str(head), str(clone)], tmp_path)
        use_store_keys(clone, s3_store)
    cluster = LocalCluster(
        n_workers=0, host="127.0.0.1", scheduler_port=0, dashboard_address=None, processes=True
    )
    workers = [start_worker(cluster.scheduler_address, clone) for clone in clones]
    try:
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=120)
        done = runner(head, "--scheduler", cluster.scheduler_address, *CHEAP)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.communicate(timeout=60)
        cluster.close()

    assert done.returncode == 0, done.stdout + done.stderr
    record = run_record(head)
    ridge, hist_gbr = (record["stages"][name] for name in CHEAP)
    assert ridge["outcome"] == hist_gbr["outcome"] == "ran"
    assert ridge["worker"] != hist_gbr["worker"]
    assert "up to date" in status(head, *CHEAP)
    assert s3_store.object_keys("parallel/files/md5/")  # the clones' outputs went through it
    for name in ("ridge", "hist_gbr"):  # the head has what a clone computed, data and metrics
        ran_in = [c for c in clones if (c / "data" / "forecasts" / f"{name}.npz").is_file()]
        assert ran_in
        for path in (f"data/forecasts/{name}.npz", f"metrics/models/{name}.json"):
            assert (head / path).read_bytes() == (ran_in[0] / path).read_bytes()


def test_the_final_check_commits_a_finished_stage_dvc_lock_lacks_and_names_the_others(
    reproduced_project, tmp_path
):
    """A stage the run finished whose outputs are in place but whose dvc.lock entry is missing
    (a `dvc` that ran the stage and failed to record it) is committed; one the run did not run is
    named, never left silently."""
    from jena_forecast.parallel.plan import make_plan
    from jena_forecast.parallel.runner import Outcome, final_check
    from jena_forecast.parallel.worker import StageRun

    project = copy_project(reproduced_project, tmp_path / "project")
    entries = lock_entries(project)
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    for name in CHEAP:
        del lock["stages"][name]
    (project / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    plan = make_plan(project)
    assert set(CHEAP) <= set(plan.stale)
    now = time.time()
    outcome = Outcome(plan, runs={CHEAP[0]: StageRun(CHEAP[0], "w", now, now, 0, "ran", "")})

    final_check(project, outcome)

    assert outcome.committed == [CHEAP[0]]
    assert outcome.stale == [CHEAP[1]]
    assert outcome.exit_code == 1
    assert lock_entries(project)[CHEAP[0]] == entries[CHEAP[0]]
    assert "up to date" in status(project, CHEAP[0])
