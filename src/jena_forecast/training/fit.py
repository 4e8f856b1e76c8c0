"""Compile and fit one model on the training windows, keeping the weights of the best validation epoch."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.registry import build_model
from jena_forecast.models.spec import ModelSpec
from jena_forecast.training.averaging import AveragedWeightsAtEpochEnd
from jena_forecast.training.batches import (
    EpochWindowBatches,
    FollowEpochs,
    OrderedWindowBatches,
    TargetAssembler,
    target_assembler,
)
from jena_forecast.training.config import TrainConfig
from jena_forecast.training.distribute import model_scope
from jena_forecast.training.resume import ResumableEarlyStopping, TrainingCheckpoint
from jena_forecast.training.threads import use_intra_op_threads


def model_window_spec(window_spec: WindowSpec, spec: ModelSpec) -> WindowSpec:
    """The shared windows, sampled at the model's own ``step_rows`` and cut to its own most recent
    ``lookback_rows`` where it has them (same anchors, same targets)."""
    return window_spec.for_model(spec.lookback_rows, spec.step_rows)


def model_targets(spec: ModelSpec) -> TargetAssembler:
    """How the model's training targets are assembled: a point, or a path after every timestep."""
    return target_assembler(spec.target_kind, spec.horizons)


def make_reproducible(seed: int, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic kernels.

    Keras turns XLA off while TensorFlow's deterministic ops are on, so a run with
    ``train.jit_compile`` passes ``deterministic_ops=False``: seeded, and on a CPU XLA's code still
    repeats itself bit for bit (``tests/test_training_levers.py``).
    """
    if not deterministic_ops:
        keras.utils.set_random_seed(seed)
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()
        return
    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    keras.utils.set_random_seed(seed)
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def learning_rate_schedule(
    config: TrainConfig, total_steps: int | None = None
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The rate of ``config``: constant, or with ``lr_schedule: cosine`` decaying to 0 by the
    last of ``total_steps``; ``warmup_steps`` first ramp it up linearly from 0 (Goyal et al.)."""
    rate, warmup = config.learning_rate, config.warmup_steps
    if config.lr_schedule == "cosine" and total_steps:
        if not warmup:
            return keras.optimizers.schedules.CosineDecay(rate, total_steps)
        return keras.optimizers.schedules.CosineDecay(
            0.0, max(total_steps - warmup, 1), warmup_target=rate, warmup_steps=warmup
        )
    if warmup:  # alpha 1: the "decay" after the ramp stays at the full rate
        return keras.optimizers.schedules.CosineDecay(
            0.0, 1, alpha=1.0, warmup_target=rate, warmup_steps=warmup
        )
    return rate


def make_optimizer(
    config: TrainConfig, total_steps: int | None = None
) -> keras.optimizers.Optimizer:
    """The optimizer named by ``config.optimizer`` at ``learning_rate_schedule``'s rate, with
    decoupled weight decay (``weight_decay``, AdamW's for adam), gradients clipped to a global
    norm (``global_clipnorm``) and a moving average of the weights (``ema_momentum``) where they
    are set."""
    common: dict[str, Any] = {
        "learning_rate": learning_rate_schedule(config, total_steps),
        "weight_decay": config.weight_decay or None,
        "global_clipnorm": config.global_clipnorm,
    }
    if config.ema_momentum is not None:
        common.update(use_ema=True, ema_momentum=config.ema_momentum)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(**common)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(**common)
    return keras.optimizers.SGD(momentum=config.momentum, **common)


FORECAST_METRIC = "forecast_mae"


@keras.saving.register_keras_serializable(package="jena_forecast")
def forecast_mae(y_true: Any, y_pred: Any) -> Any:
    """MAE of the 24 h forecast alone (the last horizon, at the last timestep of a sequence model):
    the quantity a model is ranked by, where its loss averages every horizon (and timestep)."""
    if len(y_pred.shape) == 3:
        y_true, y_pred = y_true[:, -1], y_pred[:, -1]
    return keras.ops.mean(keras.ops.abs(y_true[:, -1] - y_pred[:, -1]))


def monitored_quantity(spec: ModelSpec) -> str:
    """What early stopping (and the plateau schedule) watch: the validation MAE of the 24 h
    forecast for a model of several horizons, the validation loss of a point model (its loss is on
    that forecast alone)."""
    return f"val_{FORECAST_METRIC}" if spec.target_kind != "point" else "val_loss"


def make_loss(config: TrainConfig) -> keras.losses.Loss:
    """The loss named by ``config.loss``; Huber uses delta 1.0 on normalized targets."""
    losses: dict[str, keras.losses.Loss] = {
        "mae": keras.losses.MeanAbsoluteError(),
        "mse": keras.losses.MeanSquaredError(),
        "huber": keras.losses.Huber(delta=1.0),
    }
    return losses[config.loss]


class EpochLog(keras.callbacks.Callback):
    """Collects one row per epoch: losses, learning rate and wall time.

    With a DVCLive ``live`` logger, it also logs the learning rate there (not the wall time: the
    log is a DVC output, and a time would change its hash on every run). DVCLive's own Keras
    callback logs the losses and must come after this one in ``callbacks``.
    """

    def __init__(self, live: Any = None) -> None:
        super().__init__()
        self.rows: list[dict[str, float]] = []
        self._started = 0.0
        self.live = live

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        learning_rate = self.model.optimizer.learning_rate
        row = {
            "epoch": epoch + 1,
            "loss": float(logs.get("loss", np.nan)),
            "val_loss": float(logs.get("val_loss", np.nan)),
            "learning_rate": float(keras.ops.convert_to_numpy(learning_rate)),
            "seconds": round(time.perf_counter() - self._started, 3),
        }
        monitored = f"val_{FORECAST_METRIC}"
        if monitored in logs:
            row[monitored] = float(logs[monitored])
        self.rows.append(row)
        if self.live is not None:  # float32 learning rates: 7 significant digits
            self.live.log_metric(
                "train/learning_rate", float(f"{self.rows[-1]['learning_rate']:.7g}")
            )


def epoch_loggers(
    log_dir: Path | None, earlier: list[dict[str, float]] | None = None
) -> tuple[EpochLog, list[keras.callbacks.Callback]]:
    """The per-epoch loggers: in memory, and with ``log_dir`` also DVCLive's files there.

    DVCLive writes ``metrics.json`` (last epoch) and ``plots/metrics/{train,eval}/*.tsv`` (one row
    per epoch, ``step`` 0 = epoch 1). It writes no ``dvc.yaml``, no report and makes no experiment
    commit: the pipeline declares the directory as a stage output instead. The ``earlier`` epochs
    of a resumed run are replayed first, so the log reads as if the run had never stopped.
    """
    epoch_log = EpochLog()
    epoch_log.rows = list(earlier or [])
    if log_dir is None:
        return epoch_log, [epoch_log]
    from dvclive.keras import DVCLiveCallback

    from dvclive import Live

    live = Live(dir=str(log_dir), dvcyaml=None, save_dvc_exp=False, report=None)
    for row in epoch_log.rows:  # the names DVCLiveCallback and EpochLog log under
        live.log_metric("train/learning_rate", float(f"{row['learning_rate']:.7g}"))
        live.log_metric("train/loss", row["loss"])
        live.log_metric("eval/loss", row["val_loss"])
        if f"val_{FORECAST_METRIC}" in row:
            live.log_metric(f"eval/{FORECAST_METRIC}", row[f"val_{FORECAST_METRIC}"])
        live.next_step()
    epoch_log.live = live
    return epoch_log, [epoch_log, DVCLiveCallback(live=live)]


@dataclass
class TrainResult:
    """A fitted model (best validation weights restored) and how it got there."""

    model: keras.Model
    history: list[dict[str, float]]
    best_epoch: int
    best_val_loss: float
    monitor: str
    train_seconds: float
    config: TrainConfig

    def summary(self) -> dict[str, Any]:
        """The flat record the evaluate stage merges into the model's metrics, with the two
        settings of how it ran that change its numbers (XLA and the intra-op threads)."""
        return {
            "jit_compile": self.config.jit_compile,
            "intra_op_threads": self.config.intra_op_threads,
            "epochs": len(self.history),
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "early_stopping_monitor": self.monitor,
            "train_seconds": self.train_seconds,
            "parameters": int(self.model.count_params()),
        }


def train_model(
    spec: ModelSpec,
    seed: int,
    data: np.ndarray,
    train_anchors: np.ndarray,
    val_anchors: np.ndarray,
    window_spec: WindowSpec,
    verbose: int = 2,
    checkpoint: TrainingCheckpoint | None = None,
    log_dir: Path | None = None,
) -> TrainResult:
    """Build, compile and fit ``spec``'s model with early stopping on ``monitored_quantity``
    (of the weights' moving average, with ``train.ema_momentum``).

    With a ``checkpoint``, every epoch is saved there and a run killed mid-way continues from its
    last completed epoch to the same final weights (see ``training/resume.py``). With ``log_dir``,
    DVCLive logs every epoch's losses and learning rate there.
    """
    config = spec.train
    use_intra_op_threads(config.intra_op_threads)  # before TensorFlow's first op, as the scope
    scope = model_scope(config)  # before TensorFlow's first op (a multi-worker strategy needs that)
    make_reproducible(seed, deterministic_ops=not config.jit_compile)
    window_spec = model_window_spec(window_spec, spec)
    targets = model_targets(spec)
    with scope:  # the model's variables on the strategy's devices, its layers in its precision
        resumed = checkpoint.load() if checkpoint is not None else None
        initial_epoch = resumed.epochs_done if resumed else 0
        train_batches = EpochWindowBatches(
            data,
            train_anchors,
            window_spec,
            config.batch_size,
            config.steps_per_epoch,
            seed,
            epochs=config.epochs,
            initial_epoch=initial_epoch,
            targets=targets,
            shuffle=config.shuffle,
        )
        if resumed is None:
            model = build_model(
                spec.builder,
                (window_spec.timesteps, data.shape[1]),
                spec.builder_params,
                window_spec.target_index if spec.residual else None,
                spec.aux_horizons,
                spec.anchor is not None,
            )
            total_steps = train_batches.steps * config.epochs
            model.compile(
                optimizer=make_optimizer(config, total_steps),
                loss=make_loss(config),
                metrics=[forecast_mae] if spec.target_kind != "point" else None,
                jit_compile=config.jit_compile,
                steps_per_execution=config.steps_per_execution,
            )
        else:
            model = resumed.model  # its optimizer state and schedule travel with it
    val_batches = OrderedWindowBatches(data, val_anchors, window_spec, config.batch_size, targets)
    epoch_log, loggers = epoch_loggers(log_dir, resumed.history if resumed else None)
    monitored = monitored_quantity(spec)
    early_stopping = ResumableEarlyStopping(
        restored=resumed.early_stopping if resumed else None,
        monitor=monitored,
        mode="min",  # an error: lower is better (Keras cannot tell for a custom metric)
        patience=config.patience,
        restore_best_weights=True,
    )
    callbacks: list[keras.callbacks.Callback] = [
        FollowEpochs(train_batches),
        *loggers,
        early_stopping,
    ]
    if config.ema_momentum is not None:  # first: every callback after it sees the averaged weights
        callbacks.insert(1, AveragedWeightsAtEpochEnd(resumed=resumed is not None))
    if config.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitored,
                mode="min",
                factor=0.5,
                patience=1,
                min_lr=config.learning_rate / 100,
            )
        )
    seconds_before = resumed.train_seconds if resumed else 0.0
    if checkpoint is not None:  # last, so it saves what the callbacks above recorded
        callbacks.append(
            checkpoint.callback(epoch_log, early_stopping, config.epochs, seconds_before)
        )
    started = time.perf_counter()
    if resumed is not None and resumed.finished:
        early_stopping.restore(resumed.early_stopping)
        early_stopping.set_model(model)
        early_stopping.on_train_end()  # killed after the last epoch: only the best weights are due
    else:
        model.fit(
            train_batches,
            validation_data=val_batches,
            epochs=config.epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # the batches are already shuffled, as a function of (seed, epoch)
            callbacks=callbacks,
            verbose=verbose,
        )
    train_seconds = seconds_before + time.perf_counter() - started
    val_losses = [row["val_loss"] for row in epoch_log.rows]
    best = int(np.nanargmin([row.get(monitored, np.nan) for row in epoch_log.rows]))
    return TrainResult(
        model=model,
        history=epoch_log.rows,
        best_epoch=best + 1,
        best_val_loss=float(val_losses[best]),
        monitor=monitored,
        train_seconds=round(train_seconds, 2),
        config=config,
    )
