"""Weight averaging: a model validated, early-stopped and kept on the moving average of its weights."""

from __future__ import annotations

import keras


class AveragedWeightsAtEpochEnd(keras.callbacks.SwapEMAWeights):
    """With an optimizer of ``use_ema=True``: the training steps move the weights, while validation,
    the callbacks after this one (early stopping, checkpoints) and the kept model see their
    exponential moving average (Polyak averaging).

    Keras's ``SwapEMAWeights(swap_on_epoch=True)``, which exchanges the weights and their average
    in place at every epoch's end and back at the next epoch's start. An epoch's checkpoint is
    therefore saved with the average in the model, so a run ``resumed`` from one starts that way.
    It must come before early stopping in ``callbacks``.
    """

    def __init__(self, resumed: bool = False) -> None:
        super().__init__(swap_on_epoch=True)
        self._ema_weights_in_model = resumed
