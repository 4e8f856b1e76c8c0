import re
from pathlib import Path

import pytest
import yaml
from conftest import section, with_defaults

from jena_forecast.classical.params import ESTIMATOR_PARAMS
from jena_forecast.config import (
    TrainConfig,
    load_params,
    parse_params,
)
from jena_forecast.models.catalog import BUILDER_PARAMS
from jena_forecast.plumbing.errors import PipelineError

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def project_params() -> dict:
    return yaml.safe_load(PROJECT_PARAMS.read_text())


RAW = project_params()
MODEL_NAMES = ", ".join(RAW["models"])
# ensemble.include_classical defaults to true: classical models are candidates too
CANDIDATES = len(RAW["models"]) + len(RAW["classical"])


def test_project_params_are_valid_and_typed():
    config = load_params(PROJECT_PARAMS)
    assert config.windows.lookback_rows % config.windows.step_rows == 0
    assert list(config.models) == [*RAW["models"], *RAW["anchored"]]
    assert config.anchored == tuple(RAW["anchored"])
    for name, entry in RAW["models"].items():
        builder = entry.get("builder", name)
        assert config.models[name].builder == builder
        assert type(config.models[name].builder_params) is BUILDER_PARAMS[builder]
    for name, entry in RAW["classical"].items():
        estimator = entry.get("estimator", name)
        assert type(config.classical[name].params) is ESTIMATOR_PARAMS[estimator]


def test_model_train_overrides_merge_over_defaults():
    raw = project_params()
    raw["train"]["batch_size"] = 64
    raw["models"]["gru"]["train"] = {"epochs": 2, "loss": "huber"}
    config = parse_params(with_defaults(raw))
    gru = config.models["gru"].train
    assert (gru.epochs, gru.loss, gru.batch_size) == (2, "huber", 64)
    assert config.models["dense"].train.epochs == raw["train"]["epochs"]


def test_every_problem_is_reported_at_once():
    raw = project_params()
    raw["windows"]["lookback_rows"] = 1441
    raw["train"]["epochs"] = 0
    raw["train"]["optimizer"] = "adamw"
    raw["split"] = {"preset": "custom", "train_end": 1.5}
    raw["models"]["mystery"] = {"builder": "transformer"}
    raw["models"]["gru"]["train"] = {"batch_size": -1}
    raw["download"]["sha256"] = "abc"
    # A model's own step must divide the new lookback, whichever models params have.
    own_steps = [
        f"models.{name}.step_rows must divide windows.lookback_rows"
        for name, entry in raw["models"].items()
        if entry.get("step_rows") and 1441 % entry["step_rows"]
    ]
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    message = str(caught.value)
    expected_problems = [
        "windows.lookback_rows must be a multiple of windows.step_rows",
        "train.epochs",
        "train.optimizer",
        "split.train_end: must be in (0, 1) when given as a fraction. Received: split.train_end=1.5",
        "split.val_end: required when split.preset=custom",
        "models.mystery.builder: unknown model builder",
        "models.gru.train.batch_size",
        "download.sha256",
        *own_steps,
    ]
    for expected in expected_problems:
        assert expected in message, expected
    assert f"{len(expected_problems)} invalid param(s)" in message


def test_unknown_keys_are_refused():
    raw = project_params()
    raw["models"]["dense"]["unitz"] = 8
    raw["trian"] = {}
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    assert "models.dense.unitz: unknown param" in str(caught.value)
    assert "trian: unknown param section" in str(caught.value)


def test_split_preset_refuses_custom_boundaries_and_orders_them():
    raw = project_params()
    raw["split"] = {"preset": "dlwp1", "train_end": 0.5}
    with pytest.raises(PipelineError, match="only used with split.preset=custom"):
        parse_params(with_defaults(raw))
    raw["split"] = {"preset": "custom", "train_end": 0.8, "val_end": 0.6}
    with pytest.raises(PipelineError, match="split.train_end must be before split.val_end"):
        parse_params(with_defaults(raw))
    raw["split"] = {"preset": "custom", "train_end": 1000, "val_end": 0.75}
    assert parse_params(with_defaults(raw)).split.boundaries() == (1000, 0.75)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/jena.zip", True),
        ("file:///data/jena.zip", True),
        ("http://127.0.0.1:8000/jena.zip", True),
        ("http://example.org/jena.zip", False),
        ("ftp://example.org/jena.zip", False),
    ],
)
def test_download_url_must_be_https_or_local(url, ok):
    raw = project_params()
    raw["download"]["url"] = url
    if ok:
        assert parse_params(with_defaults(raw)).download.url == url
    else:
        with pytest.raises(PipelineError, match="download.url"):
            parse_params(with_defaults(raw))


