"""The model family, one class per builder: its params (validated without Keras, so stages that
never train stay fast) and, beside them, the ``build`` that turns them into an uncompiled
``keras.Model`` for inputs of shape (timesteps, features).

Adding a model is one class here (``class MyParams(BuilderParams, builder="my_model")`` with its
fields and ``build``) and its entry under ``models:`` in ``params.yaml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

if TYPE_CHECKING:
    import keras

DropoutRate = Annotated[float, Field(ge=0.0, lt=1.0)]
Shape = tuple[int, int]

BUILDER_PARAMS: dict[str, type[BuilderParams]] = {}


def _keras() -> tuple[Any, Any, Any]:
    """Keras, its layers and the shared pieces; imported here, when a model is built, because every
    stage validates params and most never build a model."""
    import keras

    from jena_forecast.models import keras_parts

    return keras, keras.layers, keras_parts


class BuilderParams(BaseModel):
    """Base of every builder's params: frozen, unknown keys refused; a subclass declared with
    ``builder="name"`` is the builder of that name.

    ``target_kind`` says what the model predicts: ``point`` (the target ``delay_rows`` ahead, shape
    (batch, 1)) or ``sequence`` (after every input timestep, the next ``horizons`` points up to
    ``delay_rows`` ahead, shape (batch, timesteps, horizons)).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    target_kind: ClassVar[Literal["point", "sequence"]] = "point"

    def __init_subclass__(cls, builder: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if builder is not None:
            BUILDER_PARAMS[builder] = cls

    def build(self, input_shape: Shape) -> keras.Model:
        raise NotImplementedError


class LinearParams(BuilderParams, builder="linear"):
    """Flatten -> Dense(1): a linear regression over every input value (Geron, ch. 15)."""

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        return parts.dense_head(inputs, layers.Flatten()(inputs), "linear")


class DenseParams(BuilderParams, builder="dense"):
    """Flatten -> Dense(units, relu) -> Dense(1) (Chollet, DLwP 6.3 / 10.2)."""

    units: PositiveInt

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = layers.Dense(self.units, activation="relu")(layers.Flatten()(inputs))
        return parts.dense_head(inputs, hidden, "dense")


class SimpleRnnParams(BuilderParams, builder="simple_rnn"):
    """SimpleRNN(units) -> Dense(1) (Geron, ch. 15)."""

    units: PositiveInt

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        return parts.dense_head(inputs, layers.SimpleRNN(self.units)(inputs), "simple_rnn")


class DeepRnnParams(BuilderParams, builder="deep_rnn"):
    """Stacked SimpleRNN layers -> Dense(1) (Geron's deep RNN: two SimpleRNN(20))."""

    units: list[PositiveInt] = Field(min_length=1)

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = inputs
        for position, units in enumerate(self.units):
            last = position == len(self.units) - 1
            hidden = layers.SimpleRNN(units, return_sequences=not last)(hidden)
        return parts.dense_head(inputs, hidden, "deep_rnn")


class GruParams(BuilderParams, builder="gru"):
    """GRU(units) -> Dense(1), optionally with input and recurrent dropout (Chollet, DLwP)."""

    units: PositiveInt
    dropout: DropoutRate
    recurrent_dropout: DropoutRate

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = layers.GRU(
            self.units, dropout=self.dropout, recurrent_dropout=self.recurrent_dropout
        )(inputs)
        return parts.dense_head(inputs, hidden, "gru")


class StackedGruParams(BuilderParams, builder="stacked_gru"):
    """GRU layers, each returning sequences to the next -> Dense(1) (DLwP 6.3: GRU(32) -> GRU(64))."""

    units: list[PositiveInt] = Field(min_length=2)
    dropout: DropoutRate
    recurrent_dropout: DropoutRate

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = inputs
        for position, units in enumerate(self.units):
            last = position == len(self.units) - 1
            hidden = layers.GRU(
                units,
                dropout=self.dropout,
                recurrent_dropout=self.recurrent_dropout,
                return_sequences=not last,
            )(hidden)
        return parts.dense_head(inputs, hidden, "stacked_gru")


class LstmParams(BuilderParams, builder="lstm"):
    """LSTM(units) -> Dropout(output_dropout) -> Dense(1) (DLwP 2nd ed. 10.2-10.4:
    LSTM(32, recurrent_dropout=0.25), Dropout(0.5))."""

    units: PositiveInt
    dropout: DropoutRate
    recurrent_dropout: DropoutRate
    output_dropout: DropoutRate

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = layers.LSTM(
            self.units, dropout=self.dropout, recurrent_dropout=self.recurrent_dropout
        )(inputs)
        if self.output_dropout:
            hidden = layers.Dropout(self.output_dropout)(hidden)
        return parts.dense_head(inputs, hidden, "lstm")


class BidirectionalParams(BuilderParams, builder="bidirectional"):
    """Bidirectional(GRU or LSTM) -> Dense(1) (Chollet, DLwP 6.3; TensorFlow course)."""

    cell: Literal["gru", "lstm"]
    units: PositiveInt
    dropout: DropoutRate
    recurrent_dropout: DropoutRate

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        cell = layers.GRU if self.cell == "gru" else layers.LSTM
        inputs = keras.Input(shape=input_shape)
        hidden = layers.Bidirectional(
            cell(self.units, dropout=self.dropout, recurrent_dropout=self.recurrent_dropout)
        )(inputs)
        return parts.dense_head(inputs, hidden, "bidirectional")


class Conv1dParams(BuilderParams, builder="conv1d"):
    """[Conv1D(filters, kernel, relu) -> MaxPooling1D(pool)] x (blocks - 1) -> Conv1D ->
    GlobalMaxPooling1D -> Dense(1) (Chollet, DLwP 6.4)."""

    filters: PositiveInt
    kernel_size: PositiveInt
    pool_size: PositiveInt
    blocks: PositiveInt

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = parts.conv_blocks(
            inputs, self.filters, self.kernel_size, self.pool_size, self.blocks - 1
        )
        hidden = layers.Conv1D(self.filters, self.kernel_size, activation="relu")(hidden)
        return parts.dense_head(inputs, layers.GlobalMaxPooling1D()(hidden), "conv1d")


class Conv1dGruParams(BuilderParams, builder="conv1d_gru"):
    """Conv1D -> MaxPooling1D -> Conv1D -> GRU -> Dense(1) (DLwP 1st ed. 6.4, with its own step of
    3 rows)."""

    filters: PositiveInt
    kernel_size: PositiveInt
    pool_size: PositiveInt
    conv_blocks: PositiveInt
    gru_units: PositiveInt
    dropout: DropoutRate
    recurrent_dropout: DropoutRate

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = parts.conv_blocks(
            inputs, self.filters, self.kernel_size, self.pool_size, self.conv_blocks - 1
        )
        hidden = layers.Conv1D(self.filters, self.kernel_size, activation="relu")(hidden)
        hidden = layers.GRU(
            self.gru_units, dropout=self.dropout, recurrent_dropout=self.recurrent_dropout
        )(hidden)
        return parts.dense_head(inputs, hidden, "conv1d_gru")


class CausalCnnParams(BuilderParams, builder="causal_cnn"):
    """Causal Conv1D layers with doubling dilation (WaveNet style) -> last timestep -> Dense(1)
    (Geron, ch. 15)."""

    filters: PositiveInt
    kernel_size: PositiveInt
    dilation_rates: list[PositiveInt] = Field(min_length=1)

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, parts = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = inputs
        for rate in self.dilation_rates:
            hidden = layers.Conv1D(
                self.filters,
                self.kernel_size,
                padding="causal",
                dilation_rate=rate,
                activation="relu",
            )(hidden)
        return parts.dense_head(inputs, parts.LastTimestep()(hidden), "causal_cnn")


class Seq2SeqParams(BuilderParams, builder="seq2seq"):
    """GRU(return_sequences) layers -> Dense(horizons) at every timestep (Geron's seq-to-seq),
    optionally with input and recurrent dropout in each GRU layer (none in the text).

    Output shape (batch, timesteps, horizons): after every input timestep, the forecast of the next
    ``horizons`` points; the last timestep's row is the forecast path from "now".
    """

    target_kind: ClassVar[Literal["point", "sequence"]] = "sequence"
    units: PositiveInt
    layers: PositiveInt
    horizons: PositiveInt
    dropout: DropoutRate
    recurrent_dropout: DropoutRate

    def build(self, input_shape: Shape) -> keras.Model:
        keras, layers, _ = _keras()
        inputs = keras.Input(shape=input_shape)
        hidden = inputs
        for _ in range(self.layers):
            hidden = layers.GRU(
                self.units,
                return_sequences=True,
                dropout=self.dropout,
                recurrent_dropout=self.recurrent_dropout,
            )(hidden)
        outputs = layers.Dense(self.horizons, dtype="float32")(hidden)
        return keras.Model(inputs, outputs, name="seq2seq")
