import numpy as np
import pytest

from jena_forecast.data.windows import (
    InputGather,
    PathTargetGather,
    SequenceTargetGather,
    TargetGather,
    WindowSpec,
    assemble_inputs,
    assemble_sequence_targets,
    assemble_targets,
    horizon_offsets,
    naive_forecast,
    split_anchors,
    window_anchors,
)
from jena_forecast.plumbing.errors import PipelineError

SPEC = WindowSpec(lookback_rows=12, step_rows=3, delay_rows=5, target_index=1)


def row_numbers(rows: int, features: int = 3) -> np.ndarray:
    """data[r, f] = 1000 * f + r: every value names its row."""
    return (np.arange(rows)[:, None] + 1000 * np.arange(features)[None, :]).astype(np.float64)


def test_inputs_and_target_are_the_rows_the_params_say():
    data = row_numbers(100)
    anchors = window_anchors(np.ones(100, dtype=bool), 0, 100, SPEC)
    # First anchor covers rows 0..11 (12 rows), inputs 2, 5, 8, 11 (step 3); last: target row 99.
    assert anchors[0] == 11 and anchors[-1] == 99 - 5
    inputs = assemble_inputs(data, anchors, SPEC)
    assert inputs.shape == (len(anchors), 4, 3)
    for anchor, window in zip(anchors, inputs, strict=True):
        np.testing.assert_array_equal(window[:, 0], [anchor - 9, anchor - 6, anchor - 3, anchor])
        np.testing.assert_array_equal(window[:, 2], 2000 + window[:, 0])
    assert inputs[0, 0, 0] == 2
    targets = assemble_targets(data, anchors, SPEC)
    np.testing.assert_array_equal(targets[:, 0], 1000 + anchors + 5)
    np.testing.assert_array_equal(naive_forecast(data, anchors, SPEC)[:, 0], 1000 + anchors)


def test_no_window_crosses_a_split_boundary():
    bounds = {"train": (0, 50), "val": (50, 80), "test": (80, 120)}
    anchors = split_anchors(np.ones(120, dtype=bool), bounds, SPEC)
    for name, (start, end) in bounds.items():
        first_rows = anchors[name] - (SPEC.lookback_rows - 1)
        targets = anchors[name] + SPEC.delay_rows
        assert first_rows.min() == start and targets.max() == end - 1
        assert len(anchors[name]) == (end - start) - SPEC.span_rows + 1


def test_windows_touching_missing_rows_are_skipped():
    valid = np.ones(60, dtype=bool)
    valid[30] = False
    anchors = window_anchors(valid, 0, 60, SPEC)
    spans = [set(range(a - 11, a + 6)) for a in anchors]
    assert all(30 not in span for span in spans)
    # Exactly the anchors whose rows from first input to target touch row 30 are gone, those
    # with row 30 between "now" and the target too (a sequence model's targets lie there).
    all_anchors = window_anchors(np.ones(60, dtype=bool), 0, 60, SPEC)
    touching = [a for a in all_anchors if a - 11 <= 30 <= a + 5]
    assert any(a < 30 < a + 5 for a in touching)
    assert sorted(set(all_anchors) - set(anchors)) == touching


def test_split_too_short_is_an_error():
    with pytest.raises(
        PipelineError, match="a window spans 17 rows .* more than the 10 rows of the val split"
    ):
        split_anchors(np.ones(40, dtype=bool), {"train": (0, 30), "val": (30, 40)}, SPEC)


def test_offsets_follow_sampling_rate_semantics():
    spec = WindowSpec(lookback_rows=1440, step_rows=6, delay_rows=144, target_index=1)
    assert spec.timesteps == 240 and len(spec.input_offsets) == 240
    assert spec.input_offsets[0] == -1434 and spec.input_offsets[-1] == 0


def test_anchors_do_not_depend_on_the_step_and_finer_steps_stay_inside():
    valid = np.ones(100, dtype=bool)
    coarse = window_anchors(valid, 0, 100, SPEC)
    fine_spec = SPEC.for_model(None, 1)
    np.testing.assert_array_equal(coarse, window_anchors(valid, 0, 100, fine_spec))
    inputs = assemble_inputs(row_numbers(100), coarse, fine_spec)
    assert inputs.shape[1] == 12 and inputs[:, 0, 0].min() == 0


