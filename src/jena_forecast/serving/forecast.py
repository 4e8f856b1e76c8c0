"""Tomorrow's temperature from a station export: the 24 h forecast after its last row.

    python -m jena_forecast.forecast --csv latest.csv                 # the packed forecaster
    python -m jena_forecast.forecast --csv latest.csv --model gru     # a model of this pipeline
    python -m jena_forecast.forecast --csv latest.csv --forecaster DIR --output forecast.json

The export is parsed, repaired and refused exactly as the pipeline's record (the packed ``parse``
params: columns, timestamp format, sentinels, interpolation limit), cut to the columns the model
was trained on (others are ignored and named), scaled with the training slice's statistics, and
its latest complete window (the last ``lookback_rows`` rows, ending at the last row) is forecast.
The default forecaster is ``data/forecaster`` (the ``package`` stage: the leaderboard's best,
or ``dvc artifacts get``); ``--model`` packs one of this checkout's trained models on the fly.

Printed, and written to ``--output`` (``.json`` or ``.csv``): the time of the last row and of the
forecast, the forecast in degC with its prediction interval per level, and the naive forecast.
Bad input gets one line naming the file, column or row, exit code 2, and no output file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from jena_forecast.data.parse import ParseConfig
from jena_forecast.plumbing.atomic import write_json, write_text
from jena_forecast.plumbing.cli import USER_ERROR_EXIT_CODE
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.serving.forecaster import (
    Forecaster,
    ForecasterConfig,
    PipelineFiles,
    load_forecaster,
    pack,
)
from jena_forecast.serving.input_check import OutOfRange, record_out_of_range
from jena_forecast.serving.station import StationRecord, read_export

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_FORECASTER = Path("data/forecaster")
OUTPUT_SUFFIXES = (".json", ".csv")
SHOWN_MISSING_ROWS = 3
# What the packed models were fitted on (the record's ``fit``; a forecaster packed before it: training).
FIT_DESCRIPTIONS = {"deployment": "every row of its record", "training": "the training slice"}


def pipeline_files(dvc_yaml: Path = Path("dvc.yaml")) -> PipelineFiles:
    """The pipeline's paths from ``dvc.yaml``'s ``vars: paths`` (the one place they are written)."""
    try:
        variables = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["vars"]
        paths = next(entry["paths"] for entry in variables if "paths" in entry)
    except (OSError, KeyError, StopIteration, TypeError, yaml.YAMLError) as error:
        raise PipelineError(
            f"{dvc_yaml}: cannot read the pipeline's paths ({error!r}); run --model from the "
            "project's root, or give --forecaster"
        ) from error
    return PipelineFiles(
        model_dir=Path(paths["model_dir"]),
        scaler=Path(paths["scaler"]),
        normalized=Path(paths["normalized"]),
        data_quality=Path(paths["data_quality"]),
        model_metrics=Path(paths["model_metrics"]),
        forecasts=Path(paths["forecasts"]),
        ensemble_metrics=Path(paths["ensemble_metrics"]),
        ensemble_forecasts=Path(paths["ensemble_forecasts"]),
    )


def export_parse(parse: ParseConfig, **overrides: str) -> ParseConfig:
    """``parse`` with the export's own timestamp format or column, validated like the params."""
    try:
        return ParseConfig(**{**parse.model_dump(), **overrides})
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        given = " ".join(f"--{key.replace('_', '-')} {value!r}" for key, value in overrides.items())
        raise PipelineError(f"{given}: {message}") from None


