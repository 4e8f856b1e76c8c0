"""Refits on training + validation: their rows, frozen choices, records, and that a refit on the
fit's own rows gives the fit's own forecasts (so the refit repeats the fit, on more rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import fit_classical, tiny_artifacts, with_defaults

from jena_forecast.config import parse_params
from jena_forecast.data.normalize import SplitBounds
from jena_forecast.evaluation.forecasts import load_forecasts
from jena_forecast.plumbing.artifacts import load_array, load_arrays, save_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.tables import read_table
from stages import evaluate as evaluate_stage
from stages import refit as refit_stage
from stages import refit_classical as refit_classical_stage
from stages import refit_ensemble as refit_ensemble_stage
from stages import refit_windows as refit_windows_stage
from stages import seeds as seeds_stage
from stages import train as train_stage

SEEDS = [5, 1337, 9]


def _tiny(tmp_path: Path):
    return tiny_artifacts(
        tmp_path,
        ("linear",),
        seed=1337,
        seed_study={"models": ["linear"], "seeds": SEEDS},
        refit={"models": ["linear"], "classical": ["ridge", "hist_gbr"]},
    )


def _fit_rows_as_refit(tiny, directory: Path) -> dict[str, Path]:
    """Refit inputs that are the fit's own: its array, scaler and training windows."""
    scaler = read_json(tiny.scaler)
    write_json(directory / "same_scaler.json", scaler)
    save_arrays(directory / "same_anchors.npz", load_arrays(tiny.anchors, ("train", "test")))
    return {
        "refit_array_path": tiny.normalized,
        "refit_scaler_path": directory / "same_scaler.json",
        "refit_anchors_path": directory / "same_anchors.npz",
    }


def _refit_windows(tiny, directory: Path) -> dict[str, Path]:
    paths = {
        "refit_array_path": directory / "refit.npy",
        "refit_scaler_path": directory / "refit_scaler.json",
        "refit_anchors_path": directory / "refit_anchors.npz",
    }
    refit_windows_stage.run(
        tiny.config,
        table_path=tiny.table,
        scaler_path=tiny.scaler,
        split_path=tiny.table.parent / "split.json",
        anchors_path=tiny.anchors,
        **paths,
    )
    return paths


def test_refit_rows_are_train_and_val_on_their_own_statistics_with_the_same_test_windows(tmp_path):
    tiny = _tiny(tmp_path)
    paths = _refit_windows(tiny, tmp_path)
    bounds = SplitBounds.from_dict(read_json(tmp_path / "split.json"))
    table = read_table(tiny.table)
    scaler = read_json(paths["refit_scaler_path"])
    assert scaler["fitted_on"] == "train+val" and scaler["fitted_rows"] == [0, bounds.val[1]]
    known = table.iloc[: bounds.val[1]].astype("float64")
    for column in table.columns:
        assert scaler["columns"][column]["mean"] == pytest.approx(known[column].mean(), rel=1e-9)
        assert scaler["columns"][column]["scale"] == pytest.approx(
            known[column].std(ddof=0), rel=1e-9
        )
    refit, fit = (
        load_arrays(paths["refit_anchors_path"], ("train", "test")),
        load_arrays(tiny.anchors, ("train", "val", "test")),
    )
    np.testing.assert_array_equal(refit["test"], fit["test"])
    assert set(fit["train"]) | set(fit["val"]) <= set(refit["train"])
    assert len(refit["train"]) > len(fit["train"]) + len(fit["val"])  # and across the boundary
    assert refit["train"].max() + tiny.config.windows.delay_rows < bounds.test[0]  # no test row
    normalized = load_array(paths["refit_array_path"])
    assert not np.allclose(normalized, load_array(tiny.normalized), equal_nan=True)


