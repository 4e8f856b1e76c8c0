"""tools/anchor_network_screen.py: a network reading the ridge model's anchor features, screened."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fit_classical, load_tool, tiny_artifacts, tiny_project

from jena_forecast.plumbing.errors import PipelineError


def test_the_ridge_row_is_the_classical_stage_and_the_network_row_beats_nothing_for_free(
    tmp_path,
):
    tiny = tiny_artifacts(tmp_path, ("gru", "gru_dropout"))
    root = tiny_project(tiny, tmp_path / "project")
    fitted = fit_classical(tiny, "ridge_anchor", tmp_path)
    tool = load_tool("anchor_network_screen")
    record = tool.screen(tiny.config, "gru", "ridge_anchor", root, [1, 2])
    ridge = record["ridge_anchor"]
    for split in ("val", "test"):
        assert ridge[split]["mae_degc_mean"] == pytest.approx(fitted[split]["mae_degc"], abs=1e-5)
        assert ridge[split]["skill"] == pytest.approx(fitted[split]["skill_vs_naive"], abs=1e-5)
    assert ridge["val_vs_ridge_degc"]["mean_difference"] == 0.0
    network = record["gru + ridge_anchor features"]
    per_seed = network["val"]["mae_degc_per_seed"]
    assert len(per_seed) == 2 and all(np.isfinite(per_seed)) and per_seed[0] != per_seed[1]
    assert network["val"]["mae_degc_mean"] == pytest.approx(np.mean(per_seed), abs=1e-6)
    assert (
        1 <= min(record["epochs"]) <= max(record["epochs"]) <= tiny.config.model("gru").train.epochs
    )


def test_a_network_without_the_residual_form_is_refused(tmp_path):
    tiny = tiny_artifacts(tmp_path, ("seq2seq",))
    tool = load_tool("anchor_network_screen")
    with pytest.raises(PipelineError, match="models.seq2seq: a point model with residual"):
        tool.screen(tiny.config, "seq2seq", "ridge_anchor", tmp_path, [1])


def test_the_ridge_head_starts_from_the_ridge_forecast(tmp_path):
    """Untrained (no epochs), the network's correction is zero: its forecast is the ridge model's."""
    tiny = tiny_artifacts(tmp_path, ("gru",))
    root = tiny_project(tiny, tmp_path / "project")
    config = tiny.config.model_copy(
        update={
            "models": {
                "gru": tiny.config.model("gru").model_copy(
                    update={
                        "train": tiny.config.model("gru").train.model_copy(
                            update={"learning_rate": 0.0}
                        )
                    }
                )
            }
        }
    )
    tool = load_tool("anchor_network_screen")
    record = tool.screen(config, "gru", "ridge_anchor", root, [1], head="ridge")
    network, ridge = record["gru + ridge_anchor ridge"], record["ridge_anchor"]
    for split in ("val", "test"):
        assert network[split]["mae_degc_mean"] == pytest.approx(
            ridge[split]["mae_degc_mean"], abs=1e-4
        )
