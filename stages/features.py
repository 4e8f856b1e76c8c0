"""DVC stage features: the parsed table plus the engineered columns of params features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.features import FeaturesConfig, add_features
from jena_forecast.data.windows import WindowsConfig
from jena_forecast.plumbing.atomic import atomic_path
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.params import Sections
from jena_forecast.plumbing.tables import read_table


class Config(Sections):
    """The params this stage reads: ``features``, and the target column its differences read."""

    features: FeaturesConfig
    windows: WindowsConfig


def run(
    config: Config,
    *,
    table_path: Path,
    features_path: Path,
) -> dict[str, Any]:
    """Add the engineered columns of ``features`` to the parsed table; with none, copy it unchanged."""
    table = read_table(table_path)
    result = add_features(table, config.features, config.windows.target_column, str(table_path))
    with atomic_path(features_path) as tmp:
        result.to_parquet(tmp, engine="pyarrow")
    columns = [str(column) for column in result.columns]
    before = {str(column) for column in table.columns}
    return {
        "features": config.features.describe(),
        "columns": columns,
        "added": [column for column in columns if column not in before],
        "dropped": [str(column) for column in table.columns if str(column) not in set(columns)],
    }


def main() -> str:
    _, summary = call_with_paths(run)
    added = ", ".join(summary["added"]) or "none"
    dropped = ", ".join(summary["dropped"]) or "none"
    return (
        f"features {summary['features']}: {len(summary['columns'])} columns, added {added}, "
        f"dropped {dropped}"
    )


if __name__ == "__main__":
    run_stage("features", main)
