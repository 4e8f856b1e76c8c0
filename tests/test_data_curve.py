"""tools/data_curve.py: a model fitted on a share of the training weeks, scored on the same windows."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fit_classical, load_tool, tiny_artifacts, tiny_project

from jena_forecast.plumbing.errors import PipelineError


def test_a_share_keeps_that_fraction_of_the_weeks_spread_over_the_slice():
    tool = load_tool("data_curve")
    anchors = np.arange(100, 100 + 8 * 10)  # 8 weeks of 10 rows
    week = (tool.kept_weeks(anchors, 0.5, 10) - 100) // 10
    assert sorted(set(week.tolist())) == [1, 3, 5, 7]
    week = (tool.kept_weeks(anchors, 0.25, 10) - 100) // 10
    assert sorted(set(week.tolist())) == [3, 7]
    np.testing.assert_array_equal(tool.kept_weeks(anchors, 1.0, 10), anchors)
    with pytest.raises(PipelineError, match=r"each share must be in \(0, 1\]; received 1.5"):
        tool.kept_weeks(anchors, 1.5, 10)


def test_the_full_slice_gives_the_classical_stages_scores(tmp_path):
    tiny = tiny_artifacts(tmp_path, ("linear",))
    root = tiny_project(tiny, tmp_path / "project")
    fitted = fit_classical(tiny, "ridge_anchor", tmp_path)
    tool = load_tool("data_curve")
    [row] = tool.curve(tiny.config, "ridge_anchor", root, [1.0], [1], None)
    for split in ("val", "test"):
        assert row[split]["mae_degc_mean"] == pytest.approx(fitted[split]["mae_degc"], abs=1e-5)
        assert row[split]["skill"] == pytest.approx(fitted[split]["skill_vs_naive"], abs=1e-5)
    assert row["train_windows"] == np.load(tiny.anchors)["train"].size
    assert row["val_vs_full_degc"]["verdict"] == "within the noise"
    # the tiny record's training slice is shorter than a week: half its weeks is none of it
    assert tool.main(["--model", "ridge_anchor", "--root", str(root), "--shares", "0.5"]) == 1
    assert tool.main(["--model", "transformer", "--root", str(root)]) == 1
