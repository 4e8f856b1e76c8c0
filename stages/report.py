"""DVC stage report: reports/summary.md and its PNG charts, readable without DVC."""

from layout import DATA_QUALITY, ENSEMBLE_METRICS, LEADERBOARD, REPORT_DIR, predictions

from jena_forecast import steps
from jena_forecast.cli import run_stage
from jena_forecast.config import load_params
from jena_forecast.ensemble import ENSEMBLE


def main() -> str:
    config = load_params()
    names = [*config.models, *config.classical, ENSEMBLE]
    written = steps.report(
        LEADERBOARD,
        {name: predictions(name) for name in names},
        DATA_QUALITY,
        REPORT_DIR,
        ENSEMBLE_METRICS,
    )
    return f"best model {written['best_model']} of {written['models']} rows -> {written['summary']}"


if __name__ == "__main__":
    run_stage("report", main)
