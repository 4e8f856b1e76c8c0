"""DVC stage normalize: time split, scaler fitted on the training slice only, normalized array."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.normalize import SPLIT_NAMES, SplitConfig, normalize_table
from jena_forecast.plumbing.artifacts import save_array
from jena_forecast.plumbing.atomic import write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.params import Sections
from jena_forecast.plumbing.tables import read_table


class Config(Sections):
    """The params this stage reads."""

    split: SplitConfig


def run(
    config: Config,
    *,
    table_path: Path,
    array_path: Path,
    scaler_path: Path,
    split_path: Path,
) -> dict[str, Any]:
    """Split by time, fit the scaler on the training rows, save the normalized array."""
    table = read_table(table_path)
    normalized, bounds, scaler_record = normalize_table(table, config.split, str(table_path))
    save_array(array_path, normalized)
    write_json(scaler_path, scaler_record)
    split_record = {
        **bounds.to_dict(),
        "rows": len(table),
        "first_timestamp": {name: str(table.index[bounds[name][0]]) for name in SPLIT_NAMES},
        "last_timestamp": {name: str(table.index[bounds[name][1] - 1]) for name in SPLIT_NAMES},
    }
    write_json(split_path, split_record)
    return split_record


def main() -> str:
    _, split = call_with_paths(run)
    ranges = ", ".join(
        f"{name} [{split[name][0]}, {split[name][1]})" for name in ("train", "val", "test")
    )
    return f"{split['rows']:,} rows: {ranges}"


if __name__ == "__main__":
    run_stage("normalize", main)
