"""DVC stage normalize: time split, scaler fitted on the training slice only, normalized array."""

from layout import FEATURES_TABLE, NORMALIZED, SCALER, SPLIT

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    split = steps.normalize(load_params(), FEATURES_TABLE, NORMALIZED, SCALER, SPLIT)
    ranges = ", ".join(
        f"{name} [{split[name][0]}, {split[name][1]})" for name in ("train", "val", "test")
    )
    return f"{split['rows']:,} rows: {ranges} -> {NORMALIZED}"


if __name__ == "__main__":
    run_stage("normalize", main)
