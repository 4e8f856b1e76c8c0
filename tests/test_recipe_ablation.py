"""tools/recipe_ablation.py: variants of a network trained from several seeds, compared on validation."""

from __future__ import annotations

import json

import pytest
from conftest import load_tool, tiny_artifacts

SEEDS = [1, 2]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_artifacts(tmp_path_factory.mktemp("ablation"), ("linear",))


def test_each_variant_is_scored_over_seeds_like_the_seed_study(tiny, tmp_path):
    from jena_forecast.data.windows import load_windows, window_spec
    from jena_forecast.evaluation.seed_study import seed_run

    tool = load_tool("recipe_ablation")
    output = tmp_path / "ablation.json"
    argv = [
        "--model",
        "linear",
        "--seeds",
        *map(str, SEEDS),
        "--params",
        str(tiny.table.parent / "params.yaml"),
    ]
    argv += ["--table", str(tiny.table), "--cache", str(tmp_path / "cache")]
    residual = ["--variant", "residual", "models.linear.residual=true", "train.learning_rate=0.01"]
    tool.main([*argv, "--variant", "as is", *residual, "--output", str(output)])
    record = json.loads(output.read_text())
    variants = record["variants"]
    assert list(variants) == ["as is", "residual"]
    assert variants["residual"]["overrides"] == {
        "models.linear.residual": True,
        "train.learning_rate": 0.01,
    }
    # The reference against itself: identical forecasts, no difference.
    for split in ("val", "test"):
        assert variants["as is"][split]["vs_reference_degc"] == 0.0
        assert variants["as is"][split]["vs_reference"] == "within the noise"
    # Each seed's MAE is the one a fresh run of the seed study's code gives that seed.
    spec, scale = window_spec(tiny.config.windows, tiny.scaler)
    data, anchors = load_windows(tiny.normalized, tiny.anchors)
    for index, seed in enumerate(SEEDS):
        run, _ = seed_run(tiny.config.model("linear"), seed, data, anchors, spec, scale)
        for split in ("val", "test"):
            kept = variants["as is"][split]["mae_degc_per_seed"][index]
            assert kept == pytest.approx(run[split]["mae_degc"], abs=2e-6)
    mean = sum(variants["residual"]["val"]["mae_degc_per_seed"]) / len(SEEDS)
    assert variants["residual"]["val"]["mae_degc_mean"] == pytest.approx(mean, abs=1e-6)
    assert (
        variants["residual"]["val"]["mae_degc_per_seed"]
        != variants["as is"]["val"]["mae_degc_per_seed"]
    )
    # A rerun takes every finished seed from the cache and prints the same figures.
    tool.main([*argv, *residual, "--variant", "as is", "--output", str(tmp_path / "again.json")])
    rerun = json.loads((tmp_path / "again.json").read_text())["variants"]
    assert (
        rerun["residual"]["val"]["mae_degc_per_seed"]
        == variants["residual"]["val"]["mae_degc_per_seed"]
    )


def test_a_variant_of_other_windows_or_a_malformed_setting_is_refused(tiny, tmp_path):
    tool = load_tool("recipe_ablation")
    argv = ["--model", "linear", "--params", str(tiny.table.parent / "params.yaml")]
    argv += ["--table", str(tiny.table), "--cache", "none", "--variant", "as is"]
    with pytest.raises(
        SystemExit, match="'shorter' forecasts other val windows than the reference"
    ):
        tool.main([*argv, "--variant", "shorter", "windows.delay_rows=6"])
    with pytest.raises(SystemExit, match="variant 'bad': expected KEY=VALUE, received 'residual'"):
        tool.main([*argv, "--variant", "bad", "residual"])
    with pytest.raises(
        SystemExit, match="models.linear.train.epochs: Input should be greater than 0"
    ):
        tool.main([*argv, "--variant", "broken", "models.linear.train.epochs=0"])
