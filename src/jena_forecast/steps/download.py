"""Step download: fetch, verify and extract the raw CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.atomic import write_json
from jena_forecast.config import PipelineConfig
from jena_forecast.data.download import fetch_raw_csv


def download(config: PipelineConfig, csv_path: Path, record_path: Path) -> dict[str, Any]:
    """Fetch and verify the raw zip, extract its CSV, record where it came from and its checksums."""
    record = fetch_raw_csv(config.download, csv_path).to_dict()
    write_json(record_path, record)
    return record
