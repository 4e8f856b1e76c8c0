"""Each builder's own params, validated without importing Keras (stages that never train stay fast)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

DropoutRate = Annotated[float, Field(ge=0.0, lt=1.0)]


class BuilderParams(BaseModel):
    """Base of every builder's params: frozen, unknown keys refused.

    ``target_kind`` says what the model predicts: ``point`` (the target ``delay_rows`` ahead, shape
    (batch, 1)) or ``sequence`` (after every input timestep, the next ``horizons`` points up to
    ``delay_rows`` ahead, shape (batch, timesteps, horizons)).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    target_kind: ClassVar[Literal["point", "sequence"]] = "point"


class LinearParams(BuilderParams):
    """Flatten -> Dense(1) (Geron, ch. 15)."""


class DenseParams(BuilderParams):
    """Flatten -> Dense(units, relu) -> Dense(1) (Chollet, DLwP)."""

    units: PositiveInt = 32


class SimpleRnnParams(BuilderParams):
    """SimpleRNN(units) -> Dense(1) (Geron, ch. 15)."""

    units: PositiveInt = 32


class DeepRnnParams(BuilderParams):
    """Stacked SimpleRNN layers -> Dense(1) (Geron's deep RNN: two SimpleRNN(20))."""

    units: list[PositiveInt] = Field(default=[20, 20], min_length=1)


class GruParams(BuilderParams):
    """GRU(units) -> Dense(1), optionally with input and recurrent dropout (Chollet, DLwP)."""

    units: PositiveInt = 32
    dropout: DropoutRate = 0.0
    recurrent_dropout: DropoutRate = 0.0


class StackedGruParams(BuilderParams):
    """GRU layers, each returning sequences to the next -> Dense(1) (DLwP: GRU(32) -> GRU(64))."""

    units: list[PositiveInt] = Field(default=[32, 64], min_length=2)
    dropout: DropoutRate = 0.1
    recurrent_dropout: DropoutRate = 0.5


class LstmParams(BuilderParams):
    """LSTM(units) -> Dropout(output_dropout) -> Dense(1) (DLwP 2nd ed.: LSTM(32, recurrent_dropout=0.25), Dropout(0.5))."""

    units: PositiveInt = 32
    dropout: DropoutRate = 0.0
    recurrent_dropout: DropoutRate = 0.0
    output_dropout: DropoutRate = 0.0


class BidirectionalParams(BuilderParams):
    """Bidirectional(GRU or LSTM) -> Dense(1) (DLwP, TensorFlow course)."""

    cell: Literal["gru", "lstm"] = "gru"
    units: PositiveInt = 32
    dropout: DropoutRate = 0.0
    recurrent_dropout: DropoutRate = 0.0


class Conv1dParams(BuilderParams):
    """[Conv1D(filters, kernel, relu) -> MaxPooling1D(pool)] blocks -> GlobalMaxPooling1D -> Dense(1) (DLwP)."""

    filters: PositiveInt = 32
    kernel_size: PositiveInt = 5
    pool_size: PositiveInt = 3
    blocks: PositiveInt = 3


class Conv1dGruParams(BuilderParams):
    """Conv1D feature extractor -> GRU -> Dense(1) (DLwP 1st ed., with its own step of 3 rows)."""

    filters: PositiveInt = 32
    kernel_size: PositiveInt = 5
    pool_size: PositiveInt = 3
    conv_blocks: PositiveInt = 2
    gru_units: PositiveInt = 32
    dropout: DropoutRate = 0.1
    recurrent_dropout: DropoutRate = 0.5


class CausalCnnParams(BuilderParams):
    """Causal, dilated Conv1D stack in the WaveNet style -> last timestep -> Dense(1) (Geron, ch. 15)."""

    filters: PositiveInt = 32
    kernel_size: PositiveInt = 2
    dilation_rates: list[PositiveInt] = Field(default=[1, 2, 4, 8, 16, 32, 64, 128], min_length=1)


class Seq2SeqParams(BuilderParams):
    """GRU returning sequences -> Dense(horizons) at every timestep (Geron's sequence-to-sequence)."""

    target_kind: ClassVar[Literal["point", "sequence"]] = "sequence"
    units: PositiveInt = 32
    layers: PositiveInt = 1
    horizons: PositiveInt = 24


BUILDER_PARAMS: dict[str, type[BuilderParams]] = {
    "linear": LinearParams,
    "dense": DenseParams,
    "simple_rnn": SimpleRnnParams,
    "deep_rnn": DeepRnnParams,
    "gru": GruParams,
    "stacked_gru": StackedGruParams,
    "lstm": LstmParams,
    "bidirectional": BidirectionalParams,
    "conv1d": Conv1dParams,
    "conv1d_gru": Conv1dGruParams,
    "causal_cnn": CausalCnnParams,
    "seq2seq": Seq2SeqParams,
}
