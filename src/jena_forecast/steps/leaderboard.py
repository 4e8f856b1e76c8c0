"""Step leaderboard: every model ranked by validation MAE."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from jena_forecast.atomic import read_json, write_text


def leaderboard(
    naive_path: Path,
    metrics_paths: dict[str, Path],
    leaderboard_path: Path,
    seed_paths: dict[str, Path] | None = None,
) -> pd.DataFrame:
    """Rank every model and the naive baseline by validation MAE; save the table as TSV.

    ``metrics_paths`` names each model's metrics (the ensemble's too), ``seed_paths`` the seed-study
    metrics of the models that have one.
    """
    from jena_forecast.leaderboard import leaderboard as rank_models

    table = rank_models(
        read_json(naive_path),
        {name: read_json(path) for name, path in metrics_paths.items()},
        {name: read_json(path) for name, path in (seed_paths or {}).items()},
    )
    write_text(leaderboard_path, table.to_csv(sep="\t", index=False, lineterminator="\n"))
    return table
