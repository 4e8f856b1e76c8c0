"""DVC stage refit_windows: the rows of a refit (training + validation) normalized with their own
statistics, the windows it learns from, and the pipeline's test windows it is scored on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.normalize import SplitBounds
from jena_forecast.data.windows import WindowsConfig, window_spec
from jena_forecast.plumbing.artifacts import load_arrays, save_array, save_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.params import Sections
from jena_forecast.plumbing.tables import read_table


class Config(Sections):
    """The params this stage reads."""

    windows: WindowsConfig


def run(
    config: Config,
    *,
    table_path: Path,
    scaler_path: Path,
    split_path: Path,
    anchors_path: Path,
    refit_array_path: Path,
    refit_scaler_path: Path,
    refit_anchors_path: Path,
) -> dict[str, Any]:
    """Normalize the features table with the statistics of its training and validation rows; save
    that array, its scaler and the anchors of the refit's training and test windows."""
    from jena_forecast.refit.rows import refit_arrays

    spec, _ = window_spec(config.windows, scaler_path)
    bounds = SplitBounds.from_dict(read_json(split_path))
    test_anchors = load_arrays(anchors_path, ("test",))["test"]
    normalized, scaler_record, anchors = refit_arrays(
        read_table(table_path), bounds, spec, test_anchors
    )
    save_array(refit_array_path, normalized)
    write_json(refit_scaler_path, scaler_record)
    save_arrays(refit_anchors_path, anchors)
    return {
        "fitted_rows": scaler_record["fitted_rows"],
        "windows": {name: int(len(values)) for name, values in anchors.items()},
    }


def main() -> str:
    _, summary = call_with_paths(run)
    rows = summary["fitted_rows"]
    counts = ", ".join(f"{split} {count:,}" for split, count in summary["windows"].items())
    return f"rows [{rows[0]}, {rows[1]}) normalized on their own statistics; windows: {counts}"


if __name__ == "__main__":
    run_stage("refit_windows", main)
