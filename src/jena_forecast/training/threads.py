"""``train.intra_op_threads``: how many threads TensorFlow gives one op while a model trains."""

from __future__ import annotations

import sys


def use_intra_op_threads(threads: int | None) -> None:
    """Sizes TensorFlow's intra-op pool before its first op; ``None`` leaves its default.

    The size is part of the result (a sum split over more threads adds in another order), so it is
    a param. TensorFlow fixes the pool when it starts: a process that already ran an op with another
    size (a test, a notebook) keeps it, with a warning naming the param; a stage's fresh process
    always gets the param's.
    """
    if threads is None:
        return
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() == threads:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:
        current = tf.config.threading.get_intra_op_parallelism_threads() or "its default"
        print(
            f"train.intra_op_threads={threads}: TensorFlow already started in this process with "
            f"{current} intra-op threads; training with those",
            file=sys.stderr,
        )
