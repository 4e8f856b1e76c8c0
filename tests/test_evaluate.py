"""The naive baseline is exact: every window, per-sample mean, no target outside its split.

DLwP's published evaluation had three flaws: it dropped the last partial batch, averaged batch means
(which over-weights a short last batch) and let targets near a split's end come from the next split.
"""

import numpy as np
import pytest

from jena_forecast.data.windows import WindowSpec, split_anchors
from jena_forecast.evaluate import mean_absolute_error, split_metrics

SPEC = WindowSpec(lookback_rows=24, step_rows=6, delay_rows=12, target_index=0)


def noisy_series(rows: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.1, size=(rows, 2)), axis=0)


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


def test_no_partial_batch_dropped_and_no_mean_of_batch_means():
    errors = np.array([1.0] * 128 + [5.0] * 3)  # 131 windows: a last batch of 3 at batch size 128
    mae = mean_absolute_error(errors, np.zeros_like(errors))
    assert mae == pytest.approx(errors.mean())
    dropped_last_batch = errors[:128].mean()
    mean_of_batch_means = np.mean([errors[:128].mean(), errors[128:].mean()])
    assert mae != pytest.approx(dropped_last_batch) and mae != pytest.approx(mean_of_batch_means)


def test_targets_never_come_from_the_next_split():
    bounds = {"train": (0, 100), "val": (100, 160), "test": (160, 230)}
    anchors = split_anchors(np.ones(230, dtype=bool), bounds, SPEC)
    for name, (start, end) in bounds.items():
        assert (anchors[name] + SPEC.delay_rows).max() < end
        assert (anchors[name] - (SPEC.lookback_rows - 1)).min() >= start


def test_skill_is_positive_when_the_forecast_beats_naive():
    data = noisy_series(400)
    anchors = split_anchors(np.ones(400, dtype=bool), {"val": (0, 400)}, SPEC)["val"]
    perfect = data[anchors + SPEC.delay_rows, 0]
    metrics = split_metrics(perfect, data, anchors, SPEC, target_scale=1.0)
    assert metrics["mae_norm"] == 0.0 and metrics["skill_vs_naive"] == 1.0


def test_forecast_table_is_in_degc_at_the_target_times_of_the_first_days():
    import pandas as pd

    from jena_forecast.evaluate import forecast_stretch, forecast_table

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
