"""The features stage: known values of each engineered column, and nothing at all when every switch is off."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import section, with_defaults
from synthetic import SyntheticJena

from jena_forecast.config import (
    FeaturesConfig,
    ParseConfig,
    SplitConfig,
    parse_params,
)
from jena_forecast.data.features import add_features, time_signals, wind_columns
from jena_forecast.data.normalize import normalize_table
from jena_forecast.data.parse import parse_csv
from jena_forecast.data.windows import WindowSpec, split_anchors
from jena_forecast.plumbing.errors import PipelineError
from stages import features as features_stage
from stages import normalize as normalize_stage
from stages import parse as parse_stage

TARGET = "T (degC)"


def table(rows: int = 10, start: str = "2009-01-01 00:00") -> pd.DataFrame:
    index = pd.date_range(start, periods=rows, freq="10min", name="timestamp")
    return pd.DataFrame(
        {
            "p (mbar)": np.linspace(990, 1000, rows),
            TARGET: np.arange(rows, dtype=float) ** 2,
            "wv (m/s)": np.full(rows, 2.0),
            "max. wv (m/s)": np.full(rows, 4.0),
            "wd (deg)": np.linspace(0, 270, rows),
        },
        index=index,
    ).astype("float32")


def test_all_switches_off_returns_the_table_itself():
    original = table()
    assert add_features(original, section(FeaturesConfig), TARGET, "t") is original
    assert section(FeaturesConfig).describe() == "none"


def test_time_signals_at_known_timestamps():
    stamps = pd.DatetimeIndex(
        ["1970-01-01 00:00", "1970-01-01 06:00", "1970-01-01 12:00", "2009-01-01 18:00"]
    )
    signals = time_signals(stamps)
    assert list(signals.columns) == ["Day sin", "Day cos", "Year sin", "Year cos"]
    np.testing.assert_allclose(signals["Day sin"], [0.0, 1.0, 0.0, -1.0], atol=1e-9)
    np.testing.assert_allclose(signals["Day cos"], [1.0, 0.0, -1.0, 0.0], atol=1e-9)
    # A quarter of a tropical year after the epoch, the year signal is at its peak.
    quarter = pd.Timestamp("1970-01-01") + pd.Timedelta(days=365.2425 / 4)
    year = time_signals(pd.DatetimeIndex([pd.Timestamp("1970-01-01"), quarter]))
    np.testing.assert_allclose(year["Year sin"], [0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(year["Year cos"], [1.0, 0.0], atol=1e-9)


def test_time_signals_are_added_as_float32_columns_after_the_others():
    result = add_features(table(), section(FeaturesConfig, time_signals=True), TARGET, "t")
    assert list(result.columns)[:5] == list(table().columns)
    assert list(result.columns)[5:] == ["Day sin", "Day cos", "Year sin", "Year cos"]
    assert (result.dtypes == np.float32).all() and result.index.name == "timestamp"
    pd.testing.assert_frame_equal(result.iloc[:, :5], table())
    # 00:00 and 06:00 are rows 0 and 36 of a 10-minute grid.
    day = add_features(table(rows=40), section(FeaturesConfig, time_signals=True), TARGET, "t")
    assert day["Day sin"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert day["Day sin"].iloc[36] == pytest.approx(1.0, abs=1e-6)


def test_wind_vector_from_known_speed_and_direction():
    frame = table(rows=4)
    frame["wd (deg)"] = np.array([0.0, 90.0, 180.0, 270.0], dtype=np.float32)
    result = add_features(frame, section(FeaturesConfig, wind_vector=True), TARGET, "t")
    assert "wd (deg)" not in result.columns
    assert {"wv (m/s)", "max. wv (m/s)"} <= set(result.columns)
    np.testing.assert_allclose(result["Wx"], [2, 0, -2, 0], atol=1e-6)
    np.testing.assert_allclose(result["Wy"], [0, 2, 0, -2], atol=1e-6)
    np.testing.assert_allclose(result["max Wx"], [4, 0, -4, 0], atol=1e-6)
    np.testing.assert_allclose(result["max Wy"], [0, 4, 0, -4], atol=1e-6)
    np.testing.assert_allclose(np.hypot(result["Wx"], result["Wy"]), 2.0, atol=1e-6)


def test_wind_vector_of_a_sentinel_speed_uses_the_parse_repair(write_csv):
    source = SyntheticJena(rows=40, sentinel_cells=[(10, "wv (m/s)")])
    parsed, report = parse_csv(write_csv(source), section(ParseConfig), TARGET)
    assert report.sentinel_cells_replaced == 1
    repaired = parsed["wv (m/s)"].iloc[10]
    assert repaired == pytest.approx((parsed["wv (m/s)"].iloc[9] + parsed["wv (m/s)"].iloc[11]) / 2)
    result = add_features(parsed, section(FeaturesConfig, wind_vector=True), TARGET, "t")
    direction = np.deg2rad(float(parsed["wd (deg)"].iloc[10]))
    assert result["Wx"].iloc[10] == pytest.approx(repaired * np.cos(direction), abs=1e-5)
    assert result["Wy"].iloc[10] == pytest.approx(repaired * np.sin(direction), abs=1e-5)
    assert result.abs().max().max() < 9999


def test_wind_columns_by_param_and_clear_errors_when_absent():
    columns = ["T (degC)", "wind (m/s)", "gust (m/s)", "dir (deg)"]
    with pytest.raises(PipelineError) as caught:
        wind_columns(section(FeaturesConfig, wind_vector=True), columns, "jena.parquet")
    message = str(caught.value)
    assert (
        "features.wind_vector: no column of jena.parquet looks like the wind speed column"
        in message
    )
    assert "name it with features.wind_speed_column" in message and "'wind (m/s)'" in message
    named = section(
        FeaturesConfig,
        wind_vector=True,
        wind_speed_column="wind (m/s)",
        max_wind_speed_column="gust (m/s)",
        wind_direction_column="dir (deg)",
    )
    assert wind_columns(named, columns, "t") == {
        "wind_speed_column": "wind (m/s)",
        "max_wind_speed_column": "gust (m/s)",
        "wind_direction_column": "dir (deg)",
    }
    with pytest.raises(
        PipelineError, match=r"features.wind_direction_column: 'nope' is not a column"
    ):
        wind_columns(named.model_copy(update={"wind_direction_column": "nope"}), columns, "t")


def test_temperature_diffs_and_the_rows_without_history():
    result = add_features(table(), section(FeaturesConfig, temperature_diffs=(1, 3)), TARGET, "t")
    squares = np.arange(10, dtype=float) ** 2
    one, three = result["T (degC) diff 1 rows"], result["T (degC) diff 3 rows"]
    assert np.isnan(one.iloc[0]) and np.isnan(three.iloc[:3]).all()
    np.testing.assert_allclose(one.iloc[1:], squares[1:] - squares[:-1])
    np.testing.assert_allclose(three.iloc[3:], squares[3:] - squares[:-3])
    pd.testing.assert_series_equal(result[TARGET], table()[TARGET])  # the target stays as it is
    assert section(FeaturesConfig, temperature_diffs=(1, 3)).describe() == "temperature_diffs=1,3"


def test_column_diffs_of_any_column_and_their_refusals():
    config = section(FeaturesConfig, column_diffs={"p (mbar)": (2,), TARGET: (1,)})
    result = add_features(table(), config, TARGET, "t")
    pressure = table()["p (mbar)"].to_numpy(dtype=float)
    np.testing.assert_allclose(
        result["p (mbar) diff 2 rows"].iloc[2:], pressure[2:] - pressure[:-2]
    )
    assert np.isnan(result["p (mbar) diff 2 rows"].iloc[:2]).all()
    assert config.describe() == f"column_diffs=p (mbar):2;{TARGET}:1"
    assert config.history_rows == 2
    with pytest.raises(PipelineError, match=r"features.column_diffs: 'nope' is not a column of t"):
        add_features(table(), section(FeaturesConfig, column_diffs={"nope": (1,)}), TARGET, "t")
    twice = section(FeaturesConfig, temperature_diffs=(1,), column_diffs={TARGET: (1,)})
    with pytest.raises(PipelineError, match=r"would be added twice"):
        add_features(table(), twice, TARGET, "t")


def test_rows_without_diff_history_are_never_in_a_window():
    frame = table(rows=200)
    frame.iloc[120, 1] = np.nan  # a missing temperature the parser could not fill
    result = add_features(frame, section(FeaturesConfig, temperature_diffs=(6,)), TARGET, "t")
    normalized, bounds, _ = normalize_table(result, section(SplitConfig), "t")
    spec = WindowSpec(lookback_rows=12, step_rows=3, delay_rows=4, target_index=1)
    valid = ~np.isnan(normalized).any(axis=1)
    assert not valid[:6].any() and not valid[120] and not valid[126]
    anchors = split_anchors(valid, {n: bounds[n] for n in ("train", "val", "test")}, spec)
    for split in anchors.values():  # every input row and the target row of every window
        for anchor in split:
            assert valid[anchor - spec.lookback_rows + 1 : anchor + 1].all()
            assert valid[anchor + spec.delay_rows]
    assert anchors["train"][0] == 6 + spec.lookback_rows - 1  # the first 6 rows are skipped


def test_features_use_no_statistic_of_val_or_test_rows():
    """A feature of a training row depends on training rows only; the scaler sees training rows."""
    config = section(FeaturesConfig, time_signals=True, wind_vector=True, temperature_diffs=(2,))
    frame = table(rows=100)
    changed = frame.copy()
    changed.iloc[50:] = changed.iloc[50:] * 10 + 100  # wild values after the training slice
    result = add_features(frame, config, TARGET, "t")
    result_changed = add_features(changed, config, TARGET, "t")
    pd.testing.assert_frame_equal(result.iloc[:50], result_changed.iloc[:50])
    _, _, record = normalize_table(result, section(SplitConfig), "t")
    _, _, record_changed = normalize_table(result_changed, section(SplitConfig), "t")
    assert record["columns"] == record_changed["columns"]
    assert set(record["columns"]) == set(map(str, result.columns))
    assert record["columns"]["Wx"]["mean"] == pytest.approx(result["Wx"].iloc[:50].mean(), abs=1e-5)


def test_a_clashing_column_name_is_refused():
    frame = table()
    frame["Day sin"] = 0.0
    with pytest.raises(PipelineError, match=r"features: t already has columns named \['Day sin'\]"):
        add_features(frame, section(FeaturesConfig, time_signals=True), TARGET, "t")


def test_with_every_feature_off_normalize_writes_the_same_bytes_as_from_the_parsed_table(
    write_csv, tmp_path
):
    """DVC compares hashes: the default features stage must leave every later output unchanged."""
    config = parse_params(
        with_defaults({"windows": {"lookback_rows": 72, "step_rows": 6, "delay_rows": 12}})
    )
    csv_path = write_csv(
        SyntheticJena(rows=600, drop_rows=[100, 101], sentinel_cells=[(7, "wv (m/s)")])
    )
    parsed, quality = tmp_path / "jena.parquet", tmp_path / "quality.json"
    parse_stage.run(config, csv_path=csv_path, table_path=parsed, quality_path=quality)
    summary = features_stage.run(
        config, table_path=parsed, features_path=tmp_path / "features.parquet"
    )
    assert (summary["added"], summary["dropped"], summary["features"]) == ([], [], "none")
    pd.testing.assert_frame_equal(
        pd.read_parquet(parsed), pd.read_parquet(tmp_path / "features.parquet")
    )
    outputs = {}
    for source in ("jena", "features"):
        out = tmp_path / source
        normalize_stage.run(
            config,
            table_path=tmp_path / f"{source}.parquet",
            array_path=out / "normalized.npy",
            scaler_path=out / "scaler.json",
            split_path=out / "split.json",
        )
        outputs[source] = {
            name: (out / name).read_bytes()
            for name in ("normalized.npy", "scaler.json", "split.json")
        }
    assert outputs["features"] == outputs["jena"]
