"""The ensemble: members chosen on validation MAE alone, their 24 h forecasts averaged window by window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import section, tiny_artifacts

from jena_forecast.config import EnsembleConfig
from jena_forecast.data.normalize import column_stats
from jena_forecast.data.windows import window_spec
from jena_forecast.evaluation.ensemble import average_forecasts, ensemble_record, select_members
from jena_forecast.evaluation.forecasts import data_fingerprint, load_forecasts
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.errors import PipelineError
from stages import ensemble as ensemble_stage
from stages import ensemble_seeds as ensemble_seeds_stage


def record(val_mae: float, test_mae: float, parameters: int = 10, epochs: int = 3) -> dict:
    return {
        "val": {"mae_degc": val_mae},
        "test": {"mae_degc": test_mae},
        "parameters": parameters,
        "epochs": epochs,
        "train_seconds": 2.5,
    }


# Ranked by test MAE the order would be c, d, a, b; by validation MAE it is a, b, c, d.
RECORDS = {
    "a": record(1.0, 2.0),
    "b": record(1.1, 2.1),
    "c": record(1.2, 0.5),
    "d": record(1.3, 0.6),
}


def test_members_are_the_top_k_by_validation_mae_not_by_test():
    by_val = sorted(RECORDS, key=lambda name: RECORDS[name]["val"]["mae_degc"])
    for k in range(1, len(RECORDS) + 1):
        assert select_members(section(EnsembleConfig, top_k=k), RECORDS) == by_val[:k]
    # The test MAEs reversed (the best on test becomes the worst): the choice does not change.
    tests = [RECORDS[name]["test"]["mae_degc"] for name in RECORDS]
    reversed_test = {
        name: record(RECORDS[name]["val"]["mae_degc"], test_mae)
        for name, test_mae in zip(RECORDS, sorted(tests, reverse=True), strict=True)
    }
    for k in range(1, len(RECORDS) + 1):
        assert select_members(section(EnsembleConfig, top_k=k), reversed_test) == by_val[:k]


def test_selection_never_reads_the_test_split():
    without_test = {name: {"val": rec["val"]} for name, rec in RECORDS.items()}
    assert select_members(section(EnsembleConfig, top_k=2), without_test) == ["a", "b"]


def test_ties_on_validation_mae_are_broken_by_name():
    records = {"z": record(1.0, 1.0), "y": record(1.0, 9.0), "x": record(2.0, 0.1)}
    assert select_members(section(EnsembleConfig, top_k=2), records) == ["y", "z"]


def test_explicit_members_are_taken_as_given():
    config = section(EnsembleConfig, members=("d", "a"))
    assert select_members(config, RECORDS) == ["d", "a"]
    with pytest.raises(PipelineError, match=r"ensemble.members: no metrics for \['e'\]"):
        select_members(section(EnsembleConfig, members=("a", "e")), RECORDS)
    with pytest.raises(
        PipelineError, match="ensemble.top_k must be at most the 4 models evaluated"
    ):
        select_members(section(EnsembleConfig, top_k=5), RECORDS)


def test_average_is_the_window_by_window_mean_of_the_members():
    first = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    second = np.array([[3.0], [2.0], [0.0]], dtype=np.float32)
    third = np.array([[2.0], [5.0], [0.3]], dtype=np.float32)
    averaged = average_forecasts([first, second, third])
    assert averaged.dtype == np.float64
    assert averaged[:, 0] == pytest.approx([2.0, 3.0, 1.1])
    with pytest.raises(ValueError, match="members forecast different windows"):
        average_forecasts([first, second[:2]])


def test_record_has_a_model_shape_and_adds_up_the_members():
    scores = {"val": {"mae_degc": 0.9}, "test": {"mae_degc": 1.9}}
    built = ensemble_record(["a", "c"], RECORDS, scores)
    assert built["val"] == {"mae_degc": 0.9} and built["test"] == {"mae_degc": 1.9}
    assert built["members"] == ["a", "c"]
    members = [RECORDS["a"], RECORDS["c"]]
    assert built["member_val_mae_degc"] == {
        "a": RECORDS["a"]["val"]["mae_degc"],
        "c": RECORDS["c"]["val"]["mae_degc"],
    }
    assert (built["parameters"], built["epochs"]) == (
        sum(member["parameters"] for member in members),
        sum(member["epochs"] for member in members),
    )
    assert "train_seconds" not in built


@pytest.mark.slow
def test_ensemble_stage_averages_each_members_own_forecast(tmp_path):
    """Three untrained models, a point model, one with its own step_rows and a sequence model,
    evaluated by their stage: the ensemble averages the forecasts those stages kept."""
    from jena_forecast.data.windows import assemble_inputs
    from jena_forecast.evaluation.metrics import split_metrics
    from jena_forecast.models.registry import build_model
    from jena_forecast.training.fit import make_reproducible, model_window_spec
    from stages import evaluate as evaluate_stage

    names = ("linear", "conv1d_gru", "seq2seq")
    tiny = tiny_artifacts(tmp_path, names, ensemble={"top_k": 3})
    config = tiny.config
    assert config.models["conv1d_gru"].step_rows == 3
    base_spec, scale = window_spec(config.windows, tiny.scaler)
    data = np.load(tiny.normalized)
    anchors = dict(np.load(tiny.anchors))
    make_reproducible(0)
    expected: dict[str, list[np.ndarray]] = {"val": [], "test": []}
    write_json(tmp_path / "train.json", {"train_seconds": 1.0})
    for name in names:
        spec = config.models[name]
        window = model_window_spec(base_spec, spec)
        model = build_model(
            spec.builder,
            (window.timesteps, data.shape[1]),
            spec.builder_params,
            window.target_index if spec.residual else None,
            spec.aux_horizons,  # conv1d_gru's tuned recipe: a path to the 24 h target
        )
        model.save(tmp_path / f"{name}.keras")
        evaluate_stage.run(
            config,
            name,
            array_path=tiny.normalized,
            scaler_path=tiny.scaler,
            anchors_path=tiny.anchors,
            model_path=tmp_path / f"{name}.keras",
            summary_path=tmp_path / "train.json",
            metrics_path=tmp_path / f"{name}.json",
            scores_path=tmp_path / f"{name}.scores.json",
            horizons_path=tmp_path / f"{name}.tsv",
            table_path=tiny.table,
            predictions_path=tmp_path / f"{name}.csv",
            forecasts_path=tmp_path / f"{name}.npz",
        )
        for split in expected:
            raw = model.predict(assemble_inputs(data, anchors[split], window), verbose=0)
            # A sequence model's 24 h forecast: its last timestep's last horizon; a path's: its end.
            expected[split].append(raw[:, -1, -1] if raw.ndim == 3 else raw[:, -1])
    written = ensemble_stage.run(
        config,
        array_path=tiny.normalized,
        scaler_path=tiny.scaler,
        anchors_path=tiny.anchors,
        table_path=tiny.table,
        metrics_paths={name: tmp_path / f"{name}.json" for name in names},
        forecast_paths={name: tmp_path / f"{name}.npz" for name in names},
        ensemble_path=tmp_path / "ensemble.json",
        ensemble_forecasts_path=tmp_path / "ensemble.npz",
        predictions_path=tmp_path / "ensemble.csv",
        scores_path=tmp_path / "scores.json",
    )
    assert written == read_json(tmp_path / "ensemble.json")
    assert sorted(written["members"]) == sorted(names)
    kept = load_forecasts(tmp_path / "ensemble.npz")
    for split, forecasts in expected.items():
        mean = np.mean(np.stack(forecasts).astype(np.float64), axis=0)
        scores = split_metrics(mean, data, anchors[split], base_spec, scale)
        assert written[split]["mae_norm"] == pytest.approx(scores["mae_norm"], abs=2e-6)
        assert written[split]["naive_mae_degc"] == scores["naive_mae_degc"]
        assert written[split]["windows"] == len(anchors[split])
        assert kept.predicted[split] == pytest.approx(mean, abs=2e-6)
    table = pd.read_csv(tmp_path / "ensemble.csv")
    assert list(table.columns) == ["timestamp", "actual_degc", "predicted_degc", "naive_degc"]
    assert len(table) == len(anchors["test"])  # the tiny test split is shorter than two weeks
    target_mean, _ = column_stats(read_json(tiny.scaler), "T (degC)", "scaler.json")
    mean_test = np.mean(np.stack(expected["test"]).astype(np.float64), axis=0)
    assert table["predicted_degc"].to_numpy() == pytest.approx(
        mean_test * scale + target_mean, abs=2e-4
    )


def test_members_bring_the_forecasts_their_stages_kept(tmp_path):
    """A deep and a classical member: their kept forecasts are averaged; forecasts of other windows
    are refused, naming the stage to rerun."""
    from jena_forecast.evaluation.forecasts import forecasts_of, save_forecasts
    from jena_forecast.evaluation.metrics import split_metrics

    tiny = tiny_artifacts(tmp_path, ("linear",), ensemble={"members": ["linear", "ridge"]})
    config = tiny.config
    spec, scale = window_spec(config.windows, tiny.scaler)
    data = np.load(tiny.normalized)
    anchors = dict(np.load(tiny.anchors))
    member_values = {"linear": -0.5, "ridge": 0.25}
    for name, value in member_values.items():
        predicted = {split: np.full(len(anchors[split]), value) for split in ("val", "test")}
        kept = forecasts_of(predicted, data, anchors, spec, 9.0, scale, config.protocol())
        save_forecasts(tmp_path / f"{name}.npz", kept)
    write_json(tmp_path / "linear.json", record(1.0, 1.0))
    write_json(
        tmp_path / "ridge.json",
        {"val": {"mae_degc": 0.9}, "test": {"mae_degc": 0.8}, "train_seconds": 1.0},
    )

    def run() -> dict:
        return ensemble_stage.run(
            config,
            array_path=tiny.normalized,
            scaler_path=tiny.scaler,
            anchors_path=tiny.anchors,
            table_path=tiny.table,
            metrics_paths={name: tmp_path / f"{name}.json" for name in member_values},
            forecast_paths={name: tmp_path / f"{name}.npz" for name in member_values},
            ensemble_path=tmp_path / "ensemble.json",
            ensemble_forecasts_path=tmp_path / "ensemble.npz",
            predictions_path=tmp_path / "ensemble.csv",
            scores_path=tmp_path / "scores.json",
        )

    written = run()
    assert written["members"] == ["linear", "ridge"]
    linear_record = read_json(tmp_path / "linear.json")
    # ridge adds none of either
    assert (written["parameters"], written["epochs"]) == (
        linear_record["parameters"],
        linear_record["epochs"],
    )
    for split in ("val", "test"):
        mean = np.full(len(anchors[split]), (-0.5 + 0.25) / 2)
        expected = split_metrics(mean, data, anchors[split], spec, scale)
        assert written[split]["mae_norm"] == expected["mae_norm"]
        assert written[split]["skill_low"] <= written[split]["skill_vs_naive"]
    assert set(written["intervals"]) == {"p80", "p90"}
    assert written["data"] == load_forecasts(tmp_path / "ensemble.npz").data
    shorter = {
        split: anchors[split][:-1] if split == "val" else anchors[split] for split in anchors
    }
    predicted = {split: np.zeros(len(shorter[split])) for split in ("val", "test")}
    stale = forecasts_of(predicted, data, shorter, spec, 9.0, scale, config.protocol())
    save_forecasts(tmp_path / "ridge.npz", stale)
    with pytest.raises(PipelineError, match=r"ridge.npz: .* val windows .*; rerun classical@ridge"):
        run()
    save_forecasts(tmp_path / "linear.npz", stale)
    with pytest.raises(PipelineError, match=r"linear.npz: .*; rerun evaluate@linear"):
        run()


def test_ensemble_seed_study_averages_each_seeds_member_forecasts(tmp_path):
    """Seed by seed, a studied member's saved forecasts and a classical member's single fit are
    averaged and scored; the record has the seeds stage's shape."""
    from jena_forecast.evaluation.metrics import split_metrics
    from jena_forecast.evaluation.seed_study import mean_and_std
    from jena_forecast.plumbing.artifacts import save_arrays

    seeds = [4, 5, 6]
    tiny = tiny_artifacts(tmp_path, ("linear",), seed_study={"models": ["linear"], "seeds": seeds})
    base_spec, scale = window_spec(tiny.config.windows, tiny.scaler)
    data = np.load(tiny.normalized)
    anchors = dict(np.load(tiny.anchors))
    rng = np.random.default_rng(0)
    studied = {
        f"{split}_seed_{seed}": rng.normal(size=(len(anchors[split]), 1))
        for split in ("val", "test")
        for seed in seeds
    }
    # a classical stage keeps one value per window, (windows,), as jena_forecast.evaluation.forecasts does
    fixed = {split: rng.normal(size=len(anchors[split])) for split in ("val", "test")}
    save_arrays(tmp_path / "linear_seeds.npz", studied)
    save_arrays(tmp_path / "ridge.npz", fixed)
    write_json(tmp_path / "ensemble.json", {"members": ["linear", "ridge"]})

    def run() -> dict:
        return ensemble_seeds_stage.run(
            tiny.config,
            array_path=tiny.normalized,
            scaler_path=tiny.scaler,
            anchors_path=tiny.anchors,
            ensemble_path=tmp_path / "ensemble.json",
            metrics_path=tmp_path / "seeds.json",
            seed_forecast_paths={"linear": tmp_path / "linear_seeds.npz"},
            classical_forecast_paths={"ridge": tmp_path / "ridge.npz"},
            scores_path=tmp_path / "scores.json",
        )

    record = run()
    assert record == read_json(tmp_path / "seeds.json")
    assert record["seeds"] == seeds and record["members"] == ["linear", "ridge"]
    assert (record["fixed_members"], record["retrained_members"]) == (["ridge"], [])
    for split in ("val", "test"):
        maes = []
        for seed in seeds:
            mean = (studied[f"{split}_seed_{seed}"] + fixed[split].reshape(-1, 1)) / 2
            expected = split_metrics(mean, data, anchors[split], base_spec, scale)["mae_degc"]
            assert record["runs"][f"seed_{seed}"][split]["mae_degc"] == expected
            maes.append(expected)
        mean_mae, std_mae = mean_and_std(maes)
        assert record[split]["mae_degc_mean"] == pytest.approx(mean_mae, abs=1e-6)
        assert record[split]["mae_degc_std"] == pytest.approx(std_mae, abs=1e-6)
    assert record["protocol"] == tiny.config.protocol()
    assert record["data"] == data_fingerprint(data)

    save_arrays(tmp_path / "linear_seeds.npz", {**studied, "val_seed_5": studied["val_seed_5"][1:]})
    with pytest.raises(
        PipelineError,
        match=r"linear_seeds.npz: \d+ val_seed_5 forecasts for \d+ windows; rerun seeds@linear",
    ):
        run()