def test_unknown_model_name_lists_known_ones():
    config = load_params(PROJECT_PARAMS)
    with pytest.raises(PipelineError) as caught:
        config.model("transformer")
    known = sorted([*RAW["models"], *RAW["anchored"]])
    assert str(caught.value).endswith("Known models: " + ", ".join(known))


def test_missing_and_malformed_params_files(tmp_path):
    with pytest.raises(PipelineError, match="params file not found"):
        load_params(tmp_path / "absent.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(PipelineError, match="not valid YAML"):
        load_params(bad)


def test_train_config_is_frozen():
    with pytest.raises(ValueError):
        section(TrainConfig).epochs = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("train", {"loss": "hinge"}, "train.loss: Input should be 'mae', 'mse' or 'huber'"),
        ("train", {"optimizer": "adamw"}, "train.optimizer: Input should be 'adam', 'rmsprop'"),
        ("train", {"batch_size": 0}, "train.batch_size: Input should be greater than 0"),
        ("train", {"epochs": -2}, "train.epochs: Input should be greater than 0"),
        ("train", {"steps_per_epoch": 0}, "train.steps_per_epoch: Input should be greater than 0"),
        ("train", {"learning_rate": 0}, "train.learning_rate: Input should be greater than 0"),
        ("train", {"patience": -1}, "train.patience: Input should be greater than or equal to 0"),
        ("train", {"warmup_steps": -1}, "train.warmup_steps: Input should be greater than or"),
        ("train", {"weight_decay": -0.1}, "train.weight_decay: Input should be greater than or"),
        ("train", {"global_clipnorm": 0}, "train.global_clipnorm: Input should be greater than 0"),
        (
            "train",
            {"lr_schedule": "plateau", "warmup_steps": 100},
            "train: warmup_steps must be 0 with lr_schedule plateau (the plateau callback sets the rate itself); received warmup_steps=100",
        ),
        (
            "train",
            {"strategy": "horovod"},
            "train.strategy: Input should be 'default', 'mirrored' or 'multi_worker'. "
            "Received: train.strategy='horovod'",
        ),
        (
            "train",
            {"jit_compile": "sometimes"},
            "train.jit_compile: Input should be a valid boolean",
        ),
        (
            "train",
            {"steps_per_execution": 0},
            "train.steps_per_execution: Input should be greater than 0",
        ),
        (
            "train",
            {"mixed_precision": 16},
            "train.mixed_precision: Input should be a valid boolean",
        ),
        (
            "split",
            {"preset": "custom", "train_end": 500, "val_end": 500},
            "split.train_end must be before split.val_end. Received: split.train_end=500",
        ),
        (
            "split",
            {"preset": "custom", "train_end": -5, "val_end": 0.75},
            "split.train_end: must be a positive row number",
        ),
        (
            "split",
            {"preset": "custom", "train_end": 0.0, "val_end": 0.75},
            "split.train_end: must be in (0, 1) when given as a fraction",
        ),
        (
            "split",
            {"preset": "dlwp3"},
            "split.preset: Input should be 'dlwp2', 'dlwp1' or 'custom'",
        ),
        (
            "windows",
            {"lookback_rows": 1446, "step_rows": 4},
            "windows.lookback_rows must be a multiple of windows.step_rows. "
            "Received: windows.lookback_rows=1446, windows.step_rows=4",
        ),
        ("windows", {"delay_rows": 0}, "windows.delay_rows: Input should be greater than 0"),
        ("windows", {"target_column": ""}, "windows.target_column: String should have at least 1"),
        (
            "windows",
            {"target_column": "Date Time"},
            "windows.target_column must be a measurement column, not parse.timestamp_column",
        ),
        ("parse", {"timestamp_format": "dd.mm.yyyy"}, "parse.timestamp_format: must be 'auto'"),
        (
            "parse",
            {"interval_minutes": 0},
            "parse.interval_minutes: Input should be greater than 0",
        ),
        ("download", {"url": "http://example.org/x.zip"}, "download.url: must be an https:// URL"),
        ("download", {"member": "../x.csv"}, "download.member: must be a plain file name"),
        ("download", {"retries": -1}, "download.retries: Input should be greater than or equal"),
    ],
)
def test_each_invalid_param_is_named_with_what_was_expected(section, values, message):
    raw = project_params()
    raw[section] = {**(raw.get(section) or {}), **values}
    if section == "split" and values.get("preset") != "custom":
        raw[section] = values
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    assert message in str(caught.value)
    assert str(caught.value).startswith("params.yaml: 1 invalid param(s):\n  - ")


