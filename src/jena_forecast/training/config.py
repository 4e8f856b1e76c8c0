"""How a network is fitted (``train``, a model's own ``train`` on top) and the learning-rate range
test (``lr_range_test``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from jena_forecast.plumbing.params import Frozen


class TrainConfig(Frozen):
    """How one model is fitted; ``train`` in params holds the defaults, a model's ``train`` overrides them."""

    optimizer: Literal["adam", "rmsprop", "sgd"]
    learning_rate: PositiveFloat
    momentum: float = Field(ge=0.0, lt=1.0)
    loss: Literal["mae", "mse", "huber"]
    batch_size: PositiveInt
    epochs: PositiveInt
    steps_per_epoch: PositiveInt | None
    patience: NonNegativeInt
    lr_schedule: Literal["constant", "cosine", "plateau"]
    warmup_steps: NonNegativeInt
    weight_decay: float = Field(ge=0.0)
    global_clipnorm: PositiveFloat | None
    ema_momentum: float | None = Field(gt=0.0, lt=1.0)
    shuffle: bool
    # How the model runs, not what it is (docs/performance.md, "Training levers").
    strategy: Literal["default", "mirrored", "multi_worker"]
    jit_compile: bool
    steps_per_execution: PositiveInt
    intra_op_threads: PositiveInt | None
    mixed_precision: bool

    @model_validator(mode="after")
    def _levers_run_on_one_device(self) -> TrainConfig:
        """XLA and several steps per execution are for the default strategy: under mirrored and
        multi-worker TensorFlow 2.21 fails on both (XLA's variables on another device, the multi-step
        loop), so a distributed run trains without them and its record says so."""
        if self.strategy != "default" and (self.jit_compile or self.steps_per_execution > 1):
            return self.model_copy(update={"jit_compile": False, "steps_per_execution": 1})
        return self

    @model_validator(mode="after")
    def _warmup_needs_a_schedule(self) -> TrainConfig:
        if self.warmup_steps and self.lr_schedule == "plateau":
            raise ValueError(
                "warmup_steps must be 0 with lr_schedule plateau (the plateau callback sets the "
                f"rate itself); received warmup_steps={self.warmup_steps}"
            )
        return self


class LrRangeTestConfig(Frozen):
    """The learning-rate range test: one short run of ``model`` with an exponentially growing rate."""

    model: str
    min_learning_rate: PositiveFloat
    max_learning_rate: PositiveFloat
    steps: PositiveInt

    @classmethod
    def check(cls, raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
        """The model is one of ``models``; the rate grows from its minimum to its maximum."""
        test, raw_models = values.get("lr_range_test"), raw.get("models")
        if test is None or not isinstance(raw_models, dict):
            return
        if raw_models and test.model not in raw_models:
            problems.append(
                f"lr_range_test.model: {test.model!r} is not in models. "
                f"Expected one of: {', '.join(map(str, raw_models))}"
            )
        if test.min_learning_rate >= test.max_learning_rate:
            problems.append(
                "lr_range_test.min_learning_rate must be below lr_range_test.max_learning_rate"
            )
