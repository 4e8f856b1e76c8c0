"""DVC stage report: reports/summary.md and its PNG charts, readable without DVC."""

from layout import DATA_QUALITY, LEADERBOARD, REPORT_DIR, predictions

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params


def main() -> str:
    config = load_params()
    names = [*config.models, *config.classical]
    written = steps.report(
        LEADERBOARD, {name: predictions(name) for name in names}, DATA_QUALITY, REPORT_DIR
    )
    return f"best model {written['best_model']} of {written['models']} rows -> {written['summary']}"


if __name__ == "__main__":
    run_stage("report", main)