def test_unknown_builder_and_model_params_are_named():
    raw = project_params()
    raw["models"]["tcn"] = {"units": 8}
    raw["models"]["gru"]["dropout"] = 1.5
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    message = str(caught.value)
    builders = ", ".join(sorted(BUILDER_PARAMS))
    assert f"models.tcn.builder: unknown model builder. Expected one of: {builders}." in message
    assert "Received: models.tcn.builder='tcn'" in message
    assert "models.gru.dropout: Input should be less than 1" in message
    assert "2 invalid param(s)" in message


def test_timestamp_format_accepts_auto_and_strftime():
    raw = project_params()
    for value in ("auto", "%Y-%m-%d %H:%M:%S"):
        raw["parse"]["timestamp_format"] = value
        assert parse_params(with_defaults(raw)).parse.timestamp_format == value


def test_seed_study_and_ensemble_params_are_read_as_given():
    raw = project_params()
    raw["seed_study"] = {"models": ["gru", "dense"], "seeds": [5, 3, 9]}
    raw["ensemble"] = {"top_k": 2, "members": []}
    raw["refit"]["models"] = ["gru"]  # a refitted network keeps its seed study
    config = parse_params(with_defaults(raw))
    assert (config.seed_study.models, config.seed_study.seeds) == (("gru", "dense"), (5, 3, 9))
    assert (config.ensemble.top_k, config.ensemble.members) == (2, None)  # []: the top_k


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (
            "seed_study",
            {"seeds": [1, 2]},
            "seed_study.seeds: must be at least 3 distinct integers. "
            "Received: seed_study.seeds=[1, 2]",
        ),
        ("seed_study", {"seeds": [1, 2, 2]}, "seed_study.seeds: must be at least 3 distinct"),
        (
            "seed_study",
            {"seeds": [1, 2, 3.5]},
            "seed_study.seeds.2: Input should be a valid integer",
        ),
        (
            "seed_study",
            {"seeds": [1, 2, True]},
            "seed_study.seeds.2: Input should be a valid integer",
        ),
        ("seed_study", {"models": []}, "seed_study.models: must name at least one model"),
        (
            "seed_study",
            {"models": ["gru", "gru"]},
            "seed_study.models: must not name a model twice",
        ),
        (
            "seed_study",
            {"models": ["gru", "transformer"]},
            f"seed_study.models: 'transformer' is not in models. Expected names of: {MODEL_NAMES}",
        ),
        ("ensemble", {"top_k": 0}, "ensemble.top_k: Input should be greater than 0"),
        (
            "ensemble",
            {"top_k": 99},
            f"ensemble.top_k must be at most the number of candidate models ({CANDIDATES}). "
            "Received: ensemble.top_k=99",
        ),
        ("ensemble", {"members": ["gru", "gru"]}, "ensemble.members: must not name a model twice"),
        (
            "ensemble",
            {"members": ["gru", "naive"]},
            "ensemble.members: 'naive' is not in models or classical. Expected names of: "
            + ", ".join([*RAW["models"], *RAW["classical"]]),
        ),
        ("ensemble", {"weights": [0.5, 0.5]}, "ensemble.weights: unknown param"),
    ],
)
def test_seed_study_and_ensemble_params_are_checked(section, values, message):
    raw = project_params()
    raw[section] = {**raw[section], **values}
    raw["refit"]["models"] = []  # its checks against the seed study: tests/test_refit.py
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    assert message in str(caught.value)
    assert str(caught.value).startswith("params.yaml: 1 invalid param(s):\n  - ")


def test_explicit_ensemble_members_replace_top_k_and_empty_means_top_k():
    raw = project_params()
    raw["ensemble"] = {"top_k": 99, "members": ["gru", "lstm"]}
    assert parse_params(with_defaults(raw)).ensemble.members == ("gru", "lstm")
    raw["ensemble"] = {"top_k": 4, "members": []}
    assert parse_params(with_defaults(raw)).ensemble.members is None


