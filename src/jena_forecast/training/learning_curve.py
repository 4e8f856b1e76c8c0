"""A model's learning curve, read from its DVCLive epoch log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def learning_curve(log_dir: Path) -> list[dict[str, Any]]:
    """Training and validation loss per epoch from a DVCLive log (its step 0 is epoch 1)::

    epoch  loss   val_loss
    1      0.283  0.302
    """
    losses = {
        split: pd.read_csv(log_dir / "plots" / "metrics" / split / "loss.tsv", sep="\t")
        for split in ("train", "eval")
    }
    joined = losses["train"].merge(losses["eval"], on="step", suffixes=("", "_val"))
    return [
        {"epoch": int(step) + 1, "loss": float(loss), "val_loss": float(val_loss)}
        for step, loss, val_loss in joined[["step", "loss", "loss_val"]].itertuples(index=False)
    ]
