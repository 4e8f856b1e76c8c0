"""DVC stage download: the Jena climate zip (URL or local mirror), checksum-verified -> data/raw CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.download import DownloadConfig, fetch_raw_csv
from jena_forecast.plumbing.atomic import write_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.params import Sections


class Config(Sections):
    """The params this stage reads."""

    download: DownloadConfig


def run(
    config: Config,
    *,
    embedded_zip_path: Path,
    csv_path: Path,
    record_path: Path,
) -> dict[str, Any]:
    """Fetch and verify the zip ``download.source`` names (``embedded_zip_path``: the one shipped
    with the project), extract its CSV, record where it came from and its checksums."""
    record = fetch_raw_csv(config.download, csv_path, embedded_zip_path).to_dict()
    write_json(record_path, record)
    return record


def main() -> str:
    _, record = call_with_paths(run)
    pinned = "pinned" if record["zip_sha256_pinned"] else "not pinned"
    return (
        f"{record['member']} ({record['member_bytes']:,} bytes) from {record['source']}, "
        f"sha256 {record['zip_sha256']} ({pinned})"
    )


if __name__ == "__main__":
    run_stage("download", main)