@pytest.mark.parametrize("reserved", ["naive", "ensemble"])
def test_a_model_may_not_take_the_name_of_a_leaderboard_row(reserved):
    raw = project_params()
    raw["models"][reserved] = {"builder": "dense"}
    with pytest.raises(
        PipelineError, match=rf"models\.{reserved}: the name '{reserved}' is reserved"
    ):
        parse_params(with_defaults(raw))


def test_every_default_is_in_params_yaml_and_a_missing_one_is_named():
    raw = project_params()
    del raw["seed_study"], raw["train"]["patience"], raw["models"]["gru"]["dropout"]
    with pytest.raises(PipelineError) as caught:
        parse_params(raw)
    message = str(caught.value)
    for missing in (
        "seed_study.models",
        "seed_study.seeds",
        "train.patience",
        "models.gru.dropout",
    ):
        assert f"  - {missing}: required param is missing" in message
    assert "4 invalid param(s)" in message


def test_sections_that_name_models_are_checked_against_them():
    raw = project_params()
    raw["models"] = {"gru": raw["models"]["gru"]}
    raw["lr_range_test"]["model"] = "gru"
    candidates = 1 + len(raw["classical"])
    raw["ensemble"]["top_k"] = candidates + 1
    with pytest.raises(PipelineError) as caught:
        parse_params(raw)
    message = str(caught.value)
    for name in set(raw["seed_study"]["models"]) - {"gru"}:
        assert f"seed_study.models: {name!r} is not in models" in message
    assert (
        f"ensemble.top_k must be at most the number of candidate models ({candidates})" in message
    )


def test_runtime_params_default_to_one_device_float32_xla_and_merge_per_model():
    raw = project_params()
    for key in ("strategy", "jit_compile", "steps_per_execution", "mixed_precision"):
        raw["train"].pop(key, None)
    config = parse_params(with_defaults(raw))
    train = config.train
    assert (train.strategy, train.jit_compile, train.steps_per_execution) == ("default", True, 16)
    assert train.mixed_precision is False
    raw["train"]["strategy"] = "mirrored"
    raw["models"]["gru"]["train"] = {"mixed_precision": True, "jit_compile": False}
    config = parse_params(with_defaults(raw))
    gru, dense = config.models["gru"].train, config.models["dense"].train
    assert (gru.strategy, gru.mixed_precision, gru.jit_compile) == ("mirrored", True, False)
    assert (dense.strategy, dense.mixed_precision) == ("mirrored", False)
    # the levers run on one device: a distributed run trains without XLA, a step per execution
    assert (dense.jit_compile, dense.steps_per_execution) == (False, 1)
    assert config.models["gru"].train.intra_op_threads == 1


def test_a_bad_runtime_override_names_the_model():
    raw = project_params()
    raw["models"]["gru"]["train"] = {"strategy": "tpu"}
    with pytest.raises(PipelineError, match=r"models\.gru\.train\.strategy: Input should be"):
        parse_params(with_defaults(raw))


def test_features_are_off_when_params_turn_them_off_and_validated_together():
    raw = project_params()
    del raw["features"]
    config = parse_params(with_defaults(raw))
    assert not config.features.enabled and config.features.describe() == "none"
    assert load_params(PROJECT_PARAMS).features.describe() == "time_signals"  # the project's
    raw["features"] = {
        "time_signals": "yes",
        "wind_vector": True,
        "temperature_diffs": [6, 0, 6],
        "colour": "blue",
    }
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    message = str(caught.value)
    for expected in [
        "features.time_signals: Input should be a valid boolean",
        "features.temperature_diffs.1: Input should be greater than 0",
        "features.colour: unknown param",
    ]:
        assert expected in message, expected
    raw["features"] = {"column_diffs": {"p (mbar)": []}}
    with pytest.raises(PipelineError, match=r"features.column_diffs: 'p \(mbar\)': give distinct"):
        parse_params(with_defaults(raw))
    raw["features"] = {"temperature_diffs": [6, 6]}
    with pytest.raises(PipelineError, match="features.temperature_diffs: must not repeat a lag"):
        parse_params(with_defaults(raw))
    raw["features"] = {"time_signals": True, "wind_vector": True, "temperature_diffs": [144, 6]}
    assert parse_params(with_defaults(raw)).features.describe() == (
        "time_signals+wind_vector+temperature_diffs=144,6"
    )


