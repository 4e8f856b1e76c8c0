import re

import numpy as np
import pandas as pd
import pytest
from conftest import section
from synthetic import HEADER, NEWER_HEADER, SyntheticJena, SyntheticJenaNewer
from tqdm import tqdm

from jena_forecast.config import ParseConfig
from jena_forecast.data.parse import parse_csv, run_lengths
from jena_forecast.plumbing.errors import PipelineError


def test_clean_file_round_trips_values_and_types(write_csv, parse_config):
    source = SyntheticJena(rows=300)
    table, report = parse_csv(write_csv(source), parse_config)
    assert list(table.columns) == HEADER[1:]
    assert isinstance(table.index, pd.DatetimeIndex)
    assert table.index[0] == pd.Timestamp("2009-01-01 00:10:00")
    assert (table.dtypes == np.float32).all()
    np.testing.assert_allclose(table.to_numpy(), source.values().astype(np.float32))
    assert (report.rows_read, report.rows_kept, report.gaps, report.duplicate_rows_dropped) == (
        300,
        300,
        0,
        0,
    )


def test_real_file_defects_are_repaired_and_reported(write_csv, parse_config):
    # The official file repeats a whole day (time steps back) and misses two timestamps.
    source = SyntheticJena(
        rows=600,
        duplicate_block=(200, 144),
        drop_rows=[400, 401],
        sentinel_cells=[(10, "wv (m/s)"), (11, "wv (m/s)"), (50, "max. wv (m/s)")],
    )
    table, report = parse_csv(write_csv(source), parse_config)
    assert report.rows_read == 600 + 144 - 2
    assert report.rows_kept == 600
    assert report.duplicate_rows_dropped == 144
    assert report.time_steps_back == 1
    assert report.sentinel_cells_replaced == 3
    assert (report.gaps, report.missing_rows, report.largest_gap_minutes) == (1, 2, 20)
    assert report.largest_gap_start == "2009-01-03 18:50:00"
    assert report.rows_still_missing == 0
    # Two missing rows of 14 columns plus three sentinels were filled by interpolation.
    assert report.cells_interpolated == 2 * 14 + 3
    assert table.index.is_monotonic_increasing and table.index.is_unique
    clean = source.values()
    temperature = table["T (degC)"].to_numpy()
    expected_gap = np.interp([400, 401], [399, 402], clean[[399, 402], 1])
    np.testing.assert_allclose(temperature[[400, 401]], expected_gap, rtol=1e-5)
    wind = table["wv (m/s)"].to_numpy()
    np.testing.assert_allclose(
        wind[10:12], np.interp([10, 11], [9, 12], clean[[9, 12], 11]), rtol=1e-5
    )


def test_long_gaps_stay_missing(write_csv):
    source = SyntheticJena(rows=300, drop_rows=list(range(100, 110)))
    table, report = parse_csv(write_csv(source), section(ParseConfig, max_fill_rows=6))
    assert report.largest_gap_minutes == 100
    assert report.rows_still_missing == 10
    assert table.iloc[100:110].isna().all().all()
    assert not table.drop(table.index[100:110]).isna().any().any()


def test_conflicting_duplicates_are_refused_with_their_lines(write_csv, parse_config):
    lines = SyntheticJena(rows=20).lines()
    changed = lines[5].rsplit(",", 1)[0] + ",999.00"
    text = ",".join(f'"{h}"' for h in HEADER) + "\n" + "\n".join(lines + [changed]) + "\n"
    path = write_csv(text)
    with pytest.raises(
        PipelineError, match=rf"{path}:22: timestamp .* repeats line 7 with different values"
    ):
        parse_csv(path, parse_config)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda ls: ls[:3] + [ls[3].replace(",-", ",x", 1).replace(",1", ",x", 1)] + ls[4:],
            r":5: column .* is not a number",
        ),
        (
            lambda ls: ls[:2] + ["2009-01-01 00:30:00" + ls[2][19:]] + ls[3:],
            r":4: timestamp '2009-01-01 00:30:00' does not match",
        ),
        (
            lambda ls: ls[:2] + [ls[2].replace(":30:00", ":35:00")] + ls[3:],
            r":4: timestamp .* is not on the 10-minute grid",
        ),
        (
            lambda ls: ls[:6] + [ls[6] + ",1.00"] + ls[7:],
            r":8: expected 15 fields like the header, found 16",
        ),
    ],
)
def test_bad_rows_are_refused_with_file_and_line(write_csv, parse_config, mutate, message):
    lines = mutate(SyntheticJena(rows=20).lines())
    path = write_csv(",".join(f'"{h}"' for h in HEADER) + "\n" + "\n".join(lines) + "\n")
    with pytest.raises(PipelineError, match=str(path) + message):
        parse_csv(path, parse_config)