def test_network_refit_on_the_fits_own_rows_is_each_seeds_fit_and_on_more_rows_is_scored(
    tmp_path,
):
    tiny = _tiny(tmp_path)
    rows = {"array_path": tiny.normalized, "scaler_path": tiny.scaler, "anchors_path": tiny.anchors}
    study = seeds_stage.run(
        tiny.config,
        "linear",
        **rows,
        metrics_path=tmp_path / "seeds.json",
        scores_path=tmp_path / "seeds.scores.json",
        forecasts_path=tmp_path / "seeds.npz",
    )
    train_stage.run(
        tiny.config,
        "linear",
        **rows,
        model_path=tmp_path / "linear.keras",
        summary_path=tmp_path / "linear.train.json",
        log_dir=tmp_path / "dvclive",
        curve_path=tmp_path / "curve.tsv",
    )
    evaluate_stage.run(
        tiny.config,
        "linear",
        **rows,
        model_path=tmp_path / "linear.keras",
        summary_path=tmp_path / "linear.train.json",
        metrics_path=tmp_path / "linear.json",
        horizons_path=tmp_path / "horizons.tsv",
        table_path=tiny.table,
        predictions_path=tmp_path / "predictions.csv",
        scores_path=tmp_path / "scores.json",
        forecasts_path=tmp_path / "linear.npz",
    )
    fit_inputs = {
        "fit_forecasts_path": tmp_path / "linear.npz",
        "seed_forecasts_path": tmp_path / "seeds.npz",
        "seed_metrics_path": tmp_path / "seeds.json",
    }

    def refit(label: str, refit_rows: dict[str, Path]) -> dict:
        return refit_stage.run(
            tiny.config,
            "linear",
            **refit_rows,
            **fit_inputs,
            metrics_path=tmp_path / f"{label}.json",
            scores_path=tmp_path / f"{label}.scores.json",
            forecasts_path=tmp_path / f"{label}.npz",
        )

    same = refit("same", _fit_rows_as_refit(tiny, tmp_path))
    fitted = np.load(tmp_path / "seeds.npz")
    refitted = np.load(tmp_path / "same.npz")
    for seed in SEEDS:  # the epochs early stopping kept, from the seed's own start: its weights
        np.testing.assert_allclose(
            refitted[f"test_seed_{seed}"], fitted[f"test_seed_{seed}"].reshape(-1), atol=1e-6
        )
        assert same["runs"][f"seed_{seed}"]["epochs"] == study["runs"][f"seed_{seed}"]["best_epoch"]
    assert same["vs_fit"]["difference_degc"] == pytest.approx(0.0, abs=1e-6)
    assert same["test"]["mae_degc_mean"] == pytest.approx(study["test"]["mae_degc_mean"], abs=1e-6)

    more = refit("more", _refit_windows(tiny, tmp_path))
    assert more["seeds"] == SEEDS and more["fitted_on"] == "train+val"
    assert more["train_windows"] > same["train_windows"]
    assert more["vs_fit"]["fit_mae_degc_mean"] == pytest.approx(
        study["test"]["mae_degc_mean"], abs=1e-6
    )
    maes = [more["runs"][f"seed_{seed}"]["test"]["mae_degc"] for seed in SEEDS]
    assert more["test"]["mae_degc_mean"] == pytest.approx(np.mean(maes), abs=1e-6)
    assert (
        more["test"]["mae_degc_low"]
        <= more["test"]["mae_degc_mean"]
        <= more["test"]["mae_degc_high"]
    )
    assert not np.allclose(np.load(tmp_path / "more.npz")["test_seed_5"], refitted["test_seed_5"])
    assert set(read_json(tmp_path / "more.scores.json")) == {
        "test_mae_degc",
        "test_skill",
        "test_skill_low",
        "test_skill_high",
        "gain_vs_fit_degc",
    }


@pytest.mark.parametrize("name, frozen", [("ridge", "alpha"), ("hist_gbr", "iterations")])
def test_classical_refit_keeps_the_fits_choice_and_on_its_rows_is_the_fit(tmp_path, name, frozen):
    tiny = _tiny(tmp_path)
    fit = fit_classical(tiny, name, tmp_path)

    def refit(label: str, refit_rows: dict[str, Path]) -> dict:
        return refit_classical_stage.run(
            tiny.config,
            name,
            table_path=tiny.table,
            **refit_rows,
            fit_forecasts_path=tmp_path / f"{name}.npz",
            fit_metrics_path=tmp_path / f"{name}.json",
            metrics_path=tmp_path / f"{label}.json",
            scores_path=tmp_path / f"{label}.scores.json",
            forecasts_path=tmp_path / f"{label}.npz",
        )

    same = refit("same", _fit_rows_as_refit(tiny, tmp_path))
    assert same["frozen"] == {frozen: fit[frozen]}
    np.testing.assert_allclose(
        np.load(tmp_path / "same.npz")["test_seed_1337"],
        load_forecasts(tmp_path / f"{name}.npz").predicted["test"],
        atol=1e-9,
    )
    assert same["test"]["mae_degc_mean"] == pytest.approx(fit["test"]["mae_degc"], abs=1e-6)
    assert same["test"]["mae_degc_std"] == 0.0 and same["vs_fit"]["difference_degc"] == 0.0
    more = refit("more", _refit_windows(tiny, tmp_path))
    assert more["frozen"] == same["frozen"] and more["train_windows"] > same["train_windows"]
    assert more["test"]["mae_degc_mean"] != same["test"]["mae_degc_mean"]