def with_windows(lookback_rows: int, step_rows: int, delay_rows: int) -> dict:
    """The project's params with these windows, every model's own step and horizons fitted to them."""
    raw = project_params()
    raw["windows"].update(lookback_rows=lookback_rows, step_rows=step_rows, delay_rows=delay_rows)
    raw["anchored"] = {}  # its recipe's horizons and residual change are its own
    for entry in raw["models"].values():
        entry.pop("step_rows", None)
        entry.pop("lookback_rows", None)
        entry.pop("aux_horizons", None)
        entry["recipe"] = "published"
        if "horizons" in entry:
            entry["horizons"] = delay_rows // 6
    return raw


def test_a_models_own_lookback_and_auxiliary_horizons_are_read():
    raw = project_params()
    raw["models"]["gru"].update(lookback_rows=432, aux_horizons=24)
    raw["models"]["conv1d_gru"]["lookback_rows"] = 432
    config = parse_params(with_defaults(raw))
    gru = config.model("gru")
    assert (gru.lookback_rows, gru.aux_horizons, gru.target_kind, gru.horizons) == (
        432,
        24,
        "path",
        24,
    )
    assert config.model("dense").lookback_rows is None and config.model("dense").horizons is None


@pytest.mark.parametrize(
    ("name", "key", "value", "message"),
    [
        ("gru", "lookback_rows", 1446, "models.gru.lookback_rows must be at most windows.lookback"),
        ("gru", "lookback_rows", 435, "step_rows=6"),
        (
            "conv1d_gru",
            "lookback_rows",
            433,
            "models.conv1d_gru.lookback_rows=433, windows.lookback_rows=1440, step_rows=3",
        ),
        ("gru", "lookback_rows", True, "models.gru.lookback_rows: must be a positive integer"),
        ("gru", "lookback_rows", 0, "models.gru.lookback_rows: must be a positive integer"),
        ("gru", "aux_horizons", 1, "models.gru.aux_horizons: must be an integer >= 2"),
        ("gru", "aux_horizons", 7, "models.gru.aux_horizons must divide windows.delay_rows"),
        ("seq2seq", "aux_horizons", 4, "models.seq2seq.aux_horizons: only for a point model"),
    ],
)
def test_a_models_own_lookback_and_auxiliary_horizons_are_checked(name, key, value, message):
    raw = project_params()
    raw["models"][name][key] = value
    with pytest.raises(PipelineError, match=re.escape(message)):
        parse_params(with_defaults(raw))


def test_protocol_names_the_split_and_the_window_geometry():
    raw = with_windows(720, 12, 36)
    raw["split"] = {"preset": "dlwp1"}
    raw["features"] = {"temperature_diffs": [6]}
    config = parse_params(with_defaults(raw))
    assert config.protocol() == "dlwp1 lookback=720 step=12 delay=36"
    assert config.data_record("rows=1200 sha256=0123456789ab") == {
        "protocol": "dlwp1 lookback=720 step=12 delay=36",
        "features": "temperature_diffs=6",
        "data": "rows=1200 sha256=0123456789ab",
    }
    raw = with_windows(1440, 6, 72)
    raw["split"] = {"preset": "custom", "train_end": 0.6, "val_end": 300000}
    assert parse_params(with_defaults(raw)).protocol() == (
        "custom train_end=0.6 val_end=300000 lookback=1440 step=6 delay=72"
    )


def test_project_classical_models_are_typed_and_named_apart_from_the_deep_ones():
    config = load_params(PROJECT_PARAMS)
    assert {name: spec.estimator for name, spec in config.classical.items()} == {
        name: entry.get("estimator", name) for name, entry in RAW["classical"].items()
    }
    assert not set(config.classical) & set(config.models)
    with pytest.raises(PipelineError) as caught:
        config.classical_model("svm")
    assert str(caught.value).endswith(
        "Known classical models: " + ", ".join(sorted(RAW["classical"]))
    )
    raw = project_params()
    raw["classical"]["ridge"] = {"estimator": "svm"}
    with pytest.raises(PipelineError, match=r"classical\.ridge\.estimator: unknown classical"):
        parse_params(with_defaults(raw))
    raw = project_params()
    raw["classical"]["naive"] = {"estimator": "ridge"}
    with pytest.raises(PipelineError, match="classical.naive: the name 'naive' is reserved"):
        parse_params(with_defaults(raw))


