import numpy as np
import pandas as pd
import pytest
from synthetic import HEADER, SyntheticJena

from jena_forecast.config import ParseConfig
from jena_forecast.data.parse import parse_csv, run_lengths
from jena_forecast.errors import PipelineError


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
    table, report = parse_csv(write_csv(source), ParseConfig(max_fill_rows=6))
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
