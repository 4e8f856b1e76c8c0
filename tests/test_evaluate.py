"""The evaluation is exact: every window once, a per-window mean, no target outside its split.

DLwP's published evaluation had three flaws: it dropped the last partial batch, averaged batch means
(which over-weights a short last batch) and let targets near a split's end come from the next split.
"""

import numpy as np
import pytest
from conftest import section, with_defaults

from jena_forecast.config import parse_params
from jena_forecast.data.windows import WindowSpec, split_anchors
from jena_forecast.evaluation.metrics import scores, split_metrics
from jena_forecast.models.catalog import LinearParams
from jena_forecast.models.registry import build_model
from jena_forecast.training.predict import predict_paths, predict_windows

SPEC = WindowSpec(lookback_rows=24, step_rows=6, delay_rows=12, target_index=0)


def noisy_series(rows: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.1, size=(rows, 2)), axis=0)


def accelerating_series(rows: int) -> np.ndarray:
    """Target ``(t / 100) ** 2``, second column ``-t / 100``: the change over ``delay_rows`` grows
    with ``t``, so later windows have larger errors and a short last batch differs from the rest."""
    t = np.arange(rows, dtype=np.float64)
    return np.stack([(t / 100) ** 2, -t / 100], axis=1).astype(np.float32)


def linear_model_reading(spec: WindowSpec, features: int, timestep: int, bias: float):
    """The project's linear model with weights set so that it forecasts the target column at input
    ``timestep`` (0 the oldest) of each window, plus ``bias``."""
    model = build_model("linear", (spec.timesteps, features), section(LinearParams))
    kernel = np.zeros((spec.timesteps * features, 1), dtype=np.float32)
    kernel[timestep * features + spec.target_index, 0] = 1.0  # Flatten is row-major
    model.layers[-1].set_weights([kernel, np.array([bias], dtype=np.float32)])
    return model


def test_naive_mae_equals_an_independent_per_sample_computation():
    data = noisy_series(400)
    bounds = {"train": (0, 200), "val": (200, 300), "test": (300, 400)}
    anchors = split_anchors(np.ones(400, dtype=bool), bounds, SPEC)
    metrics = split_metrics(data[anchors["val"], 0], data, anchors["val"], SPEC, target_scale=2.5)
    # Independently: every "now" row t whose 24 covered rows and target lie in the val split.
    errors = [
        abs(data[t + 12, 0] - data[t, 0]) for t in range(200, 300) if t - 23 >= 200 and t + 12 < 300
    ]
    assert metrics["windows"] == len(errors) == 100 - 23 - 12
    assert metrics["naive_mae_norm"] == pytest.approx(np.mean(errors), abs=1e-6)
    assert metrics["naive_mae_degc"] == pytest.approx(2.5 * np.mean(errors), abs=1e-6)
    assert metrics["skill_vs_naive"] == 0.0


@pytest.mark.parametrize("batch_size", [8, 16, 100])
def test_prediction_scores_every_window_once_with_a_partial_last_batch(batch_size):
    """37 windows at batch sizes 8 and 16 leave a last batch of 5; at 100 one partial batch."""
    data = accelerating_series(72)
    anchors = np.arange(SPEC.lookback_rows - 1, 72 - SPEC.delay_rows)
    assert len(anchors) == 37 and len(anchors) % batch_size != 0
    model = linear_model_reading(SPEC, features=2, timestep=SPEC.timesteps - 1, bias=0.25)

    predicted = predict_windows(model, data, anchors, SPEC, batch_size=batch_size)

    # By hand: the model reads the target at the anchor and adds 0.25, window by window, in order.
    now = ((anchors / 100) ** 2).astype(np.float32)
    assert predicted.shape == (37, 1)
    np.testing.assert_allclose(predicted[:, 0], now + 0.25, atol=1e-5)
    metrics = split_metrics(predicted, data, anchors, SPEC, target_scale=1.0)
    errors = np.abs(now + 0.25 - ((anchors + 12) / 100) ** 2)
    assert metrics["windows"] == 37
    assert metrics["mae_norm"] == pytest.approx(errors.mean(), abs=2e-6)
    # The fixture tells the flawed averages apart from the right one.
    full = len(anchors) // batch_size * batch_size
    if full:
        batches = np.split(errors, range(batch_size, len(errors), batch_size))
        mean_of_batch_means = np.mean([batch.mean() for batch in batches])
        assert metrics["mae_norm"] != pytest.approx(errors[:full].mean(), abs=1e-3)
        assert metrics["mae_norm"] != pytest.approx(mean_of_batch_means, abs=1e-3)


