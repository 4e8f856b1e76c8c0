"""`python -m jena_forecast.compare A B`: paired differences of two revisions' forecasts, read
through DVC from a real git + DVC repository with two commits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from dvc_project import run

from jena_forecast.comparison.revisions import main
from jena_forecast.evaluation.forecasts import Forecasts, save_forecasts
from jena_forecast.plumbing.artifacts import save_arrays

WINDOWS = 3000
PIPELINE = {
    "vars": [
        {
            "paths": {
                "forecasts": "data/forecasts",
                "ensemble_forecasts": "data/ensemble_forecasts.npz",
                "seed_forecasts": "data/seed_forecasts",
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


def commit(
    repo: Path,
    models: dict[str, Forecasts],
    message: str,
    studies: dict[str, dict[int, np.ndarray]] | None = None,
) -> None:
    """Commit ``models``' forecasts and, per model of ``studies``, a seed study: each seed's
    forecasts (``{seed: error}``, against the same actuals)."""
    folder = repo / "data" / "forecasts"
    folder.mkdir(parents=True, exist_ok=True)
    for name, kept in models.items():
        save_forecasts(folder / f"{name}.npz", kept)
    run(["dvc", "add", "data/forecasts"], repo)
    if studies:
        seeds_folder = repo / "data" / "seed_forecasts"
        seeds_folder.mkdir(parents=True, exist_ok=True)
        for name, errors in studies.items():
            actual = forecasts(np.zeros(WINDOWS)).actual
            save_arrays(
                seeds_folder / f"{name}.npz",
                {
                    f"{split}_seed_{seed}": (actual[split] + error).reshape(-1, 1)
                    for seed, error in errors.items()
                    for split in ("val", "test")
                },
            )
        run(["dvc", "add", "data/seed_forecasts"], repo)
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
    table = [line for line in lines[header + 1 :] if not line.startswith("single runs")]
    return {line.split()[0]: line.split()[1:] for line in table}


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
    assert "no-such-branch: no such branch, tag, commit or experiment" in capsys.readouterr().err


def test_seed_studies_on_both_sides_put_the_seed_noise_in_the_verdict(repo, capsys):
    """Two kept runs 0.3 apart (seed offsets 0.4 and 0.1) are told apart by the windows alone;
    over the seeds, the means differ by 0.1 against a seed spread of 0.2: within the noise."""
    noise = np.random.default_rng(1).normal(scale=0.5, size=WINDOWS)

    def study(*offsets: float) -> dict[str, dict[int, np.ndarray]]:
        return {"gru": {seed: noise + offset for seed, offset in enumerate(offsets, start=1)}}

    commit(repo, {"gru": forecasts(noise + 0.4)}, "kept run")
    run(["git", "tag", "kept"], repo)
    commit(repo, {"gru": forecasts(noise + 0.4)}, "its seed study", study(0.4, 0.2, 0.0))
    run(["git", "tag", "studied"], repo)
    run(["git", "rm", "-q", "data/seed_forecasts.dvc"], repo)
    commit(repo, {"gru": forecasts(noise + 0.1)}, "another run, no study")

    def compared(first: str) -> tuple[list[str], dict[str, list[str]], str]:
        assert main([first, "HEAD", "--model", "gru"]) == 0
        output = capsys.readouterr().out
        header = next(line for line in output.splitlines() if line.startswith("model"))
        return header.split()[1:], rows(output), output

    columns, table, output = compared("kept")
    seeds = columns.index("first_seeds"), columns.index("second_seeds")
    assert [table["gru"][i] for i in seeds] == ["1", "1"] and table["gru"][-1] == "better"
    assert "single runs on both sides (gru)" in output
    columns, table, output = compared("studied")
    assert [table["gru"][i] for i in seeds] == ["3", "1"] and table["gru"][-3:] == [
        "within",
        "the",
        "noise",
    ]
    commit(repo, {"gru": forecasts(noise + 0.1)}, "its seed study", study(0.1, 0.3, 0.5))
    columns, table, output = compared("studied")
    assert [table["gru"][i] for i in seeds] == ["3", "3"]
    assert float(table["gru"][1]) > float(table["gru"][0])  # seed means: 0.3 against 0.2
    assert table["gru"][-3:] == ["within", "the", "noise"]
    assert "single runs on both sides" not in output