def test_ensemble_refit_averages_its_members_refits_or_names_those_not_refitted(tmp_path):
    tiny = _tiny(tmp_path)
    rows = _refit_windows(tiny, tmp_path)
    refits = {}
    for name in ("ridge", "hist_gbr"):
        fit_classical(tiny, name, tmp_path)
        refit_classical_stage.run(
            tiny.config,
            name,
            table_path=tiny.table,
            **rows,
            fit_forecasts_path=tmp_path / f"{name}.npz",
            fit_metrics_path=tmp_path / f"{name}.json",
            metrics_path=tmp_path / "refit" / f"{name}.json",
            scores_path=tmp_path / "scores.json",
            forecasts_path=tmp_path / "refit_forecasts" / f"{name}.npz",
        )
        refits[name] = np.load(tmp_path / "refit_forecasts" / f"{name}.npz")["test_seed_1337"]
    fit = load_forecasts(tmp_path / "ridge.npz")  # its windows; the ensemble's seed runs below
    save_arrays(
        tmp_path / "ensemble_seeds.npz",
        {f"test_seed_{seed}": fit.predicted["test"] + 0.01 * seed for seed in SEEDS},
    )

    def refit(members: list[str]) -> dict:
        write_json(tmp_path / "ensemble.json", {"members": members})
        return refit_ensemble_stage.run(
            tiny.config,
            ensemble_path=tmp_path / "ensemble.json",
            ensemble_forecasts_path=tmp_path / "ridge.npz",
            ensemble_seed_forecasts_path=tmp_path / "ensemble_seeds.npz",
            refit_forecasts_dir=tmp_path / "refit_forecasts",
            metrics_path=tmp_path / "ensemble.refit.json",
            scores_path=tmp_path / "ensemble.refit.scores.json",
            forecasts_path=tmp_path / "ensemble.refit.npz",
        )

    record = refit(["ridge", "hist_gbr"])
    mean = (refits["ridge"] + refits["hist_gbr"]) / 2
    for seed in SEEDS:  # classical members: their single refit joins every seed
        np.testing.assert_allclose(
            np.load(tmp_path / "ensemble.refit.npz")[f"test_seed_{seed}"], mean
        )
    assert record["vs_fit"]["fit_seeds"] == SEEDS and record["test"]["mae_degc_std"] == 0.0
    assert refit(["ridge", "linear_not_refitted"]) == {
        "members": ["ridge", "linear_not_refitted"],
        "not_refitted": ["linear_not_refitted"],
    }
    assert read_json(tmp_path / "ensemble.refit.scores.json") == {}


def test_refit_params_name_models_with_what_a_refit_freezes():
    raw = with_defaults(
        {
            "models": {"gru": {}, "lstm": {}},
            "seed_study": {"models": ["gru"]},
            "classical": {"ridge": {}},
        }
    )
    raw["refit"] = {"models": ["gru"], "classical": ["ridge"]}
    assert parse_params(raw).refit.models == ("gru",)
    raw["refit"] = {"models": ["lstm", "nope"], "classical": ["ridge"]}
    with pytest.raises(PipelineError) as caught:
        parse_params(raw)
    assert "refit.models: 'lstm' has no seed study" in str(caught.value)
    assert "refit.models: 'nope' is not in models" in str(caught.value)
    raw["refit"] = {"models": [], "classical": ["ridge", "ridge"]}
    with pytest.raises(PipelineError, match="refit.classical: must not name a model twice"):
        parse_params(raw)


def test_a_plateau_schedule_cannot_be_refitted(tmp_path):
    from jena_forecast.refit.network import refit_network

    tiny = _tiny(tmp_path)
    spec = tiny.config.model("linear")
    plateau = spec.model_copy(
        update={"train": spec.train.model_copy(update={"lr_schedule": "plateau"})}
    )
    with pytest.raises(PipelineError, match="plateau follows the validation loss"):
        refit_network(plateau, 1, np.zeros((10, 2), np.float32), np.arange(3), None, 1)  # type: ignore[arg-type]
