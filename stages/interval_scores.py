"""DVC stage interval_scores: every model's prediction intervals on test, judged by width, interval
(Winkler) score and coverage by season, recomputed from the forecasts the pipeline kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jena_forecast.evaluation.ensemble import ENSEMBLE
from jena_forecast.evaluation.forecasts import load_forecasts
from jena_forecast.evaluation.interval_scores import interval_scores
from jena_forecast.evaluation.intervals import adaptive_calibration
from jena_forecast.evaluation.scoring import ScoringConfig
from jena_forecast.plumbing.atomic import write_text
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.tables import read_table, tsv


class Config(ScoringConfig):
    """The params this stage reads: the intervals, the windows' delay and the row interval."""


def run(
    config: Config,
    *,
    table_path: Path,
    forecasts_dir: Path,
    ensemble_forecasts_path: Path,
    scores_path: Path,
) -> pd.DataFrame:
    """Score the intervals of every ``<model>.npz`` of ``forecasts_dir`` and the ensemble's, at
    ``intervals.levels``, as the evaluate stage builds them; write one row per model and level."""
    timestamps = pd.DatetimeIndex(read_table(table_path).index)
    paths = {path.stem: path for path in sorted(forecasts_dir.glob("*.npz"))}
    paths[ENSEMBLE] = ensemble_forecasts_path
    if len(paths) < 2:
        raise PipelineError(f"{forecasts_dir}: no kept forecasts; run the evaluate stages first")
    delay = config.windows.delay_rows
    rows = []
    for name, path in paths.items():
        kept = load_forecasts(path)
        adaptive = adaptive_calibration(
            config.intervals, kept.anchors, delay, config.parse.interval_minutes
        )
        target_times = timestamps[np.asarray(kept.anchors["test"]) + delay]
        rows += interval_scores(name, kept, target_times, config.intervals.levels, adaptive)
    table = pd.DataFrame(rows).sort_values(["level", "winkler_degc"], kind="stable")
    write_text(scores_path, tsv(table.to_dict("records")))
    return table


def main() -> str:
    _, table = call_with_paths(run)
    best = table.iloc[0]
    return (
        f"{table['model'].nunique()} models; lowest {best['level']} Winkler score "
        f"{best['winkler_degc']:.3f} degC ({best['model']})"
    )


if __name__ == "__main__":
    run_stage("interval_scores", main)
