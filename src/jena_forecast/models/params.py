"""Each builder's own params, validated without importing Keras (stages that never train stay fast)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class BuilderParams(BaseModel):
    """Base of every builder's params: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LinearParams(BuilderParams):
    """Flatten -> Dense(1) (Geron, ch. 15)."""


class DenseParams(BuilderParams):
    """Flatten -> Dense(units, relu) -> Dense(1) (Chollet, DLwP)."""

    units: PositiveInt = 32


class GruParams(BuilderParams):
    """GRU(units) -> Dense(1) (Chollet, DLwP)."""

    units: PositiveInt = 32
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    recurrent_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)


BUILDER_PARAMS: dict[str, type[BuilderParams]] = {
    "linear": LinearParams,
    "dense": DenseParams,
    "gru": GruParams,
}
