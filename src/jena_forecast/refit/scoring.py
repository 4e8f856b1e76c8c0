"""What every refit stage shares: its rows, the fit it is compared with, and its outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from jena_forecast.data.normalize import column_stats
from jena_forecast.data.windows import WindowsConfig, WindowSpec, window_spec
from jena_forecast.evaluation.forecasts import Forecasts, data_fingerprint, load_forecasts
from jena_forecast.evaluation.scoring import ScoringConfig, bootstrap
from jena_forecast.plumbing.artifacts import load_array, load_arrays, save_arrays
from jena_forecast.plumbing.atomic import read_json, write_json
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.timings import split_timings, write_timings
from jena_forecast.refit.record import refit_forecast_key, refit_headline, refit_record


class RefitRows:
    """The refit's normalized array, window geometry, target statistics and anchors."""

    def __init__(
        self, windows: WindowsConfig, array_path: Path, scaler_path: Path, anchors_path: Path
    ) -> None:
        self.spec: WindowSpec
        self.spec, self.scale = window_spec(windows, scaler_path)
        self.scaler = read_json(scaler_path)
        self.mean, _ = column_stats(self.scaler, windows.target_column, str(scaler_path))
        self.data = load_array(array_path)
        self.anchors = load_arrays(anchors_path, ("train", "test"))

    def degc(self, forecast_norm: np.ndarray) -> np.ndarray:
        """Forecasts of this array's normalized units in degC."""
        return np.asarray(forecast_norm, dtype=np.float64).reshape(-1) * self.scale + self.mean

    def fit_forecasts(self, path: Path) -> Forecasts:
        """The pipeline's forecasts of the model fitted on training, refused if its test windows
        are not this refit's."""
        fit = load_forecasts(path)
        if not np.array_equal(fit.anchors["test"], self.anchors["test"]):
            raise PipelineError(
                f"{path}: forecasts of other test windows than the refit's; rerun refit_windows"
            )
        return fit

    def record(self) -> dict[str, Any]:
        """Which rows the refit learned from."""
        return {
            "fitted_on": self.scaler["fitted_on"],
            "fitted_rows": self.scaler["fitted_rows"],
            "train_windows": int(len(self.anchors["train"])),
            "refit_data": data_fingerprint(self.data),
        }


def write_refit(
    config: ScoringConfig,
    refit: dict[int, np.ndarray],
    fit: Forecasts,
    fit_runs: dict[int, np.ndarray],
    extra: dict[str, Any],
    *,
    metrics_path: Path,
    scores_path: Path,
    forecasts_path: Path,
    timing_path: Path | None = None,
    runs: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Score the refit's test forecasts (``refit``, by seed, in ``fit``'s units) and save its
    record, headline scores and forecasts, with what each run took (``runs``, by ``run_key``)
    beside its scores; training times go to ``timing_path``."""
    resampling = bootstrap(config, len(fit.anchors["test"]))
    record = refit_record(refit, fit, fit_runs, resampling, str(metrics_path))
    for key, run in (runs or {}).items():
        record["runs"][key].update(run)
    record.update(extra)
    record.update({"protocol": fit.protocol, "data": fit.data})
    save_arrays(
        forecasts_path, {refit_forecast_key(seed): values for seed, values in refit.items()}
    )
    record, timings = split_timings(record)
    write_json(metrics_path, record)
    write_timings(timing_path, timings)
    write_json(scores_path, refit_headline(record))
    return record


def summary_line(name: str, record: dict[str, Any]) -> str:
    """The stage's one-line summary."""
    test, gain = record["test"], record["vs_fit"]
    return (
        f"{name}: refitted on {record.get('fitted_on', 'train+val')} over seeds {record['seeds']}: "
        f"test MAE {test['mae_degc_mean']:.3f} ± {test['mae_degc_std']:.3f} degC, skill "
        f"{test['skill_vs_naive_mean']:+.1%} [{test['skill_low']:+.1%}, {test['skill_high']:+.1%}]; "
        f"vs the fit on training {gain['difference_degc']:+.3f} "
        f"[{gain['low_degc']:+.3f}, {gain['high_degc']:+.3f}] degC ({gain['verdict']})"
    )
