"""The backtest's pieces: the export's checksum, its CSV (plain or zipped), its windows, and scores
whose answers are known; on synthetic exports and on pieces cut from the shipped record."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_ROOT, section, with_defaults
from synthetic import HEADER, SyntheticJena, SyntheticJenaNewer

from jena_forecast.config import BacktestExport, FeaturesConfig, ParseConfig, parse_params
from jena_forecast.data.windows import WindowSpec
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.serving.backtest import (
    check_sha256,
    export_anchors,
    export_csv,
    export_record,
    score_models,
)
from jena_forecast.serving.station import read_export

SPEC = WindowSpec(lookback_rows=72, step_rows=6, delay_rows=12, target_index=1)
COLUMNS = HEADER[1:]
EMBEDDED = PROJECT_ROOT / "data" / "embedded" / "jena_climate_2009_2011.csv.zip"


def unit_scaler() -> dict:
    """A scaler that leaves every column as it is: normalized values are degC, MAEs too."""
    return {"columns": {name: {"mean": 0.0, "scale": 1.0} for name in COLUMNS}}


def config():
    return parse_params(with_defaults({}))


def export(path: Path, **values) -> BacktestExport:
    return BacktestExport(name="piece", path=str(path), **values)


def test_a_pinned_checksum_is_checked_and_a_changed_file_refused(tmp_path):
    path = SyntheticJena(rows=100).write_csv(tmp_path / "piece.csv")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert check_sha256(path, export(path, sha256=digest)) == digest
    assert check_sha256(path, export(path)) == digest  # not pinned: recorded only
    path.write_text(path.read_text().replace("10.", "11.", 1))
    with pytest.raises(PipelineError, match=rf"{path}: sha256 \w+ differs from .*'piece'"):
        check_sha256(path, export(path, sha256=digest))


def test_a_zipped_export_is_read_from_its_one_csv_and_the_temporary_copy_removed(tmp_path):
    csv = SyntheticJena(rows=100).write_csv(tmp_path / "piece.csv")
    archive = tmp_path / "piece.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(csv, arcname="folder/piece.csv")
        handle.writestr("README.txt", "notes")
    with export_csv(archive) as inside:
        assert inside.read_bytes() == csv.read_bytes()
    assert not inside.exists()
    with export_csv(csv) as same:
        assert same == csv
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as handle:
        handle.writestr("a.csv", "x")
        handle.writestr("b.csv", "y")
    with (
        pytest.raises(PipelineError, match="expected one .csv member"),
        export_csv(tmp_path / "two.zip"),
    ):
        pass


def test_an_export_with_no_complete_window_is_refused_naming_its_span(tmp_path):
    path = SyntheticJena(rows=80).write_csv(tmp_path / "short.csv")
    record = read_export(
        path, section(ParseConfig), section(FeaturesConfig), "T (degC)", COLUMNS, unit_scaler()
    )
    with pytest.raises(PipelineError, match=rf"{path}: no complete window: a window spans 84 rows"):
        export_anchors(record, SPEC)


def test_every_complete_window_is_scored_and_known_answers_come_out(tmp_path):
    source = SyntheticJenaNewer(rows=400, drop_rows=list(range(200, 220)))  # a 20-row gap
    path = source.write_csv(tmp_path / "newer.csv")
    parse = section(ParseConfig, timestamp_format="auto")
    record = read_export(path, parse, section(FeaturesConfig), "T (degC)", COLUMNS, unit_scaler())
    assert record.ignored_columns == tuple(SyntheticJenaNewer().header[15:])
    anchors = export_anchors(record, SPEC)
    # windows wholly before the gap, and wholly after it
    assert anchors[0] == 71 and anchors[-1] == 399 - 12
    assert not np.any((anchors > 199 - 12) & (anchors < 219 + 72))
    data = record.data
    actual = data[anchors + 12, 1].astype(np.float64)
    perfect, naive_copy = actual.copy(), data[anchors, 1].astype(np.float64)
    rows = score_models(
        config(), {"perfect": perfect, "naive_copy": naive_copy}, data, anchors, SPEC, 1.0
    )
    temperature = source.values()[:, 1]
    by_hand = np.mean(np.abs(temperature[anchors + 12] - temperature[anchors]))
    assert rows["naive"]["mae_degc"] == pytest.approx(by_hand, abs=1e-5)
    assert rows["naive"]["windows"] == len(anchors)
    assert rows["perfect"]["mae_degc"] == 0 and rows["perfect"]["skill_vs_naive"] == 1.0
    assert rows["perfect"]["verdict_vs_naive"] == "better"
    assert rows["naive_copy"]["skill_vs_naive"] == 0.0
    assert rows["naive_copy"]["verdict_vs_naive"] == "within the noise"
    assert rows["naive_copy"]["p_value_vs_naive"] == 1.0
    summary = export_record(export(path), record, anchors, "abc")
    assert (summary["rows"], summary["windows"]) == (400, len(anchors))
    assert summary["first_timestamp"] == "2009-01-01 00:10:00"


def cut_embedded(tmp_path: Path, first_row: int, rows: int) -> Path:
    """Rows [first_row, first_row + rows) of the shipped record, with its header, as a CSV."""
    with zipfile.ZipFile(EMBEDDED) as archive:
        (member,) = archive.namelist()
        text = archive.read(member).decode("utf-8")
    lines = text.splitlines()
    path = tmp_path / "cut.csv"
    path.write_text("\n".join([lines[0], *lines[1 + first_row : 1 + first_row + rows]]) + "\n")
    return path


def test_a_piece_of_the_shipped_record_gives_its_naive_mae_by_hand(tmp_path):
    path = cut_embedded(tmp_path, first_row=50_000, rows=3 * 144)
    spec = WindowSpec(lookback_rows=144, step_rows=6, delay_rows=144, target_index=1)
    record = read_export(
        path, section(ParseConfig), section(FeaturesConfig), "T (degC)", COLUMNS, unit_scaler()
    )
    anchors = export_anchors(record, spec)
    rows = score_models(config(), {}, record.data, anchors, spec, 1.0)
    raw = pd.read_csv(io.StringIO(path.read_text()))["T (degC)"].to_numpy()
    assert len(raw) == len(record.timestamps)  # this stretch has no gap or duplicate
    expected = np.arange(143, 3 * 144 - 144)
    np.testing.assert_array_equal(anchors, expected)
    by_hand = np.mean(np.abs(raw[expected + 144] - raw[expected]))
    assert rows["naive"]["mae_degc"] == pytest.approx(by_hand, abs=1e-4)
    assert rows["naive"]["mae_degc_low"] <= by_hand <= rows["naive"]["mae_degc_high"]


def test_a_piece_missing_a_trained_column_is_refused_naming_it(tmp_path):
    path = cut_embedded(tmp_path, first_row=10_000, rows=300)
    frame = pd.read_csv(path, dtype=str).drop(columns=["VPdef (mbar)"])
    frame.to_csv(path, index=False)
    with pytest.raises(
        PipelineError, match=r"lacks the column\(s\) the model was trained on: 'VPdef"
    ):
        read_export(
            path, section(ParseConfig), section(FeaturesConfig), "T (degC)", COLUMNS, unit_scaler()
        )


def test_an_export_beyond_what_the_models_know_is_refused_unless_forced(tmp_path):
    """Temperatures of 120 (Fahrenheit read as Celsius) in an export: refused, naming the column,
    the rows and the training range; with force_inputs the backtest goes on and records them."""
    from test_forecast import set_last_temperatures

    from jena_forecast.serving.backtest import check_inputs

    values = SyntheticJena(rows=600).values()
    mean, scale = values.mean(0), values.std(0)
    scaler = {
        "fitted_rows": [0, 600],
        "columns": {
            name: {"mean": float(m), "scale": float(s)}
            for name, m, s in zip(COLUMNS, mean, scale, strict=True)
        },
    }
    normalized = tmp_path / "normalized.npy"
    np.save(normalized, ((values - mean) / scale).astype(np.float32))
    path = set_last_temperatures(SyntheticJena(rows=200).write_csv(tmp_path / "hot.csv"), 120.0)
    record = read_export(
        path, section(ParseConfig), section(FeaturesConfig), "T (degC)", COLUMNS, scaler
    )
    with pytest.raises(PipelineError, match=r"'T \(degC\)' is 120 to 120 in 3 rows of the export"):
        check_inputs(export(path), record, scaler, normalized)
    clean = read_export(
        SyntheticJena(rows=200).write_csv(tmp_path / "clean.csv"),
        section(ParseConfig), section(FeaturesConfig), "T (degC)", COLUMNS, scaler,
    )  # fmt: skip
    assert check_inputs(export(path), clean, scaler, normalized) == []
    forced = check_inputs(export(path, force_inputs=True), record, scaler, normalized)
    assert len(forced) == 1 and "force_inputs" not in forced[0] and "trained on" in forced[0]
    with pytest.raises(PipelineError, match="accepts -60 to 60"):  # physical limits still hold
        check_inputs(export(path, input_margin_std=100.0), record, scaler, normalized)
