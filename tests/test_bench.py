"""The bench scripts: each compares like with like, runs on tiny data and prints its table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jena_forecast.plumbing.errors import PipelineError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH = PROJECT_ROOT / "bench"
sys.path.insert(0, str(BENCH))

import repro_time  # noqa: E402
import training_throughput  # noqa: E402
import window_assembly  # noqa: E402

LOOKBACK, STEP, DELAY = 36, 6, 12


def row_numbered(rows: int) -> np.ndarray:
    """Every cell holds its row number, so a batch shows which rows each window took."""
    return np.repeat(np.arange(rows, dtype=np.float32)[:, None], 14, axis=1)


def small_args(method: str) -> object:
    return window_assembly.parse_arguments(
        [
            "--synthetic",
            "600",
            "--lookback",
            str(LOOKBACK),
            "--step",
            str(STEP),
            "--delay",
            str(DELAY),
            "--batch-size",
            "16",
            "--shuffle-buffer",
            "40",
            "--worker",
            method,
        ]
    )


@pytest.mark.parametrize("method", window_assembly.METHODS)
def test_every_method_assembles_the_same_window_geometry_from_training_rows(method):
    data = row_numbered(600)
    args = small_args(method)
    inputs, targets = (
        np.asarray(part) for part in window_assembly.batch_source(method, data, args, 3)()
    )
    assert inputs.shape == (16, LOOKBACK // STEP, 14)
    first = inputs[:, 0, 0]
    expected_rows = first[:, None] + STEP * np.arange(LOOKBACK // STEP)[None, :]
    np.testing.assert_array_equal(inputs[:, :, 0], expected_rows)
    last_input = inputs[:, -1, 0]
    # DLwP's listing puts its target `step` rows further ahead; the others `delay` rows.
    horizon = DELAY + STEP if method == "dlwp_generator" else DELAY
    np.testing.assert_array_equal(targets.reshape(-1), last_input + horizon)
    # Inputs in the training rows (the first half); DLwP's targets may run `delay` rows past them.
    assert first.min() >= 0 and last_input.max() < 300
    assert (last_input + horizon).max() < 300 + (DELAY if method == "dlwp_generator" else 0)
    assert len(np.unique(first)) > 1  # shuffled, not one window repeated


def test_training_throughput_refuses_an_unknown_model():
    with pytest.raises(PipelineError, match="model 'transformer' is not in params models"):
        training_throughput.main(["--synthetic", "100", "--models", "linear,transformer"])


def run_bench(script: str, *arguments: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def table_rows(output: str, header_start: str) -> list[str]:
    """The rows of the table whose header line starts with ``header_start``."""
    lines = output.splitlines()
    start = next(
        i
        for i, line in enumerate(lines[:-1])
        if line.startswith(header_start) and set(lines[i + 1]) == {"-", " "}
    )
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip() or line.startswith("("):
            break
        rows.append(line)
    return rows


@pytest.mark.slow
def test_window_assembly_prints_every_method_and_the_memory_table(tmp_path):
    array = tmp_path / "normalized.npy"
    np.save(array, np.random.default_rng(0).standard_normal((4000, 14), dtype=np.float32))
    output = run_bench(
        "window_assembly.py", "--array", str(array), "--batches", "3", "--shuffle-buffer", "50"
    )
    rows = table_rows(output, "method")
    assert [row.split()[0] for row in rows] == list(window_assembly.METHODS)
    assert rows[0].split()[2] == "1.00x"  # the project is the reference
    assert "(128, 240, 14) float64" in output  # DLwP's generator, as printed
    scaling = table_rows(output, "windows")
    assert len(scaling) == 4
    assert [row.split()[1] for row in scaling] == ["3", "3", "3", "12"]


@pytest.mark.slow
def test_training_throughput_prints_a_row_per_model():
    output = run_bench(
        "training_throughput.py",
        "--synthetic",
        "4000",
        "--models",
        "linear,seq2seq",
        "--steps",
        "2",
    )
    rows = table_rows(output, "model")
    assert [row.split()[0] for row in rows] == ["linear", "seq2seq"]
    assert rows[1].split()[3] == "n/a"  # no sequence targets from timeseries_dataset_from_array
    assert "input-bound" in output


@pytest.mark.slow
def test_training_levers_prints_every_lever_of_every_model():
    output = run_bench(
        "training_levers.py",
        "--synthetic",
        "4000",
        "--lookback",
        str(LOOKBACK),
        "--delay",
        str(DELAY),
        "--models",
        "dense",
        "--steps",
        "2",
        "--repeats",
        "1",
        "--val-steps",
        "1",
        "--spe",
        "2",
    )
    rows = table_rows(output, "model")
    levers = [row.split(None, 1)[1].rsplit(None, 6)[0] for row in rows]
    assert levers == ["plain", "xla", "spe 2", "1 thread", "xla+spe 2+1 thread", "spe 2+1 thread"]
    assert rows[0].split()[-1] == "1.00x"  # each lever's epoch against the plain one


@pytest.mark.slow
def test_repro_time_with_jobs_runs_the_parallel_runner():
    output = run_bench("repro_time.py", "--tiny", "--models", "linear", "--jobs", "2")
    stages = [row.split()[0] for row in table_rows(output, "stage")]
    assert {"download", "train@linear", "seeds@linear", "report"} <= set(stages)
    assert "critical path" in output
    assert "the runner from a clean workspace, 2 jobs:" in output
    assert "(no stage ran)" in output


@pytest.mark.slow
def test_repro_time_prints_every_stage_and_the_no_op_rerun():
    output = run_bench("repro_time.py", "--tiny", "--models", "linear")
    stages = [row.split()[0] for row in table_rows(output, "stage")]
    for stage in ["download", "train@linear", "evaluate@linear", "leaderboard", "report"]:
        assert stage in stages
    assert "dvc repro from a clean workspace:" in output
    assert "dvc repro again, nothing changed:" in output
    assert "(no stage ran)" in output


def processes_in(directory: Path) -> list[str]:
    """Command lines of the live processes whose working directory is ``directory`` (Linux)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc / "cwd")) == directory:
                found.append((proc / "cmdline").read_text().replace("\0", " "))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_repro_time_stopped_mid_stage_stops_dvc_and_resumes(tmp_path):
    """A kill of the script stops dvc and the running stage; --resume completes the run and
    counts the interrupted stage once, from the attempt that completed it."""
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, str(BENCH / "repro_time.py"), "--tiny", "--models", "linear"]
    bench = subprocess.Popen(
        [*command, "--keep", "--workdir", str(tmp_path)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as a shell starts `cmd &`: SIGINT ignored, which dvc and its stage must not inherit
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 600
    log = None
    while time.monotonic() < deadline:
        logs = list(tmp_path.glob("repro-time-*/repro-1.log"))
        if logs and "Running stage 'train@linear'" in logs[0].read_text():
            log = logs[0]
            break
        time.sleep(0.2)
    assert log is not None, "train@linear never started"
    bench.send_signal(signal.SIGTERM)
    bench.communicate(timeout=120)
    assert bench.returncode != 0
    root = log.parent
    assert processes_in(root / "project") == [], "dvc or a stage outlived the script"
    assert "exit" not in log.read_text().splitlines()[-1]

    resumed = run_bench("repro_time.py", "--resume", str(root))
    stages = [row.split()[0] for row in table_rows(resumed, "stage")]
    assert stages.count("train@linear") == 1 and "report" in stages
    assert "over 2 attempts" in resumed
    assert "Running stage 'train@linear'" in (root / "repro-2.log").read_text()


@pytest.mark.slow
def test_repro_time_resumes_a_kept_run(tmp_path):
    output = run_bench(
        "repro_time.py", "--tiny", "--models", "linear", "--keep", "--workdir", str(tmp_path)
    )
    (root,) = tmp_path.glob("repro-time-*")
    assert f"kept: {root}" in output
    resumed = run_bench(
        "repro_time.py", "--resume", str(root), "--refresh", "--force", "train@linear"
    )
    # The copy already had the current files; train@linear ran again on purpose, then its
    # evaluation (a new model file), and the table counts those times.
    logs = sorted(path.name for path in root.glob("repro-*.log"))
    assert logs == ["repro-1.log", "repro-2.log", "repro-3.log"]
    assert "Running stage 'train@linear'" in (root / "repro-2.log").read_text()
    stages = [row.split()[0] for row in table_rows(resumed, "stage")]
    assert "train@linear" in stages and "report" in stages
    assert "over 3 attempts" in resumed


def test_repro_time_counts_each_stage_once_over_interrupted_attempts(tmp_path):
    """A stage cut short is not counted; the attempt that completes it is. CPU marks tell a
    stage's own CPU time from what other processes took meanwhile."""
    first = tmp_path / "repro-1.log"
    first.write_text(
        "    2.000  Running stage 'download':\n"
        "    2.000  cpu 1.00 100.00\n"
        "    5.000  Updating lock file 'dvc.lock'\n"
        "    5.500  Running stage 'train@gru':\n"
        "    5.500  cpu 3.00 104.00\n"
        "   90.000  Epoch 1/20\n",  # killed here: no lock update, no exit line
        encoding="utf-8",
    )
    second = tmp_path / "repro-10.log"
    second.write_text(
        "    3.000  Running stage 'train@gru':\n"
        "    3.000  cpu 1.00 500.00\n"
        "  203.000  Updating lock file 'dvc.lock'\n"
        "  204.000  Running stage 'report':\n"
        "  204.000  cpu 391.00 900.00\n"  # train@gru: 390 s of its own, 10 s of other work
        "  206.000  Updating lock file 'dvc.lock'\n"
        "  206.500  cpu 392.00 905.00\n"
        "  206.500  (dvc repro exited)\n"
        "exit  0\n",
        encoding="utf-8",
    )
    assert repro_time.attempt_logs(tmp_path) == [first, second]
    interrupted, resumed = (repro_time.read_attempt(path) for path in (first, second))
    assert not interrupted.finished and resumed.finished
    assert interrupted.startup == 2.0 and interrupted.interrupted == pytest.approx(84.5)
    stages = repro_time.stage_times([interrupted, resumed])
    assert list(stages) == ["download", "train@gru", "report"]
    assert stages["download"] == repro_time.Stage(3.5, 2.0)
    assert stages["train@gru"] == repro_time.Stage(201.0, 10.0)
    assert stages["train@gru"].others_share(2) == pytest.approx(10.0 / 402)
    assert stages["report"] == repro_time.Stage(2.5, 4.0)