def test_sequence_targets_hold_the_forecast_path_after_every_timestep():
    spec = WindowSpec(lookback_rows=12, step_rows=3, delay_rows=6, target_index=1)
    data = row_numbers(60)
    anchors = window_anchors(np.ones(60, dtype=bool), 0, 60, spec)
    targets = assemble_sequence_targets(data, anchors, spec, horizons=3)
    assert targets.shape == (len(anchors), 4, 3)
    np.testing.assert_array_equal(horizon_offsets(spec, 3), [2, 4, 6])
    a = anchors[0]
    np.testing.assert_array_equal(targets[0, -1], 1000 + a + np.array([2, 4, 6]))
    np.testing.assert_array_equal(targets[0, 0], 1000 + a - 9 + np.array([2, 4, 6]))
    np.testing.assert_array_equal(targets[:, -1, -1], assemble_targets(data, anchors, spec)[:, 0])
    assert targets.max() - 1000 <= anchors.max() + spec.delay_rows


@pytest.mark.parametrize(
    ("lookback", "step", "delay", "horizons"),
    [(12, 3, 6, 2), (12, 3, 6, 3), (12, 1, 4, 4), (1440, 6, 144, 24), (1440, 3, 144, 24)],
)
def test_phase_gathers_equal_the_plain_gathers(lookback, step, delay, horizons):
    """The batchers' block-copy gathers give exactly the one-gather definitions, in batch order."""
    spec = WindowSpec(lookback, step, delay, target_index=1)
    rows = lookback + delay + 500
    data = np.random.default_rng(lookback + step).normal(size=(rows, 3)).astype(np.float32)
    anchors = window_anchors(np.ones(rows, dtype=bool), 0, rows, spec)
    # a shuffled batch, the first and last windows, and an empty batch
    for batch in (
        np.random.default_rng(0).permutation(anchors)[:37],
        anchors[[0, -1]],
        anchors[:0],
    ):
        np.testing.assert_array_equal(
            InputGather(data, spec)(batch), assemble_inputs(data, batch, spec)
        )
        np.testing.assert_array_equal(
            TargetGather(data, spec)(batch), assemble_targets(data, batch, spec)
        )
        np.testing.assert_array_equal(
            SequenceTargetGather(data, spec, horizons)(batch),
            assemble_sequence_targets(data, batch, spec, horizons),
        )


def test_phase_gathers_of_data_shorter_than_a_window_are_empty():
    spec = WindowSpec(lookback_rows=12, step_rows=3, delay_rows=6, target_index=0)
    data = np.zeros((5, 2), dtype=np.float32)
    assert InputGather(data, spec)(np.empty(0, dtype=np.int64)).shape == (0, 4, 2)
    assert SequenceTargetGather(data, spec, 2)(np.empty(0, dtype=np.int64)).shape == (0, 4, 2)


def test_a_models_own_lookback_is_the_latest_part_of_the_same_windows():
    data = np.arange(600 * 3, dtype=np.float32).reshape(600, 3)
    spec = WindowSpec(lookback_rows=72, step_rows=6, delay_rows=12, target_index=0)
    anchors = window_anchors(np.ones(600, dtype=bool), 0, 600, spec)
    short = spec.for_model(24, None)
    assert (short.lookback_rows, short.step_rows, short.delay_rows) == (24, 6, 12)
    np.testing.assert_array_equal(
        assemble_inputs(data, anchors, short), assemble_inputs(data, anchors, spec)[:, -4:]
    )
    np.testing.assert_array_equal(
        InputGather(data, short)(anchors), assemble_inputs(data, anchors, short)
    )
    np.testing.assert_array_equal(
        assemble_targets(data, anchors, short), assemble_targets(data, anchors, spec)
    )
    assert spec.for_model(None, 3) == WindowSpec(72, 3, 12, 0)


def test_a_path_target_is_the_sequence_targets_of_the_last_timestep():
    data = row_numbers(300)
    anchors = window_anchors(np.ones(300, dtype=bool), 0, 300, SPEC)
    path = PathTargetGather(data, SPEC, horizons=5)(anchors)
    assert path.shape == (anchors.size, 5)
    np.testing.assert_array_equal(path, assemble_sequence_targets(data, anchors, SPEC, 5)[:, -1, :])
    np.testing.assert_array_equal(path[:, -1:], assemble_targets(data, anchors, SPEC))
    np.testing.assert_array_equal(path[:, 0] % 1000, anchors + 1)  # every delay_rows / 5 rows
