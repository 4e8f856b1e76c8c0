import numpy as np

from jena_forecast.data.windows import WindowSpec
from jena_forecast.training.batches import OrderedWindowBatches, ShuffledWindowBatches

SPEC = WindowSpec(lookback_rows=6, step_rows=2, delay_rows=3, target_index=0)
DATA = np.arange(200, dtype=np.float32)[:, None].repeat(2, axis=1)
ANCHORS = np.arange(10, 110, dtype=np.int64)


def epoch_anchors(batches: ShuffledWindowBatches) -> np.ndarray:
    return np.concatenate([batches.batch_anchors(i) for i in range(len(batches))])


def test_a_full_pass_epoch_is_a_permutation_of_every_window():
    batches = ShuffledWindowBatches(
        DATA, ANCHORS, SPEC, batch_size=32, steps_per_epoch=None, seed=7
    )
    assert len(batches) == 4
    first = epoch_anchors(batches)
    assert sorted(first) == list(ANCHORS)
    batches.on_epoch_end()
    second = epoch_anchors(batches)
    assert sorted(second) == list(ANCHORS) and not np.array_equal(first, second)
    inputs, targets = batches[3]
    assert inputs.shape == (4, 3, 2) and targets.shape == (4, 1)
    np.testing.assert_array_equal(targets[:, 0], inputs[:, -1, 0] + 3)


def test_fixed_steps_stream_through_permutations_without_repeats():
    batches = ShuffledWindowBatches(DATA, ANCHORS, SPEC, batch_size=30, steps_per_epoch=5, seed=1)
    stream = []
    for _ in range(4):
        stream.append(epoch_anchors(batches))
        batches.on_epoch_end()
    stream = np.concatenate(stream)  # 600 samples = 6 permutations of 100 windows
    for k in range(6):
        assert sorted(stream[100 * k : 100 * (k + 1)]) == list(ANCHORS)


def test_batches_are_a_function_of_seed_and_epoch_so_resuming_sees_the_same_data():
    uninterrupted = ShuffledWindowBatches(DATA, ANCHORS, SPEC, 16, steps_per_epoch=3, seed=5)
    for _ in range(2):
        uninterrupted.on_epoch_end()
    resumed = ShuffledWindowBatches(
        DATA, ANCHORS, SPEC, 16, steps_per_epoch=3, seed=5, initial_epoch=2
    )
    np.testing.assert_array_equal(epoch_anchors(uninterrupted), epoch_anchors(resumed))
    other_seed = ShuffledWindowBatches(
        DATA, ANCHORS, SPEC, 16, steps_per_epoch=3, seed=6, initial_epoch=2
    )
    assert not np.array_equal(epoch_anchors(resumed), epoch_anchors(other_seed))


def test_ordered_batches_cover_every_window_in_order():
    batches = OrderedWindowBatches(DATA, ANCHORS, SPEC, batch_size=32)
    assert len(batches) == 4
    targets = np.concatenate([batches[i][1][:, 0] for i in range(len(batches))])
    np.testing.assert_array_equal(targets, ANCHORS + 3)
