"""Where and in which precision a model is built: ``train.strategy`` and ``train.mixed_precision``.

``default`` builds the model with no strategy scope at all, exactly as a plain Keras script does.
``mirrored`` builds it under ``tf.distribute.MirroredStrategy`` (one replica per local GPU, or per
logical device); ``multi_worker`` under ``tf.distribute.MultiWorkerMirroredStrategy``, which reads
the cluster and this process's task from the ``TF_CONFIG`` environment variable. Keras splits each
batch of ``train.batch_size`` windows between the replicas, so the global batch stays the same.

With ``mixed_precision`` the layers are built under the ``mixed_float16`` policy (float16 compute,
float32 weights); every builder's output layer is float32 so the loss is computed in float32, and
Keras wraps the optimizer in a ``LossScaleOptimizer``. The global policy is restored afterwards: a
built layer keeps the policy it was built with.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from typing import Any

import keras

from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.training.config import TrainConfig

MIXED_POLICY = "mixed_float16"


def check_tf_config(raw: str | None) -> dict[str, Any]:
    """The parsed ``TF_CONFIG`` a multi-worker run needs, or a PipelineError saying what is wrong."""
    if not raw:
        raise PipelineError(
            "train.strategy=multi_worker needs the TF_CONFIG environment variable, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}. Received: TF_CONFIG unset'
        )
    try:
        tf_config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise PipelineError(f"TF_CONFIG: not valid JSON ({error}). Received: {raw!r}") from error
    if not isinstance(tf_config, dict) or not {"cluster", "task"} <= set(tf_config):
        raise PipelineError(
            f"TF_CONFIG: expected a JSON object with 'cluster' and 'task'. Received: {raw!r}"
        )
    workers = (tf_config.get("cluster") or {}).get("worker")
    if not isinstance(workers, list) or not workers:
        raise PipelineError(
            f"TF_CONFIG: cluster.worker must list the workers' host:port. Received: {raw!r}"
        )
    return tf_config


def strategy_scope(strategy: str) -> AbstractContextManager[Any]:
    """The scope to build and compile a model in for ``train.strategy``; ``default``: no scope.

    Create it before TensorFlow runs its first op: a multi-worker strategy configures collective
    ops, which TensorFlow allows only at startup.
    """
    if strategy == "default":
        return nullcontext()
    import tensorflow as tf

    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy().scope()
    if strategy == "multi_worker":
        check_tf_config(os.environ.get("TF_CONFIG"))
        return tf.distribute.MultiWorkerMirroredStrategy().scope()
    raise ValueError(f"unknown train.strategy {strategy!r}")


@contextmanager
def precision_policy(mixed_precision: bool) -> Iterator[None]:
    """Build layers under ``mixed_float16`` while inside, when asked; the old policy comes back after."""
    if not mixed_precision:
        yield
        return
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(MIXED_POLICY)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def model_scope(config: TrainConfig) -> ExitStack:
    """One context for building, loading and compiling a model: its strategy and its precision."""
    stack = ExitStack()
    stack.enter_context(strategy_scope(config.strategy))
    stack.enter_context(precision_policy(config.mixed_precision))
    return stack
