"""Keras datasets that assemble window batches on the fly from anchors (no window is ever stored)."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import keras
import numpy as np

from jena_forecast.data.windows import (
    InputGather,
    PathTargetGather,
    SequenceTargetGather,
    TargetGather,
    WindowSpec,
)

Gather = Callable[[np.ndarray], np.ndarray]
TargetAssembler = Callable[[np.ndarray, WindowSpec], Gather]


def target_assembler(kind: str, horizons: int | None = None) -> TargetAssembler:
    """Builds the target gather of a ``point`` model (batch, 1), a ``path`` model (batch, horizons)
    or a ``sequence`` model (batch, timesteps, horizons) from the array and the window geometry."""
    if kind in ("sequence", "path"):
        if horizons is None:
            raise ValueError(f"a {kind} target needs horizons")
        gather = SequenceTargetGather if kind == "sequence" else PathTargetGather
        return partial(gather, horizons=horizons)
    return TargetGather


class OrderedWindowBatches(keras.utils.PyDataset):
    """Every window of a split once, in time order: for validation and prediction."""

    def __init__(
        self,
        data: np.ndarray,
        anchors: np.ndarray,
        spec: WindowSpec,
        batch_size: int,
        targets: TargetAssembler = TargetGather,
    ) -> None:
        super().__init__()
        self.data, self.anchors, self.spec, self.batch_size = data, anchors, spec, batch_size
        self.inputs, self.targets = InputGather(data, spec), targets(data, spec)

    def __len__(self) -> int:
        return math.ceil(len(self.anchors) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        anchors = self.anchors[index * self.batch_size : (index + 1) * self.batch_size]
        return self.inputs(anchors), self.targets(anchors)


class ShuffledWindowBatches(keras.utils.PyDataset):
    """Training batches of epochs ``initial_epoch .. epochs - 1``, from seeded permutations of the anchors.

    The stream is a fixed function of (seed, epoch, batch index): permutation ``k`` of the anchors is
    drawn from ``default_rng([seed, k])`` and epochs take consecutive slices of the concatenated
    permutations, ``steps_per_epoch`` batches each (DLwP's 500), or one whole permutation when it is
    ``None``. Item ``i`` of this dataset is batch ``i % steps`` of epoch ``initial_epoch + i // steps``:
    a pure function of ``i``, with no epoch counter that Keras's prefetching could race. Fit it with
    ``steps_per_epoch=batches.steps`` and ``shuffle=False``; a run resumed at epoch ``e`` then sees
    exactly the batches an uninterrupted run does. With ``shuffle=False`` every permutation is the
    time order. (No shuffle buffer is needed: windows are indices, so each pass is a full permutation.)
    """

    def __init__(
        self,
        data: np.ndarray,
        anchors: np.ndarray,
        spec: WindowSpec,
        batch_size: int,
        steps_per_epoch: int | None,
        seed: int,
        epochs: int = 1,
        initial_epoch: int = 0,
        targets: TargetAssembler = TargetGather,
        shuffle: bool = True,
    ) -> None:
        super().__init__()
        self.data, self.anchors, self.spec, self.shuffle = data, anchors, spec, shuffle
        self.inputs, self.targets = InputGather(data, spec), targets(data, spec)
        self.batch_size, self.seed = batch_size, seed
        self.initial_epoch, self.epochs = initial_epoch, epochs
        self.steps = steps_per_epoch or math.ceil(len(anchors) / batch_size)
        self.epoch_samples = self.steps * batch_size if steps_per_epoch else len(anchors)
        self._permutations: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.steps * max(self.epochs - self.initial_epoch, 0)

    def _permutation(self, number: int) -> np.ndarray:
        if number not in self._permutations:
            if len(self._permutations) > 2:
                self._permutations.pop(min(self._permutations))
            if self.shuffle:
                rng = np.random.default_rng([self.seed, number])
                self._permutations[number] = rng.permutation(len(self.anchors))
            else:
                self._permutations[number] = np.arange(len(self.anchors))
        return self._permutations[number]

    def epoch_batch_anchors(self, epoch: int, index: int) -> np.ndarray:
        """Anchors of batch ``index`` of epoch ``epoch`` (both 0-based)."""
        epoch_start = epoch * self.epoch_samples
        first = epoch_start + index * self.batch_size
        last = min(first + self.batch_size, epoch_start + self.epoch_samples)
        positions = np.arange(first, last, dtype=np.int64)
        numbers, within = np.divmod(positions, len(self.anchors))
        picked = np.empty(len(positions), dtype=np.int64)
        for number in np.unique(numbers):
            chosen = numbers == number
            picked[chosen] = self._permutation(int(number))[within[chosen]]
        return self.anchors[picked]

    def batch_anchors(self, item: int) -> np.ndarray:
        """Anchors of item ``item`` of this dataset."""
        epoch, index = divmod(item, self.steps)
        return self.epoch_batch_anchors(self.initial_epoch + epoch, index)

    def __getitem__(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        anchors = self.batch_anchors(item)
        return self.inputs(anchors), self.targets(anchors)


class EpochWindowBatches(ShuffledWindowBatches):
    """The batches of one epoch at a time: item ``i`` is batch ``i`` of ``epoch``.

    ``model.fit`` gets it with ``steps_per_epoch=None``, so Keras starts a fresh iterator each epoch
    and stops at its end: with ``steps_per_execution`` above 1 the last execution of an epoch runs
    the batches that are left instead of taking the next epoch's, and every epoch sees exactly the
    batches ``ShuffledWindowBatches`` gives it. ``FollowEpochs`` sets ``epoch`` before Keras opens
    the epoch's iterator (the previous one has ended by then, so no prefetch reads across).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.epoch = self.initial_epoch

    def __len__(self) -> int:
        return self.steps

    def batch_anchors(self, item: int) -> np.ndarray:
        return self.epoch_batch_anchors(self.epoch, item)


class FollowEpochs(keras.callbacks.Callback):
    """Points an ``EpochWindowBatches`` at the epoch Keras is about to run."""

    def __init__(self, batches: EpochWindowBatches) -> None:
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.batches.epoch = epoch
