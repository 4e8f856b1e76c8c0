"""The seed study: each seed's scores, their mean and sample standard deviation, reproducibly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import tiny_artifacts

from jena_forecast.data.windows import load_windows, window_spec
from jena_forecast.evaluation.metrics import scores
from jena_forecast.evaluation.seed_study import mean_and_std, seed_study_record
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.errors import PipelineError
from stages import evaluate as evaluate_stage
from stages import seeds as seeds_stage
from stages import train as train_stage


def test_mean_and_sample_standard_deviation():
    mean, std = mean_and_std([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert std == pytest.approx(math.sqrt(5 / 3))  # ddof=1: the sum of squares over n - 1
    assert std == pytest.approx(np.std([1.0, 2.0, 3.0, 4.0], ddof=1))
    assert mean_and_std([2.0, 2.0, 2.0]) == (2.0, 0.0)
    with pytest.raises(ValueError, match="at least 2 values, got 1"):
        mean_and_std([1.0])


def run(val_mae: float, test_mae: float, naive: float = 2.0) -> dict:
    def split(mae: float) -> dict:
        return {
            "mae_degc": mae,
            "mae_norm": mae / 4,
            "naive_mae_degc": naive,
            "naive_mae_norm": naive / 4,
            "skill_vs_naive": round(1 - mae / naive, 6),
            "windows": 100,
        }

    return {
        "val": split(val_mae),
        "test": split(test_mae),
        "epochs": 5,
        "best_epoch": 4,
        "best_val_loss": 0.2,
        "train_seconds": 1.5,
        "parameters": 10,
    }


def test_record_holds_every_seed_and_the_mean_and_std_of_each_score():
    record = seed_study_record({1: run(1.0, 1.2), 2: run(1.2, 1.5), 3: run(1.4, 1.2)})
    assert record["seeds"] == [1, 2, 3]
    assert record["val"] == {
        "mae_degc_mean": 1.2,
        "mae_degc_std": 0.2,
        "skill_vs_naive_mean": 0.4,
        "skill_vs_naive_std": 0.1,
        "naive_mae_degc": 2.0,
        "windows": 100,
    }
    assert record["test"]["mae_degc_mean"] == 1.3
    assert record["test"]["mae_degc_std"] == pytest.approx(
        np.std([1.2, 1.5, 1.2], ddof=1), abs=1e-6
    )
    assert record["runs"]["seed_2"] == {
        "val": {"mae_degc": 1.2, "skill_vs_naive": 0.4},
        "test": {"mae_degc": 1.5, "skill_vs_naive": 0.25},
        "epochs": 5,
        "best_epoch": 4,
        "train_seconds": 1.5,
    }


@pytest.mark.slow
def test_study_is_reproducible_matches_the_train_stage_and_resumes_after_a_kill(
    tmp_path, monkeypatch
):
    import jena_forecast.training.fit as fit

    seeds = [5, 1337, 9]
    tiny = tiny_artifacts(
        tmp_path, ("linear",), seed=1337, seed_study={"models": ["linear"], "seeds": seeds}
    )
    paths = {
        "array_path": tiny.normalized,
        "scaler_path": tiny.scaler,
        "anchors_path": tiny.anchors,
    }

    def study(label: str, **given):
        """seeds@linear writing ``<label>.json`` and ``<label>.npz`` (``given`` adds or overrides)."""
        arguments = {
            **paths,
            "metrics_path": tmp_path / f"{label}.json",
            "forecasts_path": tmp_path / f"{label}.npz",
            "scores_path": tmp_path / "scores.json",
            **given,
        }
        return seeds_stage.run(tiny.config, "linear", **arguments)

    first = study("first")
    assert first == read_json(tmp_path / "first.json") and first["seeds"] == seeds
    maes = [first["runs"][f"seed_{seed}"]["val"]["mae_degc"] for seed in seeds]
    assert len(set(maes)) == 3  # the seeds do change the run
    assert first["val"]["mae_degc_mean"] == pytest.approx(np.mean(maes), abs=1e-6)
    assert first["val"]["mae_degc_std"] == pytest.approx(np.std(maes, ddof=1), abs=1e-6)

    # The project's own seed gives exactly what train@linear and evaluate@linear give.
    train_stage.run(
        tiny.config,
        "linear",
        **paths,
        model_path=tmp_path / "linear.keras",
        summary_path=tmp_path / "linear.train.json",
        log_dir=tmp_path / "dvclive",
        curve_path=tmp_path / "curve.tsv",
    )
    evaluated = evaluate_stage.run(
        tiny.config,
        "linear",
        **paths,
        model_path=tmp_path / "linear.keras",
        summary_path=tmp_path / "linear.train.json",
        metrics_path=tmp_path / "linear.json",
        horizons_path=tmp_path / "horizons.tsv",
        table_path=tiny.table,
        predictions_path=tmp_path / "predictions.csv",
        scores_path=tmp_path / "scores.json",
        forecasts_path=tmp_path / "linear.forecasts.npz",
    )
    for split in ("val", "test"):
        assert first["runs"]["seed_1337"][split]["mae_degc"] == evaluated[split]["mae_degc"]
    # Each seed's forecasts are saved, and score as that seed's run did.
    seed_forecasts = np.load(tmp_path / "first.npz")
    assert sorted(seed_forecasts.files) == sorted(
        f"{split}_seed_{seed}" for split in ("val", "test") for seed in seeds
    )
    base_spec, scale = window_spec(tiny.config.windows, tiny.scaler)
    data, anchors = load_windows(tiny.normalized, tiny.anchors)
    for seed in seeds:
        rescored = scores(
            {split: seed_forecasts[f"{split}_seed_{seed}"] for split in ("val", "test")},
            data,
            anchors,
            base_spec,
            scale,
        )
        for split in ("val", "test"):
            assert rescored[split]["mae_degc"] == first["runs"][f"seed_{seed}"][split]["mae_degc"]

    # Killed while training the second seed: a rerun keeps the first seed's scores.
    trained_seeds: list[int] = []
    train_model = fit.train_model

    def killed_at_second_seed(spec, seed, *args, **kwargs):
        if seed == seeds[1]:
            raise KeyboardInterrupt
        trained_seeds.append(seed)
        return train_model(spec, seed, *args, **kwargs)

    monkeypatch.setattr(fit, "train_model", killed_at_second_seed)
    checkpoints = tmp_path / "checkpoints"
    second_npz = tmp_path / "second.npz"
    with pytest.raises(KeyboardInterrupt):
        study("second", checkpoint_dir=checkpoints)
    assert (checkpoints / f"seed-{seeds[0]}.json").is_file()
    assert not (tmp_path / "second.json").exists()

    def counted(spec, seed, *args, **kwargs):
        trained_seeds.append(seed)
        return train_model(spec, seed, *args, **kwargs)

    monkeypatch.setattr(fit, "train_model", counted)
    second = study("second", checkpoint_dir=checkpoints)
    assert trained_seeds == seeds  # the first seed once, before the kill
    assert not checkpoints.exists()

    def without_times(record: dict) -> dict:
        runs = {
            key: {k: v for k, v in run.items() if k != "train_seconds"}
            for key, run in record["runs"].items()
        }
        return {**record, "runs": runs}

    assert without_times(second) == without_times(first)
    for key in seed_forecasts.files:  # the seed kept from before the kill gives its forecasts too
        np.testing.assert_array_equal(np.load(second_npz)[key], seed_forecasts[key])

    # Given evaluate@'s record and forecasts, the project's own seed is taken from them, not
    # trained again, and the study is the same (train_seconds aside, which only a retrain sets).
    trained_seeds.clear()
    kept = {
        "model_metrics_path": tmp_path / "linear.json",
        "model_forecasts_path": tmp_path / "linear.forecasts.npz",
    }
    third = study("third", **kept)
    assert trained_seeds == [5, 9] and third.pop("pipeline_run_seed") == 1337
    assert without_times(third) == without_times(first)
    for key in seed_forecasts.files:
        np.testing.assert_array_equal(np.load(tmp_path / "third.npz")[key], seed_forecasts[key])
    # The ensemble's seed study of a member without a study of its own also takes the project's
    # seed from evaluate@ and trains only the others; a one-member ensemble is that member.
    from stages import ensemble_seeds as ensemble_seeds_stage

    trained_seeds.clear()
    write_json(tmp_path / "ensemble.json", {"members": ["linear"]})
    ensemble = ensemble_seeds_stage.run(
        tiny.config,
        **paths,
        ensemble_path=tmp_path / "ensemble.json",
        metrics_path=tmp_path / "ensemble.seeds.json",
        scores_path=tmp_path / "scores.json",
        seed_forecast_paths={},
        classical_forecast_paths={},
        forecasts_path=tmp_path / "ensemble.npz",
        model_metrics_paths={"linear": kept["model_metrics_path"]},
        model_forecast_paths={"linear": kept["model_forecasts_path"]},
    )
    assert trained_seeds == [5, 9] and ensemble["retrained_members"] == ["linear"]
    for split in ("val", "test"):
        assert ensemble[split]["mae_degc_mean"] == first[split]["mae_degc_mean"]
    for key in seed_forecasts.files:  # each seed's ensemble forecasts, as a seeds stage keeps them
        np.testing.assert_allclose(np.load(tmp_path / "ensemble.npz")[key], seed_forecasts[key])
    # Forecasts of other data (a stale evaluate@) are refused, naming the stage to rerun.
    with pytest.raises(PipelineError, match=r"other data or windows .* rerun evaluate@linear"):
        study("stale", array_path=_shifted(tiny.normalized, tmp_path / "other.npy"), **kept)
    assert not (tmp_path / "stale.json").exists()


def _shifted(array_path, target):
    """A copy of the normalized array with every value moved a little: other data, same shape."""
    from jena_forecast.plumbing.artifacts import load_array, save_array

    save_array(target, load_array(array_path) + np.float32(0.01))
    return target


def test_only_a_model_of_the_study_is_studied(tmp_path):
    tiny = tiny_artifacts(tmp_path, ("linear", "dense"))
    with pytest.raises(PipelineError, match="model 'dense' is not in seed_study.models"):
        seeds_stage.run(
            tiny.config,
            "dense",
            array_path=tiny.normalized,
            scaler_path=tiny.scaler,
            anchors_path=tiny.anchors,
            metrics_path=tmp_path / "x.json",
            forecasts_path=tmp_path / "x.npz",
            scores_path=tmp_path / "scores.json",
        )
