import numpy as np
import pandas as pd
import pytest
from conftest import section

from jena_forecast.config import SplitConfig
from jena_forecast.data.normalize import normalize_table, resolve_split
from jena_forecast.plumbing.errors import PipelineError


def frame(values: np.ndarray) -> pd.DataFrame:
    index = pd.date_range("2009-01-01 00:10", periods=len(values), freq="10min")
    return pd.DataFrame(values, index=index, columns=[f"c{i}" for i in range(values.shape[1])])


def test_fraction_and_row_boundaries():
    bounds = resolve_split(section(SplitConfig), 1001, "t")
    assert (bounds.train, bounds.val, bounds.test) == ((0, 500), (500, 750), (750, 1001))
    rows = resolve_split(
        section(SplitConfig, preset="custom", train_end=600, val_end=0.9), 1000, "t"
    )
    assert (rows.train, rows.val, rows.test) == ((0, 600), (600, 900), (900, 1000))
    dlwp1 = resolve_split(section(SplitConfig, preset="dlwp1"), 420_551, "t")
    assert (dlwp1.train, dlwp1.val, dlwp1.test) == (
        (0, 200_000),
        (200_000, 300_000),
        (300_000, 420_551),
    )


def test_boundaries_that_do_not_fit_are_errors():
    with pytest.raises(
        PipelineError,
        match=r"split.preset=dlwp1: split.train_end=200000 does not fit the 106585 rows of data.parquet",
    ):
        resolve_split(section(SplitConfig, preset="dlwp1"), 106_585, "data.parquet")
    with pytest.raises(PipelineError, match="non-empty and in time order"):
        resolve_split(section(SplitConfig, preset="custom", train_end=800, val_end=0.5), 1000, "t")


def test_scaler_sees_only_training_rows():
    rng = np.random.default_rng(1)
    values = rng.normal(5.0, 2.0, size=(1000, 3))
    normalized, bounds, record = normalize_table(frame(values), section(SplitConfig), "t")
    train = values[:500]
    for i, column in enumerate(["c0", "c1", "c2"]):
        assert record["columns"][column]["mean"] == pytest.approx(train[:, i].mean())
        assert record["columns"][column]["scale"] == pytest.approx(train[:, i].std())
    assert record["fitted_rows"] == [0, 500]
    # Wild values after the training slice change nothing in the scaler.
    shifted = values.copy()
    shifted[500:] = shifted[500:] * 100 + 1e4
    _, _, shifted_record = normalize_table(frame(shifted), section(SplitConfig), "t")
    assert shifted_record["columns"] == record["columns"]
    np.testing.assert_allclose(normalized[:500].mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(normalized[:500].std(axis=0), 1.0, atol=1e-5)
    assert normalized.dtype == np.float32


def test_missing_values_are_ignored_by_the_fit_and_kept():
    values = np.arange(20, dtype=float).reshape(10, 2)
    values[1, 0] = np.nan
    normalized, _, record = normalize_table(frame(values), section(SplitConfig), "t")
    assert record["columns"]["c0"]["mean"] == pytest.approx(np.nanmean(values[:5, 0]))
    assert np.isnan(normalized[1, 0]) and not np.isnan(normalized[1, 1])