@pytest.mark.parametrize("reserved", ["naive", "ensemble"])
def test_a_classical_model_may_not_take_the_name_of_a_leaderboard_row(reserved):
    raw = project_params()
    raw["classical"][reserved] = {"estimator": "ridge"}
    with pytest.raises(
        PipelineError, match=rf"classical\.{reserved}: the name '{reserved}' is reserved"
    ):
        parse_params(with_defaults(raw))


def test_ensemble_members_are_classical_models_only_with_include_classical():
    raw = project_params()
    raw["ensemble"] = {"members": ["gru", "ridge"]}
    assert parse_params(with_defaults(raw)).ensemble.members == ("gru", "ridge")
    raw["ensemble"] = {"members": ["gru", "ridge"], "include_classical": False}
    with pytest.raises(PipelineError) as caught:
        parse_params(with_defaults(raw))
    assert (
        "ensemble.members: 'ridge' is a classical model and ensemble.include_classical is false"
        in str(caught.value)
    )
    assert str(caught.value).startswith("params.yaml: 1 invalid param(s):")
    raw["ensemble"] = {"members": ["gru", "nope"]}
    with pytest.raises(PipelineError, match="'nope' is not in models or classical"):
        parse_params(with_defaults(raw))
    candidates = len(raw["models"]) + len(raw["classical"])
    raw["ensemble"] = {"top_k": candidates}
    assert parse_params(with_defaults(raw)).ensemble.top_k == candidates
    raw["ensemble"] = {"top_k": candidates + 1}
    with pytest.raises(
        PipelineError, match="ensemble.top_k must be at most the number of candidate models"
    ):
        parse_params(with_defaults(raw))
    raw["ensemble"] = {"top_k": len(raw["models"]) + 1, "include_classical": False}
    with pytest.raises(PipelineError, match=rf"candidate models \({len(raw['models'])}\)"):
        parse_params(with_defaults(raw))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("level", 1.5, "significance.level"),
        ("block_days", 0, "significance.block_days"),
        ("replications", 10, "significance.replications"),
        ("tie_size", 0.0, "significance.tie_size"),
    ],
)
def test_significance_params_are_validated_naming_the_key(key, value, message):
    raw = with_defaults({})
    raw["significance"] = {**raw["significance"], key: value}
    with pytest.raises(PipelineError, match=re.escape(message)):
        parse_params(raw)
    del raw["significance"][key]
    with pytest.raises(PipelineError, match=re.escape(f"significance.{key}")):
        parse_params(raw)


GOOD_EXPORT = {"path": "data/backtest/late_2010.csv"}


@pytest.mark.parametrize(
    ("exports", "message"),
    [
        ({"late 2010": GOOD_EXPORT}, "backtest.exports.late 2010.name: must be letters"),
        ({"late": {"path": "https://example.com/x.csv"}}, "dvc import-url"),
        ({"late": {"path": "data/x.parquet"}}, "must name a .csv file or a .zip"),
        ({"late": {**GOOD_EXPORT, "sha256": "abc"}}, "backtest.exports.late.sha256: must be 64"),
        (
            {"late": {**GOOD_EXPORT, "parse": {"max_fill_rows": -1}}},
            "backtest.exports.late.parse.max_fill_rows",
        ),
        (
            {"late": {**GOOD_EXPORT, "parse": {"delimiter": ";"}}},
            "backtest.exports.late.parse.delimiter: unknown",
        ),
        ({"late": {**GOOD_EXPORT, "url": "x"}}, "backtest.exports.late.url: unknown param"),
        ({"late": {}}, "backtest.exports.late.path: required param is missing"),
        ([GOOD_EXPORT], "backtest.exports: Input should be a valid dictionary"),
    ],
)
def test_backtest_exports_are_validated_naming_the_key(exports, message):
    raw = with_defaults({})
    raw["backtest"] = {"exports": exports}
    with pytest.raises(PipelineError, match=re.escape(message)):
        parse_params(raw)


def test_a_backtest_export_takes_the_pipeline_parse_params_under_its_own():
    raw = with_defaults({})
    raw["backtest"] = {
        "exports": {"late_2010": {**GOOD_EXPORT, "parse": {"timestamp_format": "auto"}}}
    }
    config = parse_params(raw)
    export = config.backtest.export("late_2010")
    assert export.name == "late_2010"
    parse = export.parse_config(config.parse)
    assert parse.timestamp_format == "auto" and parse.max_fill_rows == config.parse.max_fill_rows
    with pytest.raises(PipelineError, match="Known exports: late_2010"):
        config.backtest.export("other")


