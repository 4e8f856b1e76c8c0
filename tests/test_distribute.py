"""train.strategy, train.jit_compile and train.mixed_precision: each changes how a model runs, not what it is."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import section
from synthetic import tiny_training_inputs

from jena_forecast.config import ModelSpec, TrainConfig
from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.catalog import BUILDER_PARAMS, GruParams
from jena_forecast.models.registry import build_model
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.training.distribute import check_tf_config, model_scope, precision_policy
from jena_forecast.training.fit import make_reproducible, train_model

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WINDOW = WindowSpec(lookback_rows=36, step_rows=6, delay_rows=6, target_index=1)


def tiny_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tiny_training_inputs(WINDOW)


def gru_spec(**train: object) -> ModelSpec:
    return ModelSpec(
        name="gru",
        builder="gru",
        builder_params=section(GruParams, units=4),
        train=section(
            TrainConfig,
            **{"epochs": 2, "batch_size": 16, "steps_per_epoch": 3, "learning_rate": 0.03, **train},
        ),
    )


def test_default_scope_builds_without_a_strategy_in_float32():
    with model_scope(section(TrainConfig)):
        model = build_model("gru", (6, 14), section(GruParams, units=4))
    assert model.distribute_strategy.num_replicas_in_sync == 1
    assert model._distribute_strategy is None  # no scope at all, not even the default strategy's
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}


@pytest.mark.parametrize("builder", sorted(BUILDER_PARAMS))
def test_mixed_precision_computes_in_float16_and_outputs_float32(builder):
    params = section(BUILDER_PARAMS[builder])
    with precision_policy(True):
        model = build_model(builder, (64, 3), params)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored on the way out
    assert model.output.dtype == "float32"
    assert model.layers[-1].dtype_policy.name == "float32"
    assert any(layer.compute_dtype == "float16" for layer in model.layers[1:-1])


def test_a_mixed_precision_run_trains_with_loss_scaling():
    data, train, val = tiny_inputs()
    result = train_model(gru_spec(mixed_precision=True), 3, data, train, val, WINDOW, verbose=0)
    assert type(result.model.optimizer).__name__ == "LossScaleOptimizer"
    assert result.model.layers[1].compute_dtype == "float16"
    assert all(math.isfinite(row["val_loss"]) for row in result.history)
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.fixture
def restore_determinism():
    yield
    make_reproducible(0)  # jit_compile switched TensorFlow's deterministic ops off


@pytest.mark.slow
def test_jit_compile_reaches_keras_and_trains(restore_determinism):
    from tensorflow.python.framework.config import is_op_determinism_enabled

    data, train, val = tiny_inputs()
    result = train_model(gru_spec(jit_compile=True), 3, data, train, val, WINDOW, verbose=0)
    assert result.model.jit_compile is True  # Keras drops it silently under deterministic ops
    assert not is_op_determinism_enabled()
    assert all(math.isfinite(row["val_loss"]) for row in result.history)
    default = train_model(gru_spec(jit_compile=False), 3, data, train, val, WINDOW, verbose=0)
    assert default.model.jit_compile is False
    assert is_op_determinism_enabled()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "train.strategy=multi_worker needs the TF_CONFIG environment variable"),
        ("{cluster", "TF_CONFIG: not valid JSON"),
        ('{"cluster": {}}', "TF_CONFIG: expected a JSON object with 'cluster' and 'task'"),
        ('{"cluster": {"worker": []}, "task": {}}', "TF_CONFIG: cluster.worker must list"),
    ],
)
def test_multi_worker_needs_a_valid_tf_config(raw, message):
    with pytest.raises(PipelineError, match="TF_CONFIG") as caught:
        check_tf_config(raw)
    assert message in str(caught.value)


def test_a_valid_tf_config_is_read():
    raw = '{"cluster": {"worker": ["localhost:12345"]}, "task": {"type": "worker", "index": 0}}'
    assert check_tf_config(raw)["task"]["index"] == 0


# Logical devices and collective ops must be set up before TensorFlow initializes: a fresh
# interpreter for each run.
STRATEGY_RUN = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    if sys.argv[1] == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from test_distribute import WINDOW, gru_spec, tiny_inputs
    from jena_forecast.training.fit import train_model
    data, train, val = tiny_inputs()
    result = train_model(gru_spec(strategy=sys.argv[1]), 3, data, train, val, WINDOW, verbose=0)
    strategy = result.model.distribute_strategy
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "strategy": [cls.__name__ for cls in type(strategy).__mro__],
        "val_losses": [row["val_loss"] for row in result.history],
    }))
    """
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("strategy", "expected_class", "replicas"),
    [
        ("mirrored", "MirroredStrategy", 2),
        # tf.distribute.MultiWorkerMirroredStrategy() builds a CollectiveAllReduceStrategy.
        ("multi_worker", "CollectiveAllReduceStrategy", 1),
    ],
)
def test_a_distributed_run_trains_to_a_finite_val_loss(strategy, expected_class, replicas):
    """Mirrored over two logical CPUs; multi-worker as a one-worker cluster named by TF_CONFIG."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "src"), str(PROJECT_ROOT / "tests")]),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop("TF_CONFIG", None)
    if strategy == "multi_worker":
        env["TF_CONFIG"] = json.dumps(
            {
                "cluster": {"worker": [f"localhost:{free_port()}"]},
                "task": {"type": "worker", "index": 0},
            }
        )
    done = subprocess.run(
        [sys.executable, "-c", STRATEGY_RUN, strategy],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert expected_class in result["strategy"]
    assert result["replicas"] == replicas
    assert len(result["val_losses"]) == 2
    assert all(math.isfinite(loss) for loss in result["val_losses"])