def test_empty_header_only_and_missing_timestamp_column(write_csv, parse_config):
    with pytest.raises(PipelineError, match="the file is empty"):
        parse_csv(write_csv("", "empty.csv"), parse_config)
    header = ",".join(f'"{h}"' for h in HEADER) + "\n"
    with pytest.raises(PipelineError, match="has a header but no data rows"):
        parse_csv(write_csv(header, "header.csv"), parse_config)
    renamed = header.replace("Date Time", "When") + SyntheticJena(rows=3).lines()[0] + "\n"
    with pytest.raises(PipelineError, match=r":1: no timestamp column 'Date Time'"):
        parse_csv(write_csv(renamed, "renamed.csv"), parse_config)


def test_run_lengths():
    mask = np.array([0, 1, 1, 0, 1, 0, 1, 1, 1], dtype=bool)
    np.testing.assert_array_equal(run_lengths(mask), [0, 2, 2, 0, 1, 0, 3, 3, 3])
    np.testing.assert_array_equal(run_lengths(np.zeros(3, dtype=bool)), [0, 0, 0])


def header_line(names: list[str] = HEADER) -> str:
    return ",".join(f'"{name}"' for name in names)


def csv_text(lines: list[str], names: list[str] = HEADER) -> str:
    return header_line(names) + "\n" + "\n".join(lines) + "\n"


def test_target_column_must_be_in_the_header_and_extra_columns_are_kept(write_csv, parse_config):
    lines = SyntheticJena(rows=20).lines()
    renamed = [name.replace("T (degC)", "T (C)") for name in HEADER]
    path = write_csv(csv_text(lines, renamed))
    with pytest.raises(PipelineError) as caught:
        parse_csv(path, parse_config, target_column="T (degC)")
    assert str(caught.value).startswith(
        f"{path}:1: no target column 'T (degC)' (windows.target_column); "
        "header columns: 'Date Time', 'p (mbar)', 'T (C)', "
    )
    extra = write_csv(csv_text([line + ",1.50" for line in lines], [*HEADER, "extra (1)"]), "x.csv")
    table, report = parse_csv(extra, parse_config, target_column="T (degC)")
    assert list(table.columns) == [*HEADER[1:], "extra (1)"] == report.columns
    assert (table["extra (1)"] == 1.5).all()


def test_unsorted_rows_are_sorted_and_counted(write_csv, parse_config):
    source = SyntheticJena(rows=30)
    lines = source.lines()
    lines[10], lines[11] = lines[11], lines[10]
    table, report = parse_csv(write_csv(csv_text(lines)), parse_config)
    assert report.time_steps_back == 1 and report.rows_kept == 30
    np.testing.assert_allclose(table.to_numpy(), source.values().astype(np.float32))


def test_nan_empty_and_sentinel_cells_become_missing_in_any_column(write_csv, parse_config):
    source = SyntheticJena(rows=30, sentinel_cells=[(3, "p (mbar)"), (4, "T (degC)")])
    lines = [line.split(",") for line in source.lines()]
    lines[7][5] = "NaN"  # rh (%)
    lines[8][14] = ""  # wd (deg)
    table, report = parse_csv(write_csv(csv_text([",".join(f) for f in lines])), parse_config)
    assert (report.sentinel_cells_replaced, report.empty_cells_read) == (2, 2)
    assert report.cells_interpolated == 4 and report.rows_still_missing == 0
    clean = source.values()
    assert table["T (degC)"].iloc[4] == pytest.approx((clean[3, 1] + clean[5, 1]) / 2, rel=1e-5)
    assert table["p (mbar)"].iloc[3] == pytest.approx((clean[2, 0] + clean[4, 0]) / 2, rel=1e-5)
    assert table["rh (%)"].iloc[7] == pytest.approx((clean[6, 4] + clean[8, 4]) / 2, rel=1e-5)
    assert table["T (degC)"].iloc[3] == pytest.approx(clean[3, 1])


