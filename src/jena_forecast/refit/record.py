"""A refit's record: each run's test score, their mean over seeds with its 95% interval and test
against naive, and the seed-aware difference to the fit on training alone, on the same windows."""

from __future__ import annotations

from typing import Any

import numpy as np

from jena_forecast.evaluation.forecasts import Forecasts, seed_forecast_key
from jena_forecast.evaluation.seed_study import mean_and_std, run_key
from jena_forecast.evaluation.significance import Bootstrap, split_uncertainty
from jena_forecast.plumbing.errors import PipelineError

SPLIT = "test"


def refit_forecast_key(seed: int) -> str:
    """The name of one run's test forecasts in a refit's forecasts file (``test_seed_7``)."""
    return seed_forecast_key(SPLIT, seed)


def to_fit_units(forecast_degc: np.ndarray, fit: Forecasts) -> np.ndarray:
    """Forecasts in degC in the normalized units of the pipeline's forecasts files (``fit``'s), so a
    refit is compared there like every other forecast."""
    return (
        np.asarray(forecast_degc, dtype=np.float64).reshape(-1) - fit.target_mean
    ) / fit.target_scale


def _errors(forecasts: dict[int, np.ndarray], fit: Forecasts, where: str) -> np.ndarray:
    actual = fit.actual[SPLIT]
    rows = []
    for seed, values in forecasts.items():
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if values.shape != actual.shape:
            raise PipelineError(
                f"{where}: seed {seed} has {values.size} test forecasts, the fit {actual.size}; "
                "rerun its stage"
            )
        rows.append(np.abs(values - actual))
    return np.stack(rows)


def refit_record(
    refit: dict[int, np.ndarray],
    fit: Forecasts,
    fit_runs: dict[int, np.ndarray],
    bootstrap: Bootstrap,
    where: str,
) -> dict[str, Any]:
    """The record of a refit whose runs (by seed) forecast ``refit`` on the test windows of
    ``fit`` (the pipeline's forecasts of the model fitted on training, in its units), beside
    ``fit_runs``: that fit's test forecasts by seed (one run for a model without a seed study).

    ``test`` holds the mean and sample std over the runs of MAE and skill (std 0 for one run), the
    naive MAE, and the intervals and test against naive of the runs' mean error per window;
    ``vs_fit`` the refit's mean MAE minus the fit's with its seed-aware interval
    (``comparison.seed_noise``): negative where the extra rows helped.
    """
    from jena_forecast.comparison.seed_noise import seed_aware_difference

    scale = fit.target_scale
    errors, fit_errors = _errors(refit, fit, where), _errors(fit_runs, fit, f"{where} (fit)")
    naive_errors = fit.naive_abs_errors(SPLIT)
    naive_mae = float(naive_errors.mean()) * scale
    maes = [float(row.mean()) * scale for row in errors]
    skills = [1 - mae / naive_mae for mae in maes]
    spread = mean_and_std if len(maes) > 1 else (lambda values: (values[0], 0.0))
    (mae_mean, mae_std), (skill_mean, skill_std) = spread(maes), spread(skills)
    summary: dict[str, Any] = {
        "mae_degc_mean": round(mae_mean, 6),
        "mae_degc_std": round(mae_std, 6),
        "skill_vs_naive_mean": round(skill_mean, 6),
        "skill_vs_naive_std": round(skill_std, 6),
        "naive_mae_degc": round(naive_mae, 6),
        "windows": int(errors.shape[1]),
        **split_uncertainty(errors.mean(axis=0), naive_errors, bootstrap, scale),
    }
    gain = seed_aware_difference(fit_errors, errors, bootstrap)
    return {
        "seeds": list(refit),
        SPLIT: summary,
        "runs": {
            run_key(seed): {SPLIT: {"mae_degc": round(mae, 6), "skill_vs_naive": round(skill, 6)}}
            for seed, mae, skill in zip(refit, maes, skills, strict=True)
        },
        "vs_fit": {
            "fit_mae_degc_mean": round(float(fit_errors.mean()) * scale, 6),
            "fit_seeds": list(fit_runs),
            "difference_degc": round(gain.mean_difference * scale, 6),
            "low_degc": round(gain.low * scale, 6),
            "high_degc": round(gain.high * scale, 6),
            "p_value": round(gain.p_value, 6),
            "verdict": gain.verdict,
        },
    }


def refit_headline(record: dict[str, Any]) -> dict[str, float]:
    """The numbers ``dvc metrics diff`` compares for a refit."""
    test, gain = record[SPLIT], record["vs_fit"]
    return {
        "test_mae_degc": test["mae_degc_mean"],
        "test_skill": test["skill_vs_naive_mean"],
        "test_skill_low": test["skill_low"],
        "test_skill_high": test["skill_high"],
        "gain_vs_fit_degc": gain["difference_degc"],
    }
