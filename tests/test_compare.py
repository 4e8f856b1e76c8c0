"""`python -m jena_forecast.compare A B`: paired differences of two revisions' forecasts, read
through DVC from a real git + DVC repository with two commits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from dvc_project import run

from jena_forecast.evaluation.compare import main
from jena_forecast.evaluation.forecasts import Forecasts, save_forecasts

WINDOWS = 3000
PIPELINE = {
    "vars": [
        {
            "paths": {
                "forecasts": "data/forecasts",
                "ensemble_forecasts": "data/ensemble_forecasts.npz",
            }
        }
    ],
    "stages": {},
}


def forecasts(error: np.ndarray, data: str = "rows=9000 sha256=0123456789ab") -> Forecasts:
    """Forecasts of ``WINDOWS`` windows per split whose error against the actual is ``error``."""
    rng = np.random.default_rng(0)
    actual = {split: rng.normal(size=WINDOWS) for split in ("val", "test")}
    return Forecasts(
        predicted={split: actual[split] + error for split in actual},
        actual=actual,
        naive={split: actual[split] + 1.0 for split in actual},
        anchors={
            split: np.arange(WINDOWS) + (0 if split == "val" else WINDOWS) for split in actual
        },
        target_mean=9.0,
        target_scale=2.0,
        data=data,
        protocol="dlwp2 lookback=72 step=6 delay=12",
    )


def commit(repo: Path, models: dict[str, Forecasts], message: str) -> None:
    folder = repo / "data" / "forecasts"
    folder.mkdir(parents=True, exist_ok=True)
    for name, kept in models.items():
        save_forecasts(folder / f"{name}.npz", kept)
    run(["dvc", "add", "data/forecasts"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", message], repo)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git + DVC repository whose commit ``first`` has gru and linear forecasts."""
    run(["git", "init", "-q", "-b", "main"], tmp_path)
    run(["git", "config", "user.email", "test@example.com"], tmp_path)
    run(["git", "config", "user.name", "test"], tmp_path)
    run(["dvc", "init", "-q"], tmp_path)
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(PIPELINE))
    project_params = Path(__file__).resolve().parents[1] / "params.yaml"
    (tmp_path / "params.yaml").write_text(project_params.read_text())
    rng = np.random.default_rng(1)
    noise = rng.normal(scale=0.5, size=WINDOWS)
    commit(tmp_path, {"gru": forecasts(noise), "linear": forecasts(noise + 0.3)}, "first")
    run(["git", "tag", "first"], tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rows(output: str) -> dict[str, list[str]]:
    lines = output.strip().splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["model"])
    return {line.split()[0]: line.split()[1:] for line in lines[header + 1 :]}


def test_an_unchanged_model_is_within_the_noise_and_a_better_one_is_better(repo, capsys):
    first = forecasts(np.random.default_rng(1).normal(scale=0.5, size=WINDOWS))
    # gru unchanged; linear's error, |N(0, 0.5) + 0.3| (0.51 on average), becomes 0.1 everywhere
    better = forecasts(np.full(WINDOWS, 0.1))
    commit(repo, {"gru": first, "linear": better}, "second")
    assert main(["first", "HEAD"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("val MAE, HEAD minus first")  # validation unless asked for test
    table = rows(output)
    assert [float(value) for value in table["gru"][2:5]] == [0.0, 0.0, 0.0]  # degC
    assert table["gru"][-3:] == ["within", "the", "noise"]
    assert table["linear"][-1] == "better"
    assert float(table["linear"][2]) < 0


def test_a_worse_revision_is_worse_and_one_model_can_be_picked(repo, capsys):
    worse = forecasts(np.full(WINDOWS, 2.0))
    commit(repo, {"gru": worse}, "second")
    assert main(["first", "workspace", "--model", "gru", "--split", "test"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("test split: for the change already chosen on validation")
    table = rows(output)
    assert list(table) == ["gru"] and table["gru"][-1] == "worse"


def test_forecasts_of_other_data_are_refused_with_the_reason(repo, capsys):
    other = forecasts(np.zeros(WINDOWS), data="rows=420551 sha256=fedcba987654")
    commit(repo, {"gru": other}, "second")
    assert main(["first", "HEAD", "--model", "gru"]) == 2
    error = capsys.readouterr().err
    assert "cannot compare first:gru with HEAD:gru" in error
    assert "data: first:gru has 'rows=9000 sha256=0123456789ab'" in error


def test_an_unknown_model_or_revision_is_a_clear_error(repo, capsys):
    assert main(["first", "HEAD", "--model", "lstm"]) == 2
    assert "first: no forecasts of model 'lstm'. It keeps: gru, linear" in capsys.readouterr().err
    assert main(["no-such-branch", "HEAD"]) == 2
    assert "no-such-branch: cannot read dvc.yaml of this revision" in capsys.readouterr().err
