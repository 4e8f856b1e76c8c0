"""DVC stage download: the Jena climate zip (URL or local mirror), checksum-verified -> data/raw CSV."""

from layout import DOWNLOAD_RECORD, RAW_CSV

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    record = steps.download(load_params(), RAW_CSV, DOWNLOAD_RECORD)
    pinned = "matches download.sha256" if record["zip_sha256_pinned"] else "not pinned"
    return f"{RAW_CSV} ({record['member_bytes']:,} bytes) from {record['source']}, sha256 {record['zip_sha256']} ({pinned})"


if __name__ == "__main__":
    run_stage("download", main)