def test_bom_and_crlf_line_endings_are_read(write_csv, parse_config):
    source = SyntheticJena(rows=40)
    text = "\ufeff" + csv_text(source.lines()).replace("\n", "\r\n")
    table, _ = parse_csv(write_csv(text), parse_config)
    assert list(table.columns) == HEADER[1:]
    np.testing.assert_allclose(table.to_numpy(), source.values().astype(np.float32))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda ls: ls[:4] + [ls[4].replace(".", ",", 1)] + ls[5:],
            r":6: expected 15 fields like the header, found 16 \(a decimal comma",
        ),
        (
            lambda ls: ls[:4] + ['{},"{}"'.format(*ls[4].rsplit(",", 1))] + ls[5:],
            None,
        ),
        (
            lambda ls: ls[:4] + [ls[4].rsplit(",", 1)[0] + ',"-8,02"'] + ls[5:],
            r":6: column 'wd \(deg\)': '-8,02' is a decimal comma; expected '.' as decimal point",
        ),
        (
            lambda ls: ls[:4] + [ls[4].rsplit(",", 1)[0] + ",inf"] + ls[5:],
            r":6: column 'wd \(deg\)': 'inf' is not a finite number",
        ),
    ],
)
def test_decimal_commas_and_non_finite_numbers_are_refused(write_csv, parse_config, edit, message):
    path = write_csv(csv_text(edit(SyntheticJena(rows=10).lines())))
    if message is None:  # quoted cells with decimal points are fine
        assert parse_csv(path, parse_config)[1].rows_kept == 10
        return
    with pytest.raises(PipelineError, match=str(path) + message):
        parse_csv(path, parse_config)


def test_a_semicolon_separated_export_is_refused(write_csv, parse_config):
    lines = [line.replace(",", ";").replace(".", ",") for line in SyntheticJena(rows=5).lines()]
    path = write_csv(";".join(f'"{h}"' for h in HEADER) + "\n" + "\n".join(lines) + "\n")
    with pytest.raises(
        PipelineError, match=rf"{path}:1: the header is separated by ';' \(an export with decimal"
    ):
        parse_csv(path, parse_config)


def test_whitespace_only_file_is_empty(write_csv, parse_config):
    with pytest.raises(PipelineError, match="the file is empty"):
        parse_csv(write_csv("\r\n\n"), parse_config)


def test_newer_export_shape_parses_through_params_alone(tmp_path):
    source = SyntheticJenaNewer(
        rows=300,
        sentinel_cells=[
            (20, "CO2 (ppm)"),
            (21, "Tlog (degC)"),
            (40, "rain (mm)"),
            (41, "p (mbar)"),
        ],
        drop_rows=[100],
    )
    path = source.write_csv(tmp_path / "newer.csv")
    assert b"\r\n2009-01-01 00:10:00," in path.read_bytes()
    config = section(ParseConfig, timestamp_format="auto")
    table, report = parse_csv(path, config, target_column="Tlog (degC)")
    assert list(table.columns) == NEWER_HEADER[1:] == report.columns
    assert "PAR (\u00b5mol/m\u00b2/s)" in table.columns and len(table.columns) == 21
    assert report.timestamp_format == "%Y-%m-%d %H:%M:%S" and report.invalid_utf8_replaced == 0
    assert (report.sentinel_cells_replaced, report.missing_rows, report.rows_still_missing) == (
        4,
        1,
        0,
    )
    clean = source.values()
    keep = [i for i in range(300) if i not in {20, 21, 40, 41, 100}]
    np.testing.assert_allclose(
        table.to_numpy()[keep], clean[keep].astype(np.float32), rtol=1e-6, atol=1e-3
    )
    co2 = NEWER_HEADER.index("CO2 (ppm)") - 1
    assert table["CO2 (ppm)"].iloc[20] == pytest.approx((clean[19, co2] + clean[21, co2]) / 2)
    # An explicit format keeps working.
    explicit = section(ParseConfig, timestamp_format="%Y-%m-%d %H:%M:%S")
    np.testing.assert_array_equal(parse_csv(path, explicit)[0].to_numpy(), table.to_numpy())


def test_latin1_unit_bytes_become_replacement_characters_and_are_counted(tmp_path):
    path = SyntheticJenaNewer(rows=50, latin1_units=True).write_csv(tmp_path / "latin1.csv")
    table, report = parse_csv(path, section(ParseConfig, timestamp_format="auto"), "T (degC)")
    assert report.invalid_utf8_replaced == 5  # SWDR's ², PAR's µ and ², max. PAR's µ and ²
    assert "PAR (\ufffdmol/m\ufffd/s)" in table.columns and len(table.columns) == 21
    mangled = SyntheticJenaNewer(rows=50, mangled_unit=True).write_csv(tmp_path / "mangled.csv")
    table, report = parse_csv(mangled, section(ParseConfig, timestamp_format="auto"))
    assert "SWDR (W/m\ufffd)" in table.columns and report.invalid_utf8_replaced == 0