def latest_anchor(forecaster: Forecaster, record: StationRecord) -> int:
    """The last row, when the window ending there is complete; otherwise a PipelineError that says
    how much history is missing or which rows are incomplete."""
    rows, needed = len(record.timestamps), forecaster.history_rows
    minutes = forecaster.parse.interval_minutes
    if rows < needed:
        raise PipelineError(
            f"{record.source}: too short for one window: {rows} rows of {minutes} minutes "
            f"({record.timestamps[0]} to {record.timestamps[-1]}), a forecast needs the last "
            f"{needed} rows ({needed * minutes / 60 / 24:g} days)"
        )
    first = rows - needed
    window = record.data[first:]
    incomplete = np.flatnonzero(np.isnan(window).any(axis=1)) + first
    if len(incomplete):
        column_names = list(forecaster.scaler["columns"])
        columns = sorted(
            {column_names[c] for c in np.flatnonzero(np.isnan(record.data[incomplete]).any(axis=0))}
        )
        shown = ", ".join(str(record.timestamps[row]) for row in incomplete[:SHOWN_MISSING_ROWS])
        more = len(incomplete) - SHOWN_MISSING_ROWS
        raise PipelineError(
            f"{record.source}: the latest window ({record.timestamps[first]} to "
            f"{record.timestamps[-1]}) has {len(incomplete)} row(s) with missing values that "
            f"were not filled (gaps longer than parse.max_fill_rows="
            f"{forecaster.parse.max_fill_rows} rows, or at the end of the file): {shown}"
            f"{f' and {more} more' if more > 0 else ''}; columns: {', '.join(columns)}"
        )
    return rows - 1


def unknown_inputs(
    forecaster: Forecaster, record: StationRecord, margin_std: float
) -> list[OutOfRange]:
    """The columns of the latest window outside the training slice's range (widened by
    ``margin_std`` of the column's scale) or physical limits (``serving.input_check``)."""
    if not forecaster.training_ranges:
        return []
    first = len(record.timestamps) - forecaster.history_rows
    return record_out_of_range(
        record.data[first:],
        record.timestamps[first:],
        forecaster.scaler,
        forecaster.training_ranges,
        margin_std,
    )


def forecast_record(
    forecaster: Forecaster, record: StationRecord, margin_std: float = 1.0, force: bool = False
) -> dict[str, Any]:
    """The forecast for ``delay_rows`` after the export's last row, with intervals and naive.
    Inputs outside what the model knows are refused, or with ``force`` forecast with a warning."""
    anchor = np.array([latest_anchor(forecaster, record)])
    unknown = unknown_inputs(forecaster, record, margin_std)
    if unknown and not force:
        raise PipelineError(
            "; ".join(found.describe(record.source) for found in unknown)
            + ". Check the export's units and columns, or forecast anyway with --force"
        )
    value = float(forecaster.predict(record.data, record.timestamps, anchor)[0])
    naive = float(forecaster.naive(record.data, anchor)[0])
    issued = record.timestamps[-1]
    delay = pd.Timedelta(minutes=forecaster.spec.delay_rows * forecaster.parse.interval_minutes)
    result: dict[str, Any] = {
        "model": forecaster.model,
        "fit": FIT_DESCRIPTIONS.get(
            str(forecaster.record.get("fit")), FIT_DESCRIPTIONS["training"]
        ),
        "last_observation": str(issued),
        "forecast_for": str(issued + delay),
        "forecast_degc": round(value, 3),
    }
    for key, interval in forecaster.intervals.items():
        width = float(interval["half_width_degc"])
        result[f"{key}_low_degc"] = round(value - width, 3)
        result[f"{key}_high_degc"] = round(value + width, 3)
    result["naive_degc"] = round(naive, 3)
    result["source"] = record.source
    result["ignored_columns"] = list(record.ignored_columns)
    result["warnings"] = [
        "forced: " + found.describe(record.source) + "; the forecast extrapolates"
        for found in unknown
    ]
    return result


def write_output(path: Path, result: dict[str, Any]) -> None:
    """``result`` as JSON or as a one-row CSV, by the suffix of ``path``, written atomically."""
    if path.suffix == ".json":
        write_json(path, result)
    else:
        row = {key: "; ".join(v) if isinstance(v, list) else v for key, v in result.items()}
        write_text(path, pd.DataFrame([row]).to_csv(index=False, lineterminator="\n"))