@pytest.mark.parametrize("model", ["best", "ensemble", "gru", "ridge"])
def test_package_model_names_best_the_ensemble_or_any_model(model):
    raw = project_params()
    raw["package"] = {"model": model}
    assert parse_params(raw).package.model == model


def test_an_unknown_package_model_is_refused_with_the_choices():
    raw = project_params()
    raw["package"] = {"model": "gru_64"}
    with pytest.raises(
        PipelineError, match=r"package.model: 'gru_64' is not a model. Expected best"
    ):
        parse_params(raw)


RECIPES = {
    "published": {},
    "tuned": {
        "lookback_rows": 432,
        "aux_horizons": 24,
        "train": {"optimizer": "adam", "epochs": 8},
    },
}


def test_a_recipe_lies_beneath_the_models_own_keys_and_train_merges_key_by_key():
    raw = project_params()
    raw["models"]["gru"] = {"builder": "gru", "units": 32, "recipe": "tuned", "aux_horizons": 12}
    raw["models"]["gru"]["train"] = {"epochs": 5}
    raw["models"]["lstm"] = {"builder": "lstm", "units": 32, "recipe": "published"}
    raw["models"]["simple_rnn"] = {"builder": "simple_rnn", "units": 32, "recipe": "tuned"}
    raw["models"]["simple_rnn"]["lookback_rows"] = None  # a recipe key set to null: not used
    raw["anchored"] = {}  # the tuned recipe here has no residual change
    config = parse_params({**with_defaults(raw), "recipes": {**raw["recipes"], **RECIPES}})
    gru = config.model("gru")
    assert (gru.recipe, gru.lookback_rows, gru.aux_horizons) == ("tuned", 432, 12)
    assert (gru.train.optimizer, gru.train.epochs) == ("adam", 5)
    assert gru.train.batch_size == raw["train"]["batch_size"]
    lstm = config.model("lstm")
    assert (lstm.recipe, lstm.lookback_rows, lstm.aux_horizons) == ("published", None, None)
    assert lstm.train == config.train
    simple = config.model("simple_rnn")
    assert (simple.lookback_rows, simple.aux_horizons, simple.train.epochs) == (None, 24, 8)
    assert parse_params(with_defaults({"models": {"dense": {}}})).model("dense").recipe is None


@pytest.mark.parametrize(
    ("recipes", "recipe", "message"),
    [
        (
            RECIPES,
            "fast",
            "models.gru.recipe: unknown recipe. Expected one of: published, tuned. Received",
        ),
        (
            RECIPES,
            3,
            "models.gru.recipe: unknown recipe. Expected one of: published, tuned. Received",
        ),
        ({"tuned": {"units": 64}}, "tuned", "recipes.tuned: units cannot be part of a recipe"),
        ({"tuned": {"train": 3}}, "tuned", "recipes.tuned.train: expected a mapping"),
        ([1], "tuned", "recipes: expected a mapping of recipe name to keys"),
        ({"tuned": {"lookback_rows": 1446}}, "tuned", "models.gru.lookback_rows must be at most"),
        ({"tuned": {"train": {"epochs": 0}}}, "tuned", "models.gru.train.epochs"),
    ],
)
def test_a_bad_recipe_or_an_unknown_one_is_named(recipes, recipe, message):
    raw = project_params()
    raw["recipes"] = recipes
    raw["models"]["gru"] = {"builder": "gru", "units": 32, "recipe": recipe}
    with pytest.raises(PipelineError, match=re.escape(message)):
        if isinstance(recipes, dict):
            recipes = {"published": {}, **recipes}
        parse_params({**with_defaults(raw), "recipes": recipes})


def test_a_refused_recipe_is_reported_once_not_again_for_each_model_taking_it():
    raw = project_params()
    raw["models"]["gru"] = {"builder": "gru", "units": 32, "recipe": "tuned"}
    recipes = {"published": {}, "tuned": {"units": 64}}
    with pytest.raises(PipelineError) as refused:
        parse_params({**with_defaults(raw), "recipes": recipes})
    message = str(refused.value)
    assert "recipes.tuned: units cannot be part of a recipe" in message
    assert "models.gru.recipe" not in message
