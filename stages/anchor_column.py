"""Step of the anchored stages: an anchored network's anchor column for the rows it is fitted on.

The forecast change of its classical model (``anchored.<model>.anchor``), fitted on the same rows
and statistics as the array (the fit on training, the refit or the deployment fit), at every row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jena_forecast.classical.spec import ClassicalConfig
from jena_forecast.data.windows import window_spec
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.artifacts import load_array, save_array
from jena_forecast.plumbing.atomic import read_json
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.tables import read_table


class Config(ModelsConfig, ClassicalConfig):
    """The params this step reads: the anchored network's anchor and that classical model's."""


def run(
    config: Config,
    name: str,
    *,
    table_path: Path,
    array_path: Path,
    scaler_path: Path,
    estimator_path: Path,
    column_path: Path,
) -> dict[str, float]:
    """Write the anchor column of model ``name`` for the rows of ``array_path``."""
    from jena_forecast.classical.persist import load_estimator
    from jena_forecast.classical.row_changes import row_changes

    model_spec = config.model(name)
    if model_spec.anchor is None:
        raise PipelineError(f"model {name!r} is not in params anchored: it has no anchor column")
    anchor = config.classical_model(model_spec.anchor)
    spec, _ = window_spec(config.windows, scaler_path)
    data = load_array(array_path)
    timestamps = pd.DatetimeIndex(read_table(table_path).index)
    if len(timestamps) != data.shape[0]:
        raise PipelineError(
            f"{table_path} has {len(timestamps)} rows but {array_path} has {data.shape[0]}; "
            "rerun the pipeline from the parse stage"
        )
    changes = row_changes(
        load_estimator(estimator_path),
        data,
        timestamps,
        read_json(scaler_path),
        spec,
        anchor.params,
        60 // config.parse.interval_minutes,
    )
    save_array(column_path, changes)
    return {"rows": float(changes.size), "mean_abs_change": float(np.mean(np.abs(changes)))}


def main() -> str:
    (name,), summary = call_with_paths(run)
    return (
        f"{name}: anchor column of {int(summary['rows'])} rows, mean |change| "
        f"{summary['mean_abs_change']:.4f} (normalized)"
    )


if __name__ == "__main__":
    run_stage("anchor_column", main)
