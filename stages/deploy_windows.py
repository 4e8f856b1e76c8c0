"""DVC stage deploy_windows: every row of the record normalized with the statistics of every row,
and every valid window, for the deployment fit of the packed forecaster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.windows import WindowsConfig, window_spec
from jena_forecast.plumbing.artifacts import save_array, save_arrays
from jena_forecast.plumbing.atomic import write_json
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
    deploy_array_path: Path,
    deploy_scaler_path: Path,
    deploy_anchors_path: Path,
) -> dict[str, Any]:
    """Normalize the features table with the statistics of all its rows; save that array, its
    scaler and the anchors of every valid window."""
    from jena_forecast.refit.rows import deployment_arrays

    spec, _ = window_spec(config.windows, scaler_path)  # the columns' order, the target's index
    normalized, scaler_record, anchors = deployment_arrays(read_table(table_path), spec)
    save_array(deploy_array_path, normalized)
    write_json(deploy_scaler_path, scaler_record)
    save_arrays(deploy_anchors_path, anchors)
    return {"rows": scaler_record["fitted_rows"][1], "windows": int(len(anchors["train"]))}


def main() -> str:
    _, summary = call_with_paths(run)
    return f"{summary['rows']:,} rows normalized on their own statistics; {summary['windows']:,} windows"


if __name__ == "__main__":
    run_stage("deploy_windows", main)
