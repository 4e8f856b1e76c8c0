"""DVC stage backtest@<export>: every model, the ensemble and naive scored on another export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.normalize import column_stats
from jena_forecast.data.windows import window_spec
from jena_forecast.evaluation.ensemble import ENSEMBLE, average_forecasts
from jena_forecast.plumbing.atomic import read_json, write_json, write_text
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.tables import tsv
from jena_forecast.serving.backtest import BacktestConfig
from jena_forecast.serving.forecaster import ForecasterConfig

FORECASTER = "forecaster"  # the packed forecaster's row


def packed_summary(packed: Any) -> dict[str, Any]:
    """Which model and fit the packed forecaster's row is."""
    return {
        "model": packed.model,
        "members": [member.name for member in packed.members],
        "fit": packed.record.get("fit", "training"),
        "fitted_rows": packed.record.get("fitted_rows", packed.scaler.get("fitted_rows")),
    }


class Config(ForecasterConfig):
    """The params this stage reads."""

    backtest: BacktestConfig


def run(
    config: Config,
    name: str,
    *,
    export_path: Path,
    scaler_path: Path,
    normalized_path: Path,
    quality_path: Path,
    model_dir: Path,
    ensemble_path: Path,
    metrics_path: Path,
    table_path: Path,
    forecaster_dir: Path | None = None,
) -> dict[str, Any]:
    """Score every model of params (networks and classical), the ensemble's members averaged and
    naive on every complete window of backtest export ``name``, scaled with the training slice's
    statistics; write the record (``metrics_path``) and a table ranked by MAE (``table_path``).

    With ``forecaster_dir``, the packed forecaster is scored beside them on the same windows as
    ``forecaster`` (its deployment fit, scaled with its own statistics): the fits on the training
    slice and the fit on every row side by side."""
    from jena_forecast.serving.backtest import (
        check_inputs,
        check_sha256,
        export_anchors,
        export_csv,
        export_record,
        score_models,
    )
    from jena_forecast.serving.forecaster import load_forecaster, member_forecast, member_of
    from jena_forecast.serving.station import read_export

    export = config.backtest.export(name)
    sha256 = check_sha256(export_path, export)
    scaler = read_json(scaler_path)
    target = config.windows.target_column
    spec, scale = window_spec(config.windows, scaler_path)
    with export_csv(export_path) as csv_path:
        record = read_export(
            csv_path,
            export.parse_config(config.parse),
            config.features,
            target,
            list(read_json(quality_path)["columns"]),
            scaler,
        )
    outside = check_inputs(export, record, scaler, normalized_path)
    anchors = export_anchors(record, spec)
    packed, packed_record = None, None  # the packed forecaster, once the export is known good
    if forecaster_dir is not None:
        packed = load_forecaster(forecaster_dir)
        with export_csv(export_path) as csv_path:
            packed_record = read_export(
                csv_path,
                export.parse_config(config.parse),
                packed.features,
                target,
                packed.raw_columns,
                packed.scaler,
            )
    rows_per_hour = 60 // config.parse.interval_minutes
    forecasts = {
        model: member_forecast(
            member_of(config, model, model_dir, spec),
            record.data,
            record.timestamps,
            anchors,
            spec,
            scaler,
            rows_per_hour,
        )
        for model in [*config.models, *config.classical]
    }
    members = read_json(ensemble_path)["members"]
    forecasts[ENSEMBLE] = average_forecasts([forecasts[member] for member in members])
    if packed is not None and packed_record is not None:
        mean, _ = column_stats(scaler, target, str(scaler_path))
        degc = packed.predict(packed_record.data, packed_record.timestamps, anchors)
        forecasts[FORECASTER] = (degc - mean) / scale
    scores = score_models(config, forecasts, record.data, anchors, spec, scale)
    metrics = {
        "export": export_record(export, record, anchors, sha256) | {"forced_inputs": outside},
        "protocol": config.protocol(),
        "features": config.features.describe(),
        "ensemble_members": list(members),
        **({"forecaster": packed_summary(packed)} if packed is not None else {}),
        "models": scores,
    }
    ranked = sorted(scores, key=lambda model: (scores[model]["mae_degc"], model))
    write_text(table_path, tsv([{"model": model, **scores[model]} for model in ranked]))
    write_json(metrics_path, metrics)
    return metrics


def main() -> str:
    (name,), metrics = call_with_paths(run)
    scores = metrics["models"]
    best = min((m for m in scores if m != "naive"), key=lambda m: scores[m]["mae_degc"])
    better = sum(1 for m in scores if scores[m]["verdict_vs_naive"] == "better")
    return (
        f"{name}: {metrics['export']['windows']:,} windows "
        f"({metrics['export']['first_timestamp']} to {metrics['export']['last_timestamp']}); "
        f"naive MAE {scores['naive']['mae_degc']:.3f} degC, best {best} "
        f"{scores[best]['mae_degc']:.3f} ({scores[best]['skill_vs_naive']:+.1%}); "
        f"{better} of {len(scores) - 1} better than naive beyond the noise"
    )


if __name__ == "__main__":
    run_stage("backtest", main)
