"""DVC stage parse: raw CSV -> regular float32 Parquet table and the data-quality report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.parse import ParseConfig, parse_csv
from jena_forecast.data.windows import WindowsConfig
from jena_forecast.plumbing.atomic import atomic_path, write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.params import Sections


class Config(Sections):
    """The params this stage reads: ``parse``, and the target column it checks the header for."""

    parse: ParseConfig
    windows: WindowsConfig


def run(
    config: Config,
    *,
    csv_path: Path,
    table_path: Path,
    quality_path: Path,
) -> dict[str, Any]:
    """Parse and repair the CSV into a regular Parquet table; write the data-quality report."""
    table, report = parse_csv(csv_path, config.parse, config.windows.target_column)
    with atomic_path(table_path) as tmp:
        table.to_parquet(tmp, engine="pyarrow")
    write_json(quality_path, report.to_dict())
    return report.to_dict()


def main() -> str:
    _, report = call_with_paths(run)
    return (
        f"{report['rows_read']:,} rows read, {report['rows_kept']:,} kept on the grid, "
        f"{report['duplicate_rows_dropped']} duplicates dropped, {report['missing_rows']} missing rows "
        f"in {report['gaps']} gaps, {report['sentinel_cells_replaced']} sentinels replaced"
    )


if __name__ == "__main__":
    run_stage("parse", main)
