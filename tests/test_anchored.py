"""Anchored networks: a network that starts at a classical model's forecast and learns what it
leaves. Untrained it is that forecast; its anchor column is the classical model's own forecast;
its params, stages and files refuse what they cannot serve."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fit_classical, tiny_artifacts, with_defaults

from jena_forecast.config import parse_params
from jena_forecast.data.anchor_column import model_data, with_anchor_column
from jena_forecast.data.windows import window_spec
from jena_forecast.evaluation.forecasts import load_forecasts
from jena_forecast.models.catalog import BUILDER_PARAMS
from jena_forecast.models.registry import build_model
from jena_forecast.plumbing.artifacts import load_array
from jena_forecast.plumbing.atomic import read_json
from jena_forecast.plumbing.errors import PipelineError
from stages import anchor_column as anchor_column_stage
from stages import evaluate as evaluate_stage
from stages import train as train_stage

TARGET = 1
ANCHORED = {
    "gru_on_ridge": {
        "anchor": "ridge",
        "builder": "gru",
        "recipe": "tuned",
        "units": 4,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
    }
}


def test_an_untrained_anchored_network_is_its_anchors_forecast_and_loads_safely(tmp_path):
    from jena_forecast.training.predict import load_model

    params = BUILDER_PARAMS["gru"](units=4, dropout=0.0, recurrent_dropout=0.0)
    model = build_model("gru", (12, 5 + 1), params, TARGET, 4, anchored=True)
    windows = np.random.default_rng(0).normal(size=(16, 12, 6)).astype(np.float32)
    out = model.predict(windows, verbose=0)
    now, anchor = windows[:, -1, TARGET], windows[:, -1, -1]
    np.testing.assert_allclose(out[:, -1], now + anchor, atol=1e-6)  # the 24 h point: the anchor's
    np.testing.assert_allclose(out[:, :-1], np.repeat(now[:, None], 3, axis=1), atol=1e-6)
    model.save(tmp_path / "anchored.keras")
    loaded = load_model(tmp_path / "anchored.keras")  # safe mode: named layers, no Lambda
    np.testing.assert_array_equal(loaded.predict(windows, verbose=0), out)
    with pytest.raises(ValueError, match="before the anchor"):
        build_model("gru", (12, 6), params, 5, 4, anchored=True)  # the target cannot be the anchor


def test_the_anchor_column_is_the_classical_models_own_forecast_and_the_stages_need_it(tmp_path):
    tiny = tiny_artifacts(tmp_path, ("linear",), anchored=ANCHORED, refit={"classical": ["ridge"]})
    fit_classical(tiny, "ridge", tmp_path)
    column_path = tmp_path / "gru_on_ridge.npy"
    anchor_column_stage.run(
        tiny.config,
        "gru_on_ridge",
        table_path=tiny.table,
        array_path=tiny.normalized,
        scaler_path=tiny.scaler,
        estimator_path=tmp_path / "ridge.skops",
        column_path=column_path,
    )
    column, data = load_array(column_path), load_array(tiny.normalized)
    ridge = load_forecasts(tmp_path / "ridge.npz")
    spec, _ = window_spec(tiny.config.windows, tiny.scaler)
    for split in ("val", "test"):
        anchors = ridge.anchors[split]
        now = data[anchors, spec.target_index]
        np.testing.assert_allclose(now + column[anchors], ridge.predicted[split], atol=1e-5)

    paths = {
        "array_path": tiny.normalized,
        "scaler_path": tiny.scaler,
        "anchors_path": tiny.anchors,
        "model_path": tmp_path / "gru_on_ridge.keras",
        "summary_path": tmp_path / "gru_on_ridge.train.json",
        "log_dir": tmp_path / "logs",
        "curve_path": tmp_path / "curve.tsv",
    }
    with pytest.raises(PipelineError, match="--anchor-column-path"):
        train_stage.run(tiny.config, "gru_on_ridge", **paths)
    train_stage.run(tiny.config, "gru_on_ridge", **paths, anchor_column_path=column_path)
    metrics = evaluate_stage.run(
        tiny.config,
        "gru_on_ridge",
        **{key: paths[key] for key in ("array_path", "scaler_path", "anchors_path")},
        model_path=paths["model_path"],
        summary_path=paths["summary_path"],
        metrics_path=tmp_path / "metrics.json",
        scores_path=tmp_path / "scores.json",
        horizons_path=tmp_path / "horizons.tsv",
        table_path=tiny.table,
        predictions_path=tmp_path / "predictions.csv",
        forecasts_path=tmp_path / "gru_on_ridge.npz",
        anchor_column_path=column_path,
    )
    # The same windows and naive forecast as the ridge model it starts at.
    assert (
        metrics["val"]["naive_mae_degc"]
        == read_json(tmp_path / "ridge.json")["val"]["naive_mae_degc"]
    )


def test_model_data_appends_the_column_only_for_an_anchored_network(tmp_path):
    data = np.zeros((10, 3), dtype=np.float32)
    np.save(tmp_path / "column.npy", np.arange(10, dtype=np.float32))
    joined = model_data(data, "a", "ridge", tmp_path / "column.npy")
    assert joined.shape == (10, 4) and joined[7, -1] == 7
    assert model_data(data, "plain", None, None) is data
    with pytest.raises(PipelineError, match="not anchored"):
        model_data(data, "plain", None, tmp_path / "column.npy")
    with pytest.raises(PipelineError, match="one per row"):
        with_anchor_column(data, np.zeros(9, dtype=np.float32))
    with pytest.raises(PipelineError, match="non-finite"):
        with_anchor_column(data, np.full(10, np.nan, dtype=np.float32))


GRU = {"builder": "gru", "units": 4, "dropout": 0.0, "recurrent_dropout": 0.0}


@pytest.mark.parametrize(
    ("entry", "refit_classical", "expected"),
    [
        (GRU, ["ridge"], "anchored.x.anchor: required"),
        ({**GRU, "anchor": "nope", "residual": True}, ["ridge"], "'nope' is not in classical"),
        ({**GRU, "anchor": "ridge", "residual": True}, [], "is not in refit.classical"),
        ({**GRU, "anchor": "ridge"}, ["ridge"], "residual: true"),
        (
            {
                "anchor": "ridge",
                "builder": "seq2seq",
                "units": 4,
                "layers": 1,
                "horizons": 4,
                "dropout": 0.0,
                "recurrent_dropout": 0.0,
                "residual": True,
            },
            ["ridge"],
            "sequence targets",
        ),
    ],
)
def test_anchored_params_name_a_refitted_classical_anchor_and_a_point_change_model(
    entry, refit_classical, expected
):
    raw = with_defaults(
        {
            "models": {"linear": {}},
            "classical": {"ridge": {}},
            "anchored": {"x": entry},
            "refit": {"models": [], "classical": refit_classical},
        }
    )
    with pytest.raises(PipelineError, match=expected):
        parse_params(raw)


def test_an_anchored_name_cannot_take_a_models_name():
    raw = with_defaults(
        {
            "models": {"linear": {}},
            "classical": {"ridge": {}},
            "anchored": {"linear": {**GRU, "anchor": "ridge", "residual": True}},
            "refit": {"models": [], "classical": ["ridge"]},
        }
    )
    with pytest.raises(PipelineError, match="anchored.linear: the name 'linear' is taken"):
        parse_params(raw)
    raw["anchored"] = {"gru_on_ridge": {**GRU, "anchor": "ridge", "residual": True}}
    config = parse_params(raw)
    assert config.anchored == ("gru_on_ridge",)
    assert config.model("gru_on_ridge").anchor == "ridge"


def test_the_learning_rate_range_test_takes_no_anchored_network(tmp_path):
    # Its stage has no anchor column: params name a network of models there, checked up front.
    with pytest.raises(PipelineError, match="lr_range_test.model: 'gru_on_ridge' is not in models"):
        tiny_artifacts(
            tmp_path,
            ("linear",),
            anchored=ANCHORED,
            refit={"classical": ["ridge"]},
            lr_range_test={"model": "gru_on_ridge"},
        )
