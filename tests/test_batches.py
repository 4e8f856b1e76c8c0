import numpy as np

from jena_forecast.data.windows import WindowSpec
from jena_forecast.training.batches import OrderedWindowBatches, ShuffledWindowBatches

SPEC = WindowSpec(lookback_rows=6, step_rows=2, delay_rows=3, target_index=0)
DATA = np.arange(200, dtype=np.float32)[:, None].repeat(2, axis=1)
ANCHORS = np.arange(10, 110, dtype=np.int64)


def epoch_anchors(batches: ShuffledWindowBatches, epoch: int) -> np.ndarray:
    return np.concatenate([batches.epoch_batch_anchors(epoch, i) for i in range(batches.steps)])


def test_a_full_pass_epoch_is_a_permutation_of_every_window():
    batches = ShuffledWindowBatches(
        DATA, ANCHORS, SPEC, batch_size=32, steps_per_epoch=None, seed=7, epochs=2
    )
    assert (batches.steps, len(batches)) == (4, 8)
    first, second = epoch_anchors(batches, 0), epoch_anchors(batches, 1)
    assert sorted(first) == list(ANCHORS)
    assert sorted(second) == list(ANCHORS) and not np.array_equal(first, second)
    np.testing.assert_array_equal(batches.batch_anchors(5), second[32:64])
    inputs, targets = batches[3]
    assert inputs.shape == (4, 3, 2) and targets.shape == (4, 1)
    np.testing.assert_array_equal(targets[:, 0], inputs[:, -1, 0] + 3)


def test_fixed_steps_stream_through_permutations_without_repeats():
    batches = ShuffledWindowBatches(
        DATA, ANCHORS, SPEC, batch_size=30, steps_per_epoch=5, seed=1, epochs=4
    )
    assert len(batches) == 20
    # 600 samples = 6 permutations of 100 windows, item after item
    stream = np.concatenate([batches.batch_anchors(item) for item in range(len(batches))])
    for k in range(6):
        assert sorted(stream[100 * k : 100 * (k + 1)]) == list(ANCHORS)


def test_items_are_a_pure_function_of_index_so_resuming_sees_the_same_data():
    uninterrupted = ShuffledWindowBatches(DATA, ANCHORS, SPEC, 16, 3, seed=5, epochs=4)
    resumed = ShuffledWindowBatches(DATA, ANCHORS, SPEC, 16, 3, seed=5, epochs=4, initial_epoch=2)
    assert (len(uninterrupted), len(resumed)) == (12, 6)
    # Items fetched out of order (as a prefetching loader may) are the same batches.
    for item in (5, 0, 3, 1):
        np.testing.assert_array_equal(resumed[item][0], uninterrupted[item + 6][0])
    np.testing.assert_array_equal(resumed.batch_anchors(0), uninterrupted.epoch_batch_anchors(2, 0))
    other_seed = ShuffledWindowBatches(
        DATA, ANCHORS, SPEC, 16, 3, seed=6, epochs=4, initial_epoch=2
    )
    assert not np.array_equal(resumed.batch_anchors(0), other_seed.batch_anchors(0))


def test_ordered_batches_cover_every_window_in_order():
    batches = OrderedWindowBatches(DATA, ANCHORS, SPEC, batch_size=32)
    assert len(batches) == 4
    targets = np.concatenate([batches[i][1][:, 0] for i in range(len(batches))])
    np.testing.assert_array_equal(targets, ANCHORS + 3)
