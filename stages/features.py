"""DVC stage features: the parsed table plus the engineered columns of params features."""

from layout import FEATURES_TABLE, TABLE

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    summary = steps.features(load_params(), TABLE, FEATURES_TABLE)
    added = ", ".join(summary["added"]) or "none"
    dropped = ", ".join(summary["dropped"]) or "none"
    return (
        f"features {summary['features']}: {len(summary['columns'])} columns, added {added}, "
        f"dropped {dropped} -> {FEATURES_TABLE}"
    )


if __name__ == "__main__":
    run_stage("features", main)