def describe(result: dict[str, Any]) -> str:
    """Human-readable lines of a forecast record."""
    lines = [
        f"model: {result['model']}" + (f" (fitted on {result['fit']})" if "fit" in result else ""),
        f"last observation: {result['last_observation']}",
        f"forecast for {result['forecast_for']}: {result['forecast_degc']:.2f} degC",
    ]
    levels = sorted({key.split("_")[0] for key in result if key.endswith("_low_degc")})
    for key in levels:
        low, high = result[f"{key}_low_degc"], result[f"{key}_high_degc"]
        lines.append(f"  {key[1:]}% interval: {low:.2f} to {high:.2f} degC")
    lines.append(f"naive forecast (the temperature now): {result['naive_degc']:.2f} degC")
    if result["ignored_columns"]:
        lines.append(f"columns not used: {', '.join(result['ignored_columns'])}")
    lines += [f"warning: {warning}" for warning in result.get("warnings", [])]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m jena_forecast.forecast",
        description="The 24 h temperature forecast after the last row of a station export.",
    )
    parser.add_argument("--csv", type=Path, required=True, help="the station export (CSV)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--forecaster",
        type=Path,
        help=f"a packed forecaster directory (default: {DEFAULT_FORECASTER})",
    )
    which.add_argument(
        "--model", help="pack this checkout's trained model NAME (a network or 'ensemble')"
    )
    parser.add_argument("--output", type=Path, help="also write the forecast to a .json or .csv")
    parser.add_argument(
        "--timestamp-format",
        help="the export's timestamp format, if not the one the model's record had: a strftime "
        "format, or auto ('%%d.%%m.%%Y %%H:%%M:%%S' or ISO)",
    )
    parser.add_argument(
        "--timestamp-column",
        help="the export's timestamp column, if not the record's ('Date Time'); e.g. date",
    )
    parser.add_argument(
        "--margin-std",
        type=float,
        default=1.0,
        help="how far beyond the training slice's range of a column an input may go, in the "
        "column's training standard deviations (default: 1)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="forecast from inputs outside what the model knows, with a warning in the output",
    )
    args = parser.parse_args(argv)
    if not (np.isfinite(args.margin_std) and args.margin_std >= 0):
        parser.error(f"--margin-std must be a number >= 0. Received: {args.margin_std}")
    return args


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """File descriptor 2 sent to /dev/null for the block: TensorFlow's C++ logs (absl's start-up
    lines, oneDNN's, runtime notices) come before TF_CPP_MIN_LOG_LEVEL is read or ignore it, and
    a forecast should print the forecast alone. Python's own errors are printed after the block."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def load(args: argparse.Namespace) -> Forecaster:
    """The forecaster the arguments name."""
    if args.model is not None:
        return pack(ForecasterConfig.load(), args.model, pipeline_files())
    return load_forecaster(args.forecaster or DEFAULT_FORECASTER)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.output is not None and args.output.suffix not in OUTPUT_SUFFIXES:
            raise PipelineError(
                f"{args.output}: unknown output format; expected a name ending in "
                f"{' or '.join(OUTPUT_SUFFIXES)}"
            )
        with quiet_native_stderr():  # TensorFlow's C++ logs, from import to prediction
            forecaster = load(args)
            overrides = {
                key: value
                for key, value in (
                    ("timestamp_format", args.timestamp_format),
                    ("timestamp_column", args.timestamp_column),
                )
                if value is not None
            }
            parse = export_parse(forecaster.parse, **overrides) if overrides else forecaster.parse
            record = read_export(
                args.csv,
                parse,
                forecaster.features,
                forecaster.target_column,
                forecaster.raw_columns,
                forecaster.scaler,
            )
            result = forecast_record(forecaster, record, args.margin_std, args.force)
        if args.output is not None:
            write_output(args.output, result)
    except PipelineError as error:
        print(f"forecast: error: {error}", file=sys.stderr)
        return USER_ERROR_EXIT_CODE
    print(describe(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
