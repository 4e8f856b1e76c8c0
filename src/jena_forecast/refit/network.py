"""A network fitted again for the number of epochs its early stopping kept, with no validation."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.spec import ModelSpec
from jena_forecast.plumbing.errors import PipelineError


def refit_network(
    spec: ModelSpec,
    seed: int,
    data: np.ndarray,
    train_anchors: np.ndarray,
    window_spec: WindowSpec,
    epochs: int,
    verbose: int = 2,
) -> tuple[Any, dict[str, Any]]:
    """Build and fit ``spec``'s model from ``seed`` as ``training.fit.train_model`` does, but on
    ``train_anchors`` alone and for ``epochs`` epochs (those its early stopping kept): the learning
    rate schedule spans the recipe's ``train.epochs``, as in the fit it repeats, and stops where
    that fit's best epoch was. Returns the model and what the refit took.
    """
    from jena_forecast.models.registry import build_model
    from jena_forecast.training.averaging import AveragedWeightsAtEpochEnd
    from jena_forecast.training.batches import EpochWindowBatches, FollowEpochs
    from jena_forecast.training.distribute import model_scope
    from jena_forecast.training.fit import (
        forecast_mae,
        make_loss,
        make_optimizer,
        make_reproducible,
        model_targets,
        model_window_spec,
    )
    from jena_forecast.training.threads import use_intra_op_threads

    config = spec.train
    if config.lr_schedule == "plateau":
        raise PipelineError(
            f"models.{spec.name}: train.lr_schedule=plateau follows the validation loss, which a "
            "refit does not have; refit a model with a constant or cosine schedule"
        )
    if not 1 <= epochs <= config.epochs:
        raise PipelineError(
            f"models.{spec.name}: a refit of {epochs} epochs; expected 1 to train.epochs={config.epochs}"
        )
    use_intra_op_threads(config.intra_op_threads)
    scope = model_scope(config)
    make_reproducible(seed, deterministic_ops=not config.jit_compile)
    window_spec = model_window_spec(window_spec, spec)
    targets = model_targets(spec)
    with scope:
        batches = EpochWindowBatches(
            data,
            train_anchors,
            window_spec,
            config.batch_size,
            config.steps_per_epoch,
            seed,
            epochs=config.epochs,
            initial_epoch=0,
            targets=targets,
            shuffle=config.shuffle,
        )
        model = build_model(
            spec.builder,
            (window_spec.timesteps, data.shape[1]),
            spec.builder_params,
            window_spec.target_index if spec.residual else None,
            spec.aux_horizons,
            spec.anchor is not None,
        )
        model.compile(
            optimizer=make_optimizer(config, batches.steps * config.epochs),
            loss=make_loss(config),
            metrics=[forecast_mae] if spec.target_kind != "point" else None,
            jit_compile=config.jit_compile,
            steps_per_execution=config.steps_per_execution,
        )
    callbacks: list[Any] = [FollowEpochs(batches)]
    if config.ema_momentum is not None:  # the kept weights are the average, as train_model's
        callbacks.append(AveragedWeightsAtEpochEnd())
    started = time.perf_counter()
    model.fit(batches, epochs=epochs, shuffle=False, callbacks=callbacks, verbose=verbose)
    return model, {
        "epochs": epochs,
        "train_seconds": round(time.perf_counter() - started, 2),
        "jit_compile": config.jit_compile,
        "intra_op_threads": config.intra_op_threads,
    }