def test_a_models_own_step_reads_its_inputs_at_that_step_on_the_same_windows():
    """``predict_paths`` samples a model's inputs at its ``step_rows``: a linear model reading its
    oldest input sees row ``anchor - lookback_rows + step_rows``, for every split's windows."""
    config = parse_params(
        with_defaults(
            {"models": {"linear": {"step_rows": 3}}, "lr_range_test": {"model": "linear"}}
        )
    )
    spec3 = SPEC.for_model(None, 3)
    data = accelerating_series(200)
    bounds = {"val": (0, 100), "test": (100, 200)}
    anchors = split_anchors(np.ones(200, dtype=bool), bounds, SPEC)
    model = linear_model_reading(spec3, features=2, timestep=0, bias=-0.5)

    paths = predict_paths(model, config.models["linear"], data, anchors, SPEC)

    for split, split_anchors_ in anchors.items():
        oldest = split_anchors_ - (24 - 3)
        expected = (oldest / 100) ** 2 - 0.5
        assert paths[split].shape == (len(split_anchors_), 1)
        np.testing.assert_allclose(paths[split][:, 0], expected, atol=1e-5)
        actual = ((split_anchors_ + 12) / 100) ** 2
        naive = (split_anchors_ / 100) ** 2
        metrics = scores(paths, data, anchors, SPEC, target_scale=2.0)[split]
        mae, naive_mae = np.abs(expected - actual).mean(), np.abs(naive - actual).mean()
        assert metrics["mae_degc"] == pytest.approx(2.0 * mae, abs=1e-5)
        assert metrics["skill_vs_naive"] == pytest.approx(1 - mae / naive_mae, abs=1e-5)


def test_targets_never_come_from_the_next_split():
    bounds = {"train": (0, 100), "val": (100, 160), "test": (160, 230)}
    anchors = split_anchors(np.ones(230, dtype=bool), bounds, SPEC)
    for name, (start, end) in bounds.items():
        assert (anchors[name] + SPEC.delay_rows).max() < end
        assert (anchors[name] - (SPEC.lookback_rows - 1)).min() >= start


def test_skill_of_an_imperfect_forecast_is_one_minus_its_mae_over_naives():
    # A steady rise of 0.1 a row: the naive forecast is off by exactly 1.2 (12 rows) every window.
    data = np.stack([np.arange(100) * 0.1, np.zeros(100)], axis=1)
    anchors = np.arange(23, 88)
    actual = data[anchors + 12, 0]
    offsets = np.where(anchors % 2 == 0, 0.3, -0.6)  # |error| 0.3 on even anchors, 0.6 on odd
    metrics = split_metrics(actual + offsets, data, anchors, SPEC, target_scale=4.0)
    mae = (0.3 * np.sum(anchors % 2 == 0) + 0.6 * np.sum(anchors % 2 == 1)) / len(anchors)
    assert metrics["naive_mae_norm"] == pytest.approx(1.2)
    assert metrics["mae_norm"] == pytest.approx(mae, abs=1e-6)
    assert metrics["mae_degc"] == pytest.approx(4.0 * mae, abs=1e-6)
    assert metrics["skill_vs_naive"] == pytest.approx(1 - mae / 1.2, abs=1e-6)
    # Worse than naive: an error of 1.8 everywhere is a skill of 1 - 1.8 / 1.2 = -0.5.
    worse = split_metrics(actual + 1.8, data, anchors, SPEC, target_scale=4.0)
    assert worse["skill_vs_naive"] == pytest.approx(-0.5, abs=1e-6)


def test_forecast_table_is_in_degc_at_the_target_times_of_the_first_days():
    import pandas as pd

    from jena_forecast.evaluation.metrics import forecast_stretch, forecast_table

    rows = 400
    data = noisy_series(rows)
    timestamps = pd.date_range("2015-01-01", periods=rows, freq="10min")
    anchors = np.arange(100, 300)
    stretch = forecast_stretch(timestamps, anchors, SPEC, days=1)
    # Targets are 12 rows (2 h) after each anchor; one day is 144 rows of 10 minutes.
    assert list(stretch) == list(range(144))
    predicted = data[anchors[stretch] + 12, 0] + 0.5  # an error of 0.5 normalized units
    table = forecast_table(timestamps, predicted, data, anchors[stretch], SPEC, 10.0, 2.0)
    assert list(table.columns) == ["timestamp", "actual_degc", "predicted_degc", "naive_degc"]
    assert table["timestamp"].iloc[0] == "2015-01-01T18:40:00"  # row 112 = 100 + 12
    assert table["actual_degc"].iloc[0] == round(data[112, 0] * 2.0 + 10.0, 4)
    assert table["naive_degc"].iloc[0] == round(data[100, 0] * 2.0 + 10.0, 4)
    errors = (table["predicted_degc"] - table["actual_degc"]).abs()
    assert errors.to_numpy() == pytest.approx(np.full(144, 1.0), abs=1e-3)
    assert len(forecast_stretch(timestamps, anchors[:0], SPEC, days=1)) == 0


def test_the_data_fingerprint_names_the_rows_and_changes_with_any_value():
    from jena_forecast.evaluation.forecasts import data_fingerprint

    data = np.arange(24, dtype=np.float32).reshape(12, 2)
    first = data_fingerprint(data)
    assert first.startswith("rows=12 sha256=") and len(first.split("sha256=")[1]) == 12
    assert data_fingerprint(data.copy()) == first
    changed = data.copy()
    changed[5, 1] += 0.5
    assert data_fingerprint(changed) != first
    assert data_fingerprint(data[:11]).startswith("rows=11 ")
