"""DVC stage windows: anchors of every valid supervised window per split."""

from layout import ANCHORS, NORMALIZED, SCALER, SPLIT, WINDOWS_SUMMARY

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    summary = steps.windows(load_params(), NORMALIZED, SCALER, SPLIT, ANCHORS, WINDOWS_SUMMARY)
    counts = ", ".join(f"{name} {count:,}" for name, count in summary["windows"].items())
    return f"windows of {summary['timesteps']} x {summary['features']}: {counts} -> {ANCHORS}"


if __name__ == "__main__":
    run_stage("windows", main)
