"""Step parse: the raw CSV into a regular Parquet table and a data-quality report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.atomic import atomic_path, write_json
from jena_forecast.config import PipelineConfig
from jena_forecast.data.parse import parse_csv


def parse(
    config: PipelineConfig, csv_path: Path, table_path: Path, quality_path: Path
) -> dict[str, Any]:
    """Parse and repair the CSV into a regular Parquet table; write the data-quality report."""
    table, report = parse_csv(csv_path, config.parse, config.windows.target_column)
    with atomic_path(table_path) as tmp:
        table.to_parquet(tmp, engine="pyarrow")
    write_json(quality_path, report.to_dict())
    return report.to_dict()
