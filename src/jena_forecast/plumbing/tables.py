"""Tables a stage reads or writes: the parsed table (parquet) and tab-separated rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from jena_forecast.plumbing.errors import PipelineError

TEXT_COLUMNS = ("recipe", "protocol", "features")


def read_table(table_path: Path) -> pd.DataFrame:
    """Read the parsed table (or the features table)."""
    try:
        return pd.read_parquet(table_path, engine="pyarrow")
    except FileNotFoundError as error:
        raise PipelineError(
            f"{table_path}: file not found; run the stage that writes it first"
        ) from error


def tsv(rows: list[dict[str, Any]]) -> str:
    """``rows`` as tab-separated text, the first row's keys as the header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_tsv(path: Path) -> pd.DataFrame:
    """Read a tab-separated table written by a stage.

    Only an empty cell is missing (a whole-number column such as ``parameters`` or a seed-study
    column may have them); text columns (``protocol``, ``features``) are read as written, an empty
    one as an empty string.
    """
    try:
        table = pd.read_csv(
            path,
            sep="\t",
            dtype={
                "parameters": "Int64",
                "epochs": "Int64",
                **{column: str for column in TEXT_COLUMNS},
            },
            keep_default_na=False,
            na_values=[""],
        )
    except FileNotFoundError as error:
        raise PipelineError(
            f"{path}: file not found; run the stage that writes it first"
        ) from error
    for column in TEXT_COLUMNS:
        if column in table.columns:
            table[column] = table[column].fillna("")
    return table
