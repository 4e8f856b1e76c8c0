"""Is a revision better than another? Paired differences of every model's forecasts, with their
uncertainty, read from two revisions through DVC (no checkout needed).

``dvc metrics diff`` prints two MAEs; this says whether their difference is more than noise. For
each model that both revisions have, the per-window absolute errors of the same windows are
paired, and the mean difference (second minus first) gets a block-bootstrap interval and a
Diebold-Mariano p-value (``significance.paired_difference``, params ``significance``)::

    python -m jena_forecast.compare main my-branch
    python -m jena_forecast.compare HEAD~1 workspace --model gru --split test

    model  first_mae_degc  second_mae_degc  difference_degc  low     high    p_value  ...  verdict
    gru    2.615623        2.543210         -0.072413        -0.121  -0.024  0.0031   ...  better

The verdict is the Diebold-Mariano test's, Holm-adjusted over every model compared at once
(``p_holm``); the interval's own verdict stands beside it (``interval_verdict``).

``workspace`` names the working tree. Forecasts of other windows or data are refused, saying why.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml

from jena_forecast.evaluation.ensemble import ENSEMBLE
from jena_forecast.evaluation.forecasts import SPLITS, Forecasts, check_same_windows, read_forecasts
from jena_forecast.evaluation.significance import (
    Bootstrap,
    adjusted_verdict,
    detectable_difference,
    holm,
    paired_difference,
)
from jena_forecast.plumbing.errors import PipelineError

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Revision:
    """The forecasts files of one revision of a DVC repository, by model name."""

    name: str
    files: dict[str, str]
    fs: Any  # dvc.api.DVCFileSystem

    @classmethod
    def open(cls, repo: str, rev: str) -> Revision:
        """List the forecasts that ``dvc.yaml`` of ``rev`` declares (``workspace``: the working tree)."""
        from dvc.api import DVCFileSystem

        try:
            fs = DVCFileSystem(repo, rev=None if rev == WORKSPACE else rev)
            with fs.open("dvc.yaml", "r") as handle:
                pipeline = yaml.safe_load(handle)
        except PipelineError:
            raise
        except Exception as error:  # dvc and scmrepo raise many kinds for an unknown revision
            raise PipelineError(f"{rev}: cannot read dvc.yaml of this revision: {error}") from error
        paths: dict[str, str] = {}
        for entry in pipeline.get("vars") or []:
            if isinstance(entry, dict):
                paths.update(entry.get("paths") or {})
        if "forecasts" not in paths:
            raise PipelineError(
                f"{rev}: its dvc.yaml declares no vars.paths.forecasts; this revision does not "
                "keep its forecasts"
            )
        folder = paths["forecasts"].rstrip("/")
        files = {}
        if fs.exists(folder):
            for path in sorted(fs.ls(folder, detail=False)):
                if str(path).endswith(".npz"):
                    files[str(path).rsplit("/", 1)[-1][: -len(".npz")]] = str(path)
        if "ensemble_forecasts" in paths and fs.exists(paths["ensemble_forecasts"]):
            files[ENSEMBLE] = paths["ensemble_forecasts"]
        return cls(rev, files, fs)

    def forecasts(self, model: str) -> Forecasts:
        where = f"{self.name}:{self.files[model]}"
        try:
            with self.fs.open(self.files[model], "rb") as handle:
                content = io.BytesIO(handle.read())  # a zip needs seeking; a stream may not seek
        except FileNotFoundError as error:
            raise PipelineError(
                f"{where}: not in the DVC cache or remote; dvc pull it or run its stage"
            ) from error
        return read_forecasts(content, where)


def compare_models(
    first: Revision,
    second: Revision,
    models: Sequence[str],
    split: str,
    bootstrap: Bootstrap,
) -> pd.DataFrame:
    """One row per model: both MAEs in degC, the paired difference (second - first), its interval
    and the interval's verdict, the Diebold-Mariano p-value, that p Holm-adjusted over the models
    compared, and the verdict on it (``better``: the second revision's forecast is better beyond
    the noise, for every row at once)."""
    rows = []
    for model in models:
        a, b = first.forecasts(model), second.forecasts(model)
        check_same_windows(a, b, (f"{first.name}:{model}", f"{second.name}:{model}"))
        scale = a.target_scale
        difference = paired_difference(a.abs_errors(split), b.abs_errors(split), bootstrap)
        rows.append(
            {
                "model": model,
                "first_mae_degc": round(float(a.abs_errors(split).mean()) * scale, 6),
                "second_mae_degc": round(float(b.abs_errors(split).mean()) * scale, 6),
                "difference_degc": round(difference.mean_difference * scale, 6),
                "low": round(difference.low * scale, 6),
                "high": round(difference.high * scale, 6),
                "p_value": round(difference.p_value, 6),
                "interval_verdict": difference.verdict,
                # not resolved below this, at 80% power, with every model compared at once
                "resolution_degc": round(
                    detectable_difference(
                        difference.low * scale,
                        difference.high * scale,
                        bootstrap.level,
                        tests=len(models),
                    ),
                    6,
                ),
            }
        )
    table = pd.DataFrame(rows)
    # Every model compared is one test of the family: the verdict is the Holm-adjusted DM test's.
    adjusted = holm(dict(zip(models, table["p_value"].astype(float), strict=True)))
    table["p_holm"] = [round(adjusted[model], 6) for model in models]
    table["verdict"] = [
        adjusted_verdict(float(difference), adjusted[model], 1 - bootstrap.level)
        for model, difference in zip(models, table["difference_degc"], strict=True)
    ]
    return table


def _models(first: Revision, second: Revision, wanted: Sequence[str]) -> list[str]:
    shared = [name for name in first.files if name in second.files]
    if not wanted:
        if not shared:
            raise PipelineError(
                f"{first.name} and {second.name} keep no forecasts of the same model "
                f"({first.name}: {', '.join(first.files) or 'none'}; "
                f"{second.name}: {', '.join(second.files) or 'none'})"
            )
        return shared
    for name in wanted:
        for revision in (first, second):
            if name not in revision.files:
                raise PipelineError(
                    f"{revision.name}: no forecasts of model {name!r}. It keeps: "
                    f"{', '.join(revision.files) or 'none'}"
                )
    return list(wanted)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jena_forecast.compare",
        description="Paired comparison of every model's forecasts between two revisions.",
    )
    parser.add_argument("first", help="git revision (branch, tag, commit) or 'workspace'")
    parser.add_argument("second", help="git revision (branch, tag, commit) or 'workspace'")
    parser.add_argument("--model", action="append", default=[], help="only this model (repeat)")
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default="val",
        help="val (default): where changes are chosen; test: only for the change already chosen",
    )
    parser.add_argument("--repo", default=".", help="the DVC repository (default: here)")
    args = parser.parse_args(argv)
    try:
        from jena_forecast.evaluation.scoring import ScoringConfig, bootstrap

        config = ScoringConfig.load()
        first, second = Revision.open(args.repo, args.first), Revision.open(args.repo, args.second)
        models = _models(first, second, args.model)
        windows = min(first.forecasts(model).anchors[args.split].size for model in models)
        resampling = bootstrap(config, windows)
        table = compare_models(first, second, models, args.split, resampling)
    except PipelineError as error:
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    if args.split == "test":
        print(
            "test split: for the change already chosen on validation; choosing by test makes "
            "its score optimistic"
        )
    print(
        f"{args.split} MAE, {args.second} minus {args.first} (negative: {args.second} is better); "
        f"{resampling.level:.0%} interval of a circular block bootstrap in blocks of "
        f"{resampling.block_windows} windows"
    )
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
