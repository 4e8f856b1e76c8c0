"""dvc.yaml stays in step with params.yaml: every model has its charts declared."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import PROJECT_ROOT


def test_every_model_of_params_has_a_learning_curve_chart():
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    pipeline = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())
    charts = {name for entry in pipeline["plots"] for name in entry}
    missing = [m for m in params["models"] if f"Learning curve {m}" not in charts]
    assert missing == []
    for model in params["models"]:
        (definition,) = (
            entry[f"Learning curve {model}"]
            for entry in pipeline["plots"]
            if f"Learning curve {model}" in entry
        )
        assert set(definition["y"]) == {
            f"dvclive/{model}/plots/metrics/train/loss.tsv",
            f"dvclive/{model}/plots/metrics/eval/loss.tsv",
        }


def test_every_per_model_chart_directory_is_a_stage_output():
    pipeline = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())
    evaluate_outs = {next(iter(out)) for out in pipeline["stages"]["evaluate"]["do"]["outs"]}
    assert evaluate_outs == {"metrics/horizons/${key}.tsv", "metrics/predictions/${key}.csv"}
    charted = {next(iter(entry)) for entry in pipeline["plots"]}
    assert {"metrics/horizons", "metrics/predictions", "metrics/lr_range_test.tsv"} <= charted


def test_classical_models_write_what_the_leaderboard_report_and_plots_read():
    pipeline = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())
    stages = pipeline["stages"]
    classical = stages["classical"]
    assert classical["foreach"] == "${classical}"
    assert [next(iter(m)) for m in classical["do"]["metrics"]] == ["metrics/models/${key}.json"]
    outs = {out if isinstance(out, str) else next(iter(out)) for out in classical["do"]["outs"]}
    assert outs == {next(iter(out)) for out in stages["evaluate"]["do"]["outs"]} | {
        "data/forecasts/${key}.npz"
    }
    # The ensemble reads the saved forecasts of its classical candidates.
    assert "data/forecasts" in stages["ensemble"]["deps"]
    assert "classical" in stages["ensemble"]["params"]
    assert "metrics/models" in stages["leaderboard"]["deps"]
    for stage in ("leaderboard", "report"):
        assert {"models", "classical"} <= set(stages[stage]["params"])
    # Every score records its protocol and features, so each scoring stage depends on them.
    for params in (
        stages["baseline"]["params"],
        stages["evaluate"]["do"]["params"],
        classical["do"]["params"],
        stages["seeds"]["do"]["params"],
        stages["ensemble"]["params"],
    ):
        assert {"split", "features", "windows"} <= set(params)


def test_the_leaderboard_and_report_read_every_scoring_stage_output():
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    scored = {
        "metrics/models",  # evaluate@, classical@ and baseline
        "metrics/ensemble.json",
        "metrics/seeds",
    }
    assert scored <= set(stages["leaderboard"]["deps"])
    assert {"seed_study.models", "models", "classical"} <= set(stages["leaderboard"]["params"])
    assert {"metrics/leaderboard.tsv", "metrics/predictions", "metrics/ensemble.json"} <= set(
        stages["report"]["deps"]
    )
    outs = {
        next(iter(out))
        for stage in ("evaluate", "classical")
        for out in stages[stage]["do"]["outs"]
    }
    assert "metrics/predictions/${key}.csv" in outs
    assert "metrics/predictions/ensemble.csv" in {
        next(iter(out)) for out in stages["ensemble"]["outs"]
    }


def test_the_features_stage_sits_between_parse_and_normalize():
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    assert "data/interim/jena.parquet" in stages["features"]["deps"]
    assert stages["features"]["outs"] == ["data/interim/features.parquet"]
    assert "data/interim/features.parquet" in stages["normalize"]["deps"]
    assert "data/interim/jena.parquet" not in stages["normalize"]["deps"]


def _deps(stage: dict) -> list[str]:
    return (stage.get("do") or stage)["deps"]


def _step_modules(entry_point: str) -> set[str]:
    """The files of the step modules a stage's entry point calls, and what they import of steps."""
    import inspect
    import re

    from jena_forecast import steps

    source = (PROJECT_ROOT / entry_point).read_text(encoding="utf-8")
    files = set()
    for function in set(re.findall(r"\bsteps\.([a-z_]+)\(", source)):
        module = inspect.getmodule(getattr(steps, function))
        assert module is not None and module.__file__ is not None
        files.add(module.__file__)
        imported = re.findall(
            r"^from jena_forecast\.steps\.([a-z_]+) import",
            Path(module.__file__).read_text(encoding="utf-8"),
            flags=re.M,
        )
        files.update(str(Path(module.__file__).with_name(f"{name}.py")) for name in imported)
    return {str(Path(path).relative_to(PROJECT_ROOT)) for path in files}


def test_every_stage_depends_on_the_step_code_it_runs():
    """Editing a step's code reruns its stage (and only the stages that run it)."""
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        command = (stage.get("do") or stage)["cmd"]
        entry_point = command.split()[1]
        expected = _step_modules(entry_point)
        assert expected, f"{name}: {entry_point} calls no step"
        missing = expected - set(_deps(stage))
        assert not missing, f"stage {name} does not depend on {sorted(missing)}"


def test_stages_that_assemble_windows_depend_on_the_window_code():
    """Training and prediction gather their batches with data/windows.py through training/batches.py."""
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    window_users = {"src/jena_forecast/training", "src/jena_forecast/training/predict.py"}
    for name, stage in stages.items():
        deps = set(_deps(stage))
        if deps & window_users:
            assert "src/jena_forecast/data/windows.py" in deps, name
            assert deps & {"src/jena_forecast/training", "src/jena_forecast/training/batches.py"}, (
                name
            )
