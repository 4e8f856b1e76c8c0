"""DVC stage train@<model>: fit one model of params.yaml's ``models`` and keep its best weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jena_forecast.data.anchor_column import model_data
from jena_forecast.data.windows import load_windows, window_spec
from jena_forecast.models.spec import ModelsConfig
from jena_forecast.plumbing.atomic import atomic_dir, atomic_path, write_json, write_text
from jena_forecast.plumbing.cli import call_with_paths, run_stage
from jena_forecast.plumbing.stable_zip import stable_keras
from jena_forecast.plumbing.tables import tsv
from jena_forecast.plumbing.timings import split_timings, write_timings
from jena_forecast.training.learning_curve import learning_curve


def run(
    config: ModelsConfig,
    name: str,
    *,
    array_path: Path,
    scaler_path: Path,
    anchors_path: Path,
    model_path: Path,
    summary_path: Path,
    log_dir: Path,
    curve_path: Path,
    checkpoint_dir: Path | None = None,
    timing_path: Path | None = None,
    anchor_column_path: Path | None = None,
) -> dict[str, Any]:
    """Fit model ``name``; save its best weights, a training summary, its DVCLive epoch log and its
    learning curve (``curve_path``: loss and val_loss per epoch).

    With ``checkpoint_dir``, an interrupted run resumes from its last completed epoch; the
    checkpoint is removed once every output is in place. An anchored network (params
    ``anchored``) reads its anchor column (``anchor_column_path``) beside the array.
    """
    model_spec = config.model(name)
    spec, _ = window_spec(config.windows, scaler_path)
    data, anchors = load_windows(array_path, anchors_path)
    data = model_data(data, name, model_spec.anchor, anchor_column_path)
    from jena_forecast.training.fit import train_model
    from jena_forecast.training.resume import TrainingCheckpoint, fingerprint

    checkpoint = None
    if checkpoint_dir is not None:
        arrays = {"data": data, "train": anchors["train"], "val": anchors["val"]}
        checkpoint = TrainingCheckpoint(
            checkpoint_dir, fingerprint(model_spec, config.seed, spec, arrays)
        )
    with atomic_dir(log_dir) as tmp_log_dir:
        result = train_model(
            model_spec,
            config.seed,
            data,
            anchors["train"],
            anchors["val"],
            spec,
            checkpoint=checkpoint,
            log_dir=tmp_log_dir,
        )
        with atomic_path(model_path) as tmp:
            result.model.save(tmp)
            stable_keras(tmp)
    write_text(curve_path, tsv(learning_curve(log_dir)))
    summary = result.summary()
    kept, timings = split_timings(summary)
    write_json(summary_path, kept)
    write_timings(timing_path, timings)
    if checkpoint is not None:
        checkpoint.remove()
    return summary


def main() -> str:
    (name,), summary = call_with_paths(run)
    return (
        f"{name}: "
        f"{summary['epochs']} epochs in {summary['train_seconds']:.1f} s, best val loss "
        f"{summary['best_val_loss']:.4f} at epoch {summary['best_epoch']}"
    )


if __name__ == "__main__":
    run_stage("train", main)
