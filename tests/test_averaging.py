"""Weight averaging (``train.ema_momentum``): the moving average is what is validated and kept."""

from __future__ import annotations

import numpy as np
from conftest import section
from synthetic import tiny_training_inputs

from jena_forecast.config import ModelSpec, TrainConfig
from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.catalog import GruParams
from jena_forecast.training.batches import OrderedWindowBatches
from jena_forecast.training.fit import train_model

WINDOW = WindowSpec(lookback_rows=36, step_rows=6, delay_rows=6, target_index=1)


def fit_gru(ema_momentum: float | None):
    spec = ModelSpec(
        name="gru",
        builder="gru",
        builder_params=section(GruParams, units=4),
        train=section(
            TrainConfig,
            epochs=2,
            batch_size=16,
            steps_per_epoch=6,
            learning_rate=0.05,
            patience=5,
            ema_momentum=ema_momentum,
        ),
    )
    data, train, val = tiny_training_inputs(WINDOW)
    result = train_model(spec, 3, data, train, val, WINDOW, verbose=0)
    kept_val_loss = result.model.evaluate(OrderedWindowBatches(data, val, WINDOW, 16), verbose=0)
    return result, float(kept_val_loss)


def test_the_kept_model_is_the_validated_moving_average_not_the_last_weights():
    plain, plain_kept = fit_gru(None)
    averaged, averaged_kept = fit_gru(0.999)
    for result, kept in ((plain, plain_kept), (averaged, averaged_kept)):
        assert np.isclose(kept, result.history[result.best_epoch - 1]["val_loss"], rtol=1e-5)
    # The same training steps (the optimizer's extra averaging ops may reorder float32 sums on
    # some CPUs: 3e-8 relative seen); momentum 0.999 over 12 steps keeps the average near the
    # first step's weights, so the validated and kept model is another one.
    np.testing.assert_allclose(
        [row["loss"] for row in averaged.history], [row["loss"] for row in plain.history], rtol=1e-6
    )
    assert abs(averaged_kept - plain_kept) > 1e-3
