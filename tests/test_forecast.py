"""The forecast command and the forecaster it runs: a hand-made forecaster (an untrained network and
a ridge fitted here) on synthetic station exports, every refusal with exit code 2 and no output."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from synthetic import SyntheticJena, SyntheticJenaNewer
from tiny_forecaster import COLUMNS, empty_last_temperatures, make_forecaster

from jena_forecast.classical.persist import load_estimator
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.serving.forecast import main
from jena_forecast.serving.forecaster import CLASSICAL, load_forecaster, save_forecaster
from jena_forecast.serving.station import read_export


@pytest.fixture(scope="module")
def packed(tmp_path_factory) -> Path:
    """A saved network forecaster."""
    root = tmp_path_factory.mktemp("forecaster")
    target = root / "packed"
    save_forecaster(make_forecaster(root / "source"), target)
    return target


def run_forecast(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_forecast_is_the_window_after_the_last_row_with_its_interval_and_naive(
    packed, tmp_path, capsys
):
    csv = SyntheticJena(rows=200).write_csv(tmp_path / "latest.csv")
    output = tmp_path / "forecast.json"
    code, out, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--output", str(output)
    )
    assert code == 0, err
    result = json.loads(output.read_text())
    last = SyntheticJena(rows=200).timestamps()[-1]
    assert result["last_observation"] == str(pd.Timestamp(last))
    assert result["forecast_for"] == str(pd.Timestamp(last) + pd.Timedelta(hours=2))
    assert result["naive_degc"] == pytest.approx(SyntheticJena(rows=200).values()[-1, 1], abs=1e-3)
    assert result["p80_high_degc"] - result["p80_low_degc"] == pytest.approx(3.0, abs=2e-3)
    assert result["p90_low_degc"] == pytest.approx(result["forecast_degc"] - 2.0, abs=1e-3)
    assert f"{result['forecast_degc']:.2f} degC" in out and "80% interval" in out


def test_the_forecast_is_the_loaded_network_applied_to_the_scaled_latest_window(packed, tmp_path):
    forecaster = load_forecaster(packed)
    csv = SyntheticJena(rows=200).write_csv(tmp_path / "latest.csv")
    record = read_export(
        csv, forecaster.parse, forecaster.features, "T (degC)", COLUMNS, forecaster.scaler
    )
    stats = forecaster.scaler["columns"]
    raw = SyntheticJena(rows=200).values()
    mean = np.array([stats[c]["mean"] for c in COLUMNS])
    scale = np.array([stats[c]["scale"] for c in COLUMNS])
    window = ((raw[-72:][5::6] - mean) / scale)[None].astype(np.float32)
    model = keras.models.load_model(packed / "net.keras")
    expected = float(model.predict(window, verbose=0)[0, 0]) * scale[1] + mean[1]
    got = forecaster.predict(record.data, record.timestamps, np.array([199]))
    assert got[0] == pytest.approx(expected, abs=1e-4)


def test_a_network_with_its_own_shorter_lookback_sees_the_latest_rows_only(tmp_path):
    save_forecaster(make_forecaster(tmp_path / "source", lookback_rows=36), tmp_path / "packed")
    forecaster = load_forecaster(tmp_path / "packed")
    assert forecaster.members[0].lookback_rows == 36
    assert (
        json.loads((tmp_path / "packed" / "forecaster.json").read_text())["members"][0][
            "lookback_rows"
        ]
        == 36
    )
    csv = SyntheticJena(rows=200).write_csv(tmp_path / "latest.csv")
    record = read_export(
        csv, forecaster.parse, forecaster.features, "T (degC)", COLUMNS, forecaster.scaler
    )
    stats = forecaster.scaler["columns"]
    mean = np.array([stats[c]["mean"] for c in COLUMNS])
    scale = np.array([stats[c]["scale"] for c in COLUMNS])
    window = ((SyntheticJena(rows=200).values()[-36:][5::6] - mean) / scale)[None]
    model = keras.models.load_model(tmp_path / "packed" / "net.keras")
    expected = float(model.predict(window.astype(np.float32), verbose=0)[0, 0])
    got = forecaster.predict(record.data, record.timestamps, np.array([199]))
    assert got[0] == pytest.approx(expected * scale[1] + mean[1], abs=1e-4)


def test_a_forecaster_packed_before_a_feature_switch_existed_loads_with_it_off(packed, tmp_path):
    import shutil

    shutil.copytree(packed, tmp_path / "older")
    manifest_path = tmp_path / "older" / "forecaster.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["features"]["column_diffs"]
    manifest_path.write_text(json.dumps(manifest))
    assert load_forecaster(tmp_path / "older").features.column_diffs == {}


def test_a_classical_forecaster_round_trips_and_forecasts(tmp_path, capsys):
    source = make_forecaster(tmp_path / "source", CLASSICAL)
    save_forecaster(source, tmp_path / "packed")
    loaded = load_forecaster(tmp_path / "packed")
    assert (
        loaded.members[0].kind == CLASSICAL and loaded.members[0].params == source.members[0].params
    )
    assert load_estimator(tmp_path / "packed" / "ridge.skops").alpha == 1.0
    csv = SyntheticJena(rows=300, seed=3).write_csv(tmp_path / "latest.csv")
    code, out, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(tmp_path / "packed")
    )
    assert code == 0, err
    record = read_export(csv, loaded.parse, loaded.features, "T (degC)", COLUMNS, loaded.scaler)
    both = [f.predict(record.data, record.timestamps, np.array([299]))[0] for f in (source, loaded)]
    assert both[0] == both[1]
    assert f"{both[0]:.2f} degC" in out


def test_newer_exports_are_read_with_their_extra_columns_named_and_ignored(
    packed, tmp_path, capsys
):
    csv = SyntheticJenaNewer(rows=200).write_csv(tmp_path / "newer.csv")
    code, _, err = run_forecast(capsys, "--csv", str(csv), "--forecaster", str(packed))
    assert (
        code == 2 and "timestamp" in err.lower() and str(csv) in err
    )  # params' format refuses ISO
    code, out, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--timestamp-format", "auto"
    )
    assert code == 0, err
    assert "columns not used: rain (mm), raining (s)" in out
    dotted = SyntheticJena(rows=200).write_csv(tmp_path / "dotted.csv")
    _, dotted_out, _ = run_forecast(capsys, "--csv", str(dotted), "--forecaster", str(packed))
    assert out.splitlines()[2] == dotted_out.splitlines()[2]  # the same 14 columns, same forecast


def drop_column(csv: Path, name: str) -> Path:
    frame = pd.read_csv(csv, dtype=str)
    frame.drop(columns=[name]).to_csv(csv, index=False)
    return csv


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: SyntheticJena(rows=60).write_csv(p), "too short for one window: 60 rows"),
        (
            lambda p: empty_last_temperatures(SyntheticJena(rows=200).write_csv(p)),
            "8 row(s) with missing values",
        ),
        (
            lambda p: drop_column(SyntheticJena(rows=200).write_csv(p), "rh (%)"),
            "lacks the column(s) the model was trained on: 'rh (%)'",
        ),
        (lambda p: p, "file not found"),
    ],
    ids=["too-short", "missing-last-rows", "missing-column", "no-file"],
)
def test_bad_exports_get_one_line_naming_the_file_exit_2_and_no_output(
    packed, tmp_path, capsys, make, expected
):
    csv = make(tmp_path / "latest.csv")
    output = tmp_path / "forecast.csv"
    code, out, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--output", str(output)
    )
    assert code == 2 and out == ""
    assert err.startswith(f"forecast: error: {csv}") and expected in err
    assert len(err.strip().splitlines()) == 1
    assert not output.exists() and list(tmp_path.iterdir()) == ([csv] if csv.exists() else [])


def test_missing_rows_name_their_timestamps_and_columns(packed, tmp_path, capsys):
    csv = empty_last_temperatures(SyntheticJena(rows=200).write_csv(tmp_path / "latest.csv"))
    _, _, err = run_forecast(capsys, "--csv", str(csv), "--forecaster", str(packed))
    last = pd.Timestamp(SyntheticJena(rows=200).timestamps()[-8])
    assert f": {last}, " in err and "and 5 more; columns: T (degC)" in err


def test_an_unknown_output_format_or_a_missing_forecaster_is_refused(packed, tmp_path, capsys):
    csv = SyntheticJena(rows=200).write_csv(tmp_path / "latest.csv")
    code, _, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--output", str(tmp_path / "f.xlsx")
    )
    assert code == 2 and "f.xlsx: unknown output format" in err
    code, _, err = run_forecast(capsys, "--csv", str(csv), "--forecaster", str(tmp_path / "none"))
    assert code == 2 and "not a forecaster" in err
    code, _, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--timestamp-format", "daily"
    )
    assert code == 2 and "--timestamp-format 'daily'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.csv"]


def test_the_csv_output_is_one_row_with_the_same_fields(packed, tmp_path, capsys):
    csv = SyntheticJena(rows=200).write_csv(tmp_path / "latest.csv")
    run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--output", str(tmp_path / "f.json")
    )
    run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--output", str(tmp_path / "f.csv")
    )
    as_json = json.loads((tmp_path / "f.json").read_text())
    as_csv = pd.read_csv(tmp_path / "f.csv").iloc[0]
    assert list(as_csv.index) == list(as_json)
    assert as_csv["forecast_degc"] == pytest.approx(as_json["forecast_degc"])


def test_a_skops_file_with_foreign_types_is_refused(tmp_path):
    import skops.io

    path = tmp_path / "odd.skops"
    skops.io.dump({"a": pd.Timestamp("2020-01-01")}, path)
    with pytest.raises(PipelineError, match="not scikit-learn's"):
        load_estimator(path)
    (tmp_path / "junk.skops").write_text("not a zip")
    with pytest.raises(PipelineError, match="not a saved estimator"):
        load_estimator(tmp_path / "junk.skops")


def set_last_temperatures(path: Path, value: float, rows: int = 3) -> Path:
    lines = path.read_text().splitlines()
    for row in range(len(lines) - rows, len(lines)):
        cells = lines[row].split(",")
        cells[2] = f"{value:.2f}"  # the timestamp, p (mbar), then T (degC)
        lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fahrenheit_like_temperatures_are_refused_naming_the_column_rows_and_range(
    packed, tmp_path, capsys
):
    csv = set_last_temperatures(SyntheticJena(rows=200).write_csv(tmp_path / "latest.csv"), 120.0)
    output = tmp_path / "forecast.json"
    code, out, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--output", str(output)
    )
    assert code == 2 and out == "" and not output.exists()
    trained = json.loads((packed / "forecaster.json").read_text())["training_ranges"]["T (degC)"]
    assert err.count("\n") == 1 and f"{csv}: 'T (degC)' is 120 to 120 in 3 rows" in err
    assert f"trained on {round(trained['min'], 2):g} to {round(trained['max'], 2):g}" in err
    assert "--force" in err
    # Forced: the forecast, with the warning in the output and the record.
    code, out, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--output", str(output), "--force"
    )
    assert code == 0, err
    assert "warning: forced:" in out and "'T (degC)' is 120 to 120" in out
    assert json.loads(output.read_text())["warnings"][0].startswith("forced: ")


def test_the_margin_sets_how_far_past_the_training_range_an_input_may_go(packed, tmp_path, capsys):
    trained = json.loads((packed / "forecaster.json").read_text())["training_ranges"]["T (degC)"]
    scale = json.loads((packed / "forecaster.json").read_text())["scaler"]["columns"]["T (degC)"]
    warm = trained["max"] + 0.5 * scale["scale"]  # half a standard deviation past the warmest
    csv = set_last_temperatures(SyntheticJena(rows=200).write_csv(tmp_path / "warm.csv"), warm)
    args = ["--csv", str(csv), "--forecaster", str(packed)]
    assert run_forecast(capsys, *args)[0] == 0  # default margin: one standard deviation
    code, _, err = run_forecast(capsys, *args, "--margin-std", "0")
    assert code == 2 and "'T (degC)'" in err
    with pytest.raises(SystemExit) as exited:
        main([*args, "--margin-std", "-1"])
    assert exited.value.code == 2
    assert "--margin-std must be a number >= 0" in capsys.readouterr().err


def test_an_export_with_a_date_column_and_iso_times_is_read_when_told(packed, tmp_path, capsys):
    """The widely shared "weather.csv" form: its timestamp column is `date`, its times ISO."""
    csv = SyntheticJenaNewer(rows=200).write_csv(tmp_path / "weather.csv")
    text = csv.read_bytes().replace(b'"Date Time"', b'"date"', 1)
    csv.write_bytes(text)
    code, _, err = run_forecast(capsys, "--csv", str(csv), "--forecaster", str(packed))
    assert code == 2 and "no timestamp column 'Date Time'" in err
    code, out, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed),
        "--timestamp-column", "date", "--timestamp-format", "auto",
    )  # fmt: skip
    assert code == 0, err
    assert "forecast for" in out


def test_a_latin1_export_names_its_columns_with_their_units(packed, tmp_path, capsys):
    csv = SyntheticJenaNewer(rows=200, latin1_units=True).write_csv(tmp_path / "latin1.csv")
    with pytest.raises(UnicodeDecodeError):
        csv.read_bytes().split(b"\r\n", 1)[0].decode("utf-8")
    code, out, err = run_forecast(
        capsys, "--csv", str(csv), "--forecaster", str(packed), "--timestamp-format", "auto"
    )
    assert code == 0, err
    assert "SWDR (W/m\u00b2)" in out and "\ufffd" not in out


def test_a_forecast_prints_the_forecast_alone(packed, tmp_path):
    """TensorFlow's C++ start-up lines (absl, oneDNN) are kept off the terminal."""
    import os
    import subprocess
    import sys

    csv = SyntheticJena(rows=200).write_csv(tmp_path / "latest.csv")
    source = Path(__file__).resolve().parents[1] / "src"
    result = subprocess.run(
        [sys.executable, "-m", "jena_forecast.forecast", "--csv", str(csv)]
        + ["--forecaster", str(packed)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(source)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout.startswith(
        "model: net (fitted on the training slice)\n"
    )
