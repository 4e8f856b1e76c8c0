"""Faults while writing outputs: a killed or failing write never leaves a partial or stale-looking file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from conftest import with_defaults
from synthetic import SyntheticJena

import jena_forecast.plumbing.atomic as atomic
from jena_forecast.config import parse_params
from jena_forecast.plumbing.atomic import write_json
from jena_forecast.plumbing.errors import PipelineError
from stages import baseline as baseline_stage
from stages import download as download_stage
from stages import normalize as normalize_stage
from stages import parse as parse_stage
from stages import windows as windows_stage


class KilledError(BaseException):
    """Stands in for a kill between writing a temporary file and renaming it into place."""


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob(".*tmp-*"))


def test_disk_full_names_the_file_keeps_the_old_one_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "metrics" / "naive.json"
    write_json(target, {"old": 1})

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(PipelineError) as caught:
        write_json(target, {"new": 2})
    assert str(caught.value) == (
        f"{target}: cannot write output: No space left on device; free some disk space and "
        "rerun the stage; the previous file, if any, is left untouched"
    )
    monkeypatch.undo()
    assert target.read_text() == '{\n  "old": 1\n}\n'
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root ignores directory permissions, so chmod cannot make a directory read-only",
)
def test_read_only_directory_is_a_clear_error(tmp_path):
    directory = tmp_path / "out"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        with pytest.raises(
            PipelineError,
            match=r"out/x.json: cannot write output: Permission denied; make the directory writable",
        ):
            write_json(directory / "x.json", {"a": 1})
        assert list(directory.iterdir()) == []
    finally:
        directory.chmod(0o700)


@pytest.mark.parametrize(
    ("error_number", "hint"),
    [
        (errno.EROFS, "the file system is read-only; write the outputs elsewhere"),
        (errno.EACCES, "make the directory writable and rerun the stage"),
    ],
)
def test_a_read_only_file_system_or_directory_is_a_clear_error(
    tmp_path, monkeypatch, error_number, hint
):
    # Simulated where the temporary file is created, so it also runs as root (which ignores
    # directory permissions) and without a read-only mount.
    target = tmp_path / "metrics" / "naive.json"
    write_json(target, {"old": 1})

    def refuse(*args, **kwargs):
        raise OSError(error_number, os.strerror(error_number))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(PipelineError) as caught:
        write_json(target, {"new": 2})
    assert str(caught.value) == (
        f"{target}: cannot write output: {os.strerror(error_number)}; {hint}; "
        "the previous file, if any, is left untouched"
    )
    monkeypatch.undo()
    assert target.read_text() == '{\n  "old": 1\n}\n'
    assert leftovers(tmp_path) == []


def test_an_output_directory_that_cannot_exist_is_a_clear_error(tmp_path):
    (tmp_path / "metrics").write_text("a file where a directory should be")
    target = tmp_path / "metrics" / "models" / "naive.json"
    with pytest.raises(PipelineError) as caught:
        write_json(target, {})
    assert str(caught.value) == (
        f"{target}: cannot write output: {tmp_path / 'metrics'} is a file, not a directory; "
        "move it out of the way and rerun the stage"
    )
    with (
        pytest.raises(PipelineError, match=r"metrics is a file, not a directory"),
        atomic.atomic_dir(tmp_path / "metrics" / "dvclive"),
    ):
        pass


def test_temporaries_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    stale = tmp_path / ".naive.tmp-abc123.json"
    stale.write_text('{"half": ')
    other = tmp_path / ".other.tmp-abc123.json"
    other.write_text("{}")
    write_json(tmp_path / "naive.json", {"a": 1})
    assert not stale.exists() and other.exists()


def run_stages(project: Path) -> dict[str, bytes]:
    """download .. baseline on a tiny file, in ``project``; return every output's bytes."""
    raw = parse_params(
        with_defaults(
            {
                "download": {"source": "mirror", "mirror": str(project / "mirror.zip")},
                "windows": {"lookback_rows": 36, "step_rows": 6, "delay_rows": 6},
            }
        )
    )
    csv_path = project / "data" / "raw" / "jena.csv"
    download_stage.run(
        raw,
        embedded_zip_path=project / "not-used.zip",  # source mirror
        csv_path=csv_path,
        record_path=project / "metrics" / "download.json",
    )
    table = project / "data" / "interim" / "jena.parquet"
    parse_stage.run(
        raw,
        csv_path=csv_path,
        table_path=table,
        quality_path=project / "metrics" / "data_quality.json",
    )
    array, scaler, split = (
        project / "data" / "processed" / n for n in ("a.npy", "s.json", "p.json")
    )
    normalize_stage.run(
        raw, table_path=table, array_path=array, scaler_path=scaler, split_path=split
    )
    anchors = project / "data" / "windows" / "anchors.npz"
    windows_stage.run(
        raw,
        array_path=array,
        scaler_path=scaler,
        split_path=split,
        anchors_path=anchors,
        summary_path=project / "data" / "windows" / "w.json",
    )
    baseline_stage.run(
        raw,
        array_path=array,
        scaler_path=scaler,
        anchors_path=anchors,
        metrics_path=project / "metrics" / "naive.json",
        scores_path=(project / "metrics" / "naive.json").with_name("scores.json"),
        forecasts_path=project / "data" / "forecasts" / "naive.npz",
    )
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file() and p.name != "mirror.zip"
    }


def test_a_kill_at_any_rename_leaves_only_complete_outputs(tmp_path, monkeypatch):
    (tmp_path / "clean").mkdir()
    SyntheticJena(rows=400).write_zip(tmp_path / "clean" / "mirror.zip")
    complete = run_stages(tmp_path / "clean")
    assert len(complete) == 12  # download .. baseline: 12 outputs
    real_replace = os.replace
    for kill_at in range(1, len(complete) + 1):
        project = tmp_path / f"killed-{kill_at}"
        project.mkdir()
        SyntheticJena(rows=400).write_zip(project / "mirror.zip")
        calls = {"n": 0}

        def replace_or_die(source, destination, calls=calls, kill_at=kill_at):
            calls["n"] += 1
            if calls["n"] == kill_at:
                raise KilledError
            real_replace(source, destination)

        monkeypatch.setattr(atomic.os, "replace", replace_or_die)
        with pytest.raises(KilledError):
            run_stages(project)
        monkeypatch.setattr(atomic.os, "replace", real_replace)
        written = {
            str(p.relative_to(project)): p.read_bytes()
            for p in project.rglob("*")
            if p.is_file() and p.name != "mirror.zip"
        }
        assert len(written) == kill_at - 1
        for name, content in written.items():
            if name != "metrics/download.json":  # holds the mirror's own path
                assert content == complete[name], name
        assert leftovers(project) == []


def test_disk_full_while_a_stage_writes_its_table(tmp_path, monkeypatch):
    import pandas as pd

    csv_path = SyntheticJena(rows=50).write_csv(tmp_path / "jena.csv")
    table = tmp_path / "interim" / "jena.parquet"

    def full_disk(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1 half a table")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(PipelineError, match=rf"{table}: cannot write output: No space left"):
        parse_stage.run(
            parse_params(with_defaults({})),
            csv_path=csv_path,
            table_path=table,
            quality_path=tmp_path / "quality.json",
        )
    assert list(table.parent.iterdir()) == [] and not (tmp_path / "quality.json").exists()
