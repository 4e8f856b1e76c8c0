"""DVC stage parse: raw CSV -> regular float32 Parquet table and the data-quality report."""

from layout import DATA_QUALITY, RAW_CSV, TABLE

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    report = steps.parse(load_params(), RAW_CSV, TABLE, DATA_QUALITY)
    return (
        f"{report['rows_read']:,} rows read, {report['rows_kept']:,} kept on the grid, "
        f"{report['duplicate_rows_dropped']} duplicates dropped, {report['missing_rows']} missing rows "
        f"in {report['gaps']} gaps, {report['sentinel_cells_replaced']} sentinels replaced -> {TABLE}"
    )


if __name__ == "__main__":
    run_stage("parse", main)