def test_timestamp_format_auto_detects_only_the_known_shapes(write_csv):
    auto = section(ParseConfig, timestamp_format="auto")
    legacy = write_csv(csv_text(SyntheticJena(rows=10).lines()), "legacy.csv")
    assert parse_csv(legacy, auto)[1].timestamp_format == "%d.%m.%Y %H:%M:%S"
    lines = SyntheticJena(rows=10).lines()
    unknown = write_csv(csv_text(["2009/01/01 00:10" + lines[0][19:], *lines[1:]]), "u.csv")
    with pytest.raises(
        PipelineError, match=rf"{unknown}:2: timestamp '2009/01/01 00:10' has neither"
    ):
        parse_csv(unknown, auto)
    mixed = write_csv(csv_text([*lines[:3], "2009-01-01 00:40:00" + lines[3][19:], *lines[4:]]))
    with pytest.raises(
        PipelineError,
        match=rf"{mixed}:5: timestamp '2009-01-01 00:40:00' does not match "
        r"parse.timestamp_format='%d.%m.%Y %H:%M:%S' \(detected from line 2\)",
    ):
        parse_csv(mixed, auto)


class RecordingBar:
    """Stands in for a tqdm bar: keeps its count and every update."""

    def __init__(self) -> None:
        self.n = 0
        self.updates: list[int] = []

    def update(self, rows: int) -> None:
        self.n += rows
        self.updates.append(rows)


def test_rows_are_counted_block_by_block_as_the_reader_takes_them(tmp_path):
    import io

    from jena_forecast.data.parse import _RowCountingBytes

    path = SyntheticJena(rows=25_000).write_csv(tmp_path / "big.csv")  # 2.6 MB: three blocks
    bar = RecordingBar()
    frame = pd.read_csv(_RowCountingBytes(path.read_bytes(), bar), engine="pyarrow")
    assert bar.n == len(frame) == 25_000
    assert len([rows for rows in bar.updates if rows > 0]) >= 3
    plain = pd.read_csv(io.BytesIO(path.read_bytes()), engine="pyarrow")
    pd.testing.assert_frame_equal(frame, plain)


@pytest.mark.parametrize(
    "source",
    [
        SyntheticJena(
            rows=12_000,
            duplicate_block=(500, 144),
            drop_rows=[900, 901, *range(3000, 3020)],
            sentinel_cells=[(10, "wv (m/s)"), (7000, "T (degC)")],
        ),
        SyntheticJenaNewer(rows=9_000, latin1_units=True, drop_rows=[40]),
    ],
    ids=["legacy-with-defects", "newer-latin1-crlf"],
)
def test_the_progress_bar_leaves_the_parsed_table_byte_identical(tmp_path, capsys, source):
    path = source.write_csv(tmp_path / "jena.csv")
    config = section(ParseConfig, timestamp_format="auto")
    written = {}
    for progress in (False, True):
        table, report = parse_csv(path, config, progress=progress)
        table.to_parquet(tmp_path / f"{progress}.parquet", engine="pyarrow")
        written[progress] = ((tmp_path / f"{progress}.parquet").read_bytes(), report)
        shown = capsys.readouterr().err
        if progress:
            rows = re.escape(tqdm.format_sizeof(report.rows_read))
            assert re.fullmatch(
                rf"(\rparse: +\d+%\|.*)*\rparse: 100%\|.*\| {rows}/{rows} \[.*\n", shown
            )
        else:
            assert shown == ""
    assert written[True] == written[False]


def test_a_missing_measurement_column_leaves_one_feature_fewer(write_csv, parse_config):
    # Columns come from the header: a file without "wd (deg)" parses, and every later stage sees
    # one input feature fewer. Only the timestamp and target columns are required.
    source = SyntheticJena(rows=20)
    keep = [i for i, name in enumerate(HEADER) if name != "wd (deg)"]
    rows = [",".join(line.split(",")[i] for i in keep) for line in source.lines()]
    path = write_csv(csv_text(rows, [HEADER[i] for i in keep]))
    table, report = parse_csv(path, parse_config, target_column="T (degC)")
    assert list(table.columns) == [name for name in HEADER[1:] if name != "wd (deg)"]
    assert report.columns == list(table.columns)
    wind_direction = HEADER.index("wd (deg)") - 1
    np.testing.assert_allclose(
        table.to_numpy(), np.delete(source.values(), wind_direction, axis=1).astype(np.float32)
    )
