"""DVC stage windows: anchors of every valid supervised window per split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.data.normalize import SPLIT_NAMES, SplitBounds
from jena_forecast.data.windows import WindowsConfig, split_anchors, window_spec
from jena_forecast.plumbing.artifacts import load_array, save_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.params import Sections


class Config(Sections):
    """The params this stage reads."""

    windows: WindowsConfig


def run(
    config: Config,
    *,
    array_path: Path,
    scaler_path: Path,
    split_path: Path,
    anchors_path: Path,
    summary_path: Path,
) -> dict[str, Any]:
    """Find every valid window of each split and save their anchors."""
    spec, _ = window_spec(config.windows, scaler_path)
    data = load_array(array_path)
    bounds = SplitBounds.from_dict(read_json(split_path))
    valid_rows = ~np.isnan(data).any(axis=1)
    anchors = split_anchors(valid_rows, {name: bounds[name] for name in SPLIT_NAMES}, spec)
    save_arrays(anchors_path, anchors)
    summary = {
        "lookback_rows": spec.lookback_rows,
        "step_rows": spec.step_rows,
        "delay_rows": spec.delay_rows,
        "timesteps": spec.timesteps,
        "target_column": config.windows.target_column,
        "features": int(data.shape[1]),
        "windows": {name: int(len(anchors[name])) for name in SPLIT_NAMES},
    }
    write_json(summary_path, summary)
    return summary


def main() -> str:
    _, summary = call_with_paths(run)
    counts = ", ".join(f"{split} {count:,}" for split, count in summary["windows"].items())
    return f"{summary['timesteps']} timesteps x {summary['features']} features; windows: {counts}"


if __name__ == "__main__":
    run_stage("windows", main)
