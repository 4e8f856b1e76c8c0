"""Is a revision better than another? Paired differences of every model's forecasts, with their
uncertainty, read from two revisions through DVC (no checkout needed; what the local cache lacks
is read from the DVC remote).

``dvc metrics diff`` prints two MAEs; this says whether their difference is more than noise. For
each model that both revisions have, the per-window absolute errors of the same windows are
paired. Where a revision has a seed study of the model (``data/seed_forecasts``), its side is the
mean over its seeds, and the interval resamples the seeds with the blocks of windows; where one
side is a single run, it gets the seed noise of one run from the other side's study
(``seed_noise``). Two single runs: a block-bootstrap interval and a Diebold-Mariano p-value
(``significance.paired_difference``), seed noise left out; ``first_seeds`` and ``second_seeds``
count the runs of each side::

    python -m jena_forecast.compare main my-branch
    python -m jena_forecast.compare HEAD~1 workspace --model gru
    python -m jena_forecast.compare main exp-3f2a1 --split test     # a `dvc exp` name works too

    model  first_mae_degc  second_mae_degc  difference_degc  low     high    p_value  ...  verdict
    gru    2.482           2.410            -0.072           -0.121  -0.024  0.004    ...  better

The verdict is on the p-value, Holm-adjusted over every model compared at once (``p_holm``); the
interval's own verdict stands beside it (``interval_verdict``), with the smallest difference the
comparison could resolve (``resolution_degc``). It compares on validation unless told
``--split test``, which is for the change already chosen.

``workspace`` names the working tree. Forecasts of other windows or data are refused, saying why.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from jena_forecast.comparison.seed_noise import SeedAwareDifference, seed_aware_difference
from jena_forecast.evaluation.ensemble import ENSEMBLE
from jena_forecast.evaluation.forecasts import (
    SPLITS,
    Forecasts,
    check_same_windows,
    read_forecasts,
)
from jena_forecast.evaluation.significance import (
    Bootstrap,
    PairedDifference,
    adjusted_verdict,
    detectable_difference,
    holm,
    paired_difference,
)
from jena_forecast.plumbing.errors import PipelineError

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Revision:
    """The forecasts files of one revision of a DVC repository, by model name, and those of its
    seed studies."""

    name: str
    files: dict[str, str]
    fs: Any  # dvc.api.DVCFileSystem
    seed_files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, repo: str, rev: str) -> Revision:
        """List the forecasts that ``dvc.yaml`` of ``rev`` declares (``workspace``: the working tree)."""
        from dvc.api import DVCFileSystem

        try:
            git_rev = None if rev == WORKSPACE else _git_revision(repo, rev)
            fs = DVCFileSystem(repo, rev=git_rev)
            pipeline = yaml.safe_load(_pipeline_text(repo, git_rev))
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
        files = _npz_files(fs, paths["forecasts"])
        if "ensemble_forecasts" in paths and fs.exists(paths["ensemble_forecasts"]):
            files[ENSEMBLE] = paths["ensemble_forecasts"]
        seed_files = _npz_files(fs, paths.get("seed_forecasts"))
        if "ensemble_seed_forecasts" in paths and fs.exists(paths["ensemble_seed_forecasts"]):
            seed_files[ENSEMBLE] = paths["ensemble_seed_forecasts"]
        return cls(rev, files, fs, seed_files)

    def _read(self, path: str) -> io.BytesIO:
        try:
            with self.fs.open(path, "rb") as handle:
                return io.BytesIO(handle.read())  # a zip needs seeking; a stream may not seek
        except FileNotFoundError as error:
            raise PipelineError(
                f"{self.name}:{path}: neither in the DVC cache nor on the DVC remote; "
                f"run its stage at {self.name}, or dvc push it from where it was run"
            ) from error

    def forecasts(self, model: str) -> Forecasts:
        return read_forecasts(self._read(self.files[model]), f"{self.name}:{self.files[model]}")

    def seed_errors(self, model: str, split: str, kept: Forecasts) -> np.ndarray | None:
        """(seeds, windows) absolute errors of the model's seed study on ``split``, scored against
        the targets of its ``kept`` forecasts; None without a study."""
        if model not in self.seed_files:
            return None
        where = f"{self.name}:{self.seed_files[model]}"
        with np.load(self._read(self.seed_files[model]), allow_pickle=False) as archive:
            keys = sorted(key for key in archive.files if key.startswith(f"{split}_seed_"))
            runs = [np.asarray(archive[key], dtype=np.float64).reshape(-1) for key in keys]
        if len(runs) < 2:
            return None
        for key, run in zip(keys, runs, strict=True):
            if run.size != kept.actual[split].size:
                raise PipelineError(
                    f"{where}: {key} has {run.size} windows, the model's forecasts "
                    f"{kept.actual[split].size}; rerun its seeds stage (dvc repro)"
                )
        return np.abs(np.stack(runs) - kept.actual[split])


def _npz_files(fs: Any, folder: str | None) -> dict[str, str]:
    """The ``<model>.npz`` files of ``folder`` in a revision, by model name."""
    files: dict[str, str] = {}
    if folder and fs.exists(folder.rstrip("/")):
        for path in sorted(fs.ls(folder.rstrip("/"), detail=False)):
            if str(path).endswith(".npz"):
                files[str(path).rsplit("/", 1)[-1][: -len(".npz")]] = str(path)
    return files


def _pipeline_text(repo: str, git_rev: str | None) -> str:
    """``dvc.yaml`` of the working tree (``git_rev`` None) or of a git revision, whole. Read with
    git itself: a streamed read of a large blob through DVC's git file system can stop at 32 KiB."""
    if git_rev is None:
        return (Path(repo) / "dvc.yaml").read_text(encoding="utf-8")
    shown = subprocess.run(
        ["git", "show", f"{git_rev}:dvc.yaml"], cwd=repo, capture_output=True, text=True
    )
    if shown.returncode != 0:
        raise PipelineError(f"{git_rev}: no dvc.yaml in this revision: {shown.stderr.strip()}")
    return shown.stdout


def _git_revision(repo: str, rev: str) -> str:
    """``rev`` as git knows it: a branch, tag or commit as is; a `dvc exp` name as its ref."""
    from dvc.repo import Repo
    from dvc.repo.experiments.utils import resolve_name
    from scmrepo.exceptions import RevError

    with Repo(repo) as dvc_repo:
        try:
            dvc_repo.scm.resolve_rev(rev)
            return rev
        except RevError:
            ref = resolve_name(dvc_repo.scm, [rev]).get(rev)
    if ref is None:
        raise PipelineError(f"{rev}: no such branch, tag, commit or experiment")
    return str(ref)


def compare_models(
    first: Revision,
    second: Revision,
    models: Sequence[str],
    split: str,
    bootstrap: Bootstrap,
) -> pd.DataFrame:
    """One row per model: both MAEs in degC (means over seeds where a side has a seed study), the
    paired difference (second - first), its interval and the interval's verdict, the p-value, that
    p Holm-adjusted over the models compared, and the verdict on it (``better``: the second
    revision's forecast is better beyond the noise, for every row at once); ``first_seeds`` and
    ``second_seeds`` count each side's runs, and so say what noise the interval holds."""
    rows = []
    for model in models:
        a, b = first.forecasts(model), second.forecasts(model)
        check_same_windows(a, b, (f"{first.name}:{model}", f"{second.name}:{model}"))
        scale = a.target_scale
        runs_a = first.seed_errors(model, split, a)
        runs_b = second.seed_errors(model, split, b)
        if runs_a is None and runs_b is None:
            difference: PairedDifference | SeedAwareDifference = paired_difference(
                a.abs_errors(split), b.abs_errors(split), bootstrap
            )
        else:
            errors_a = a.abs_errors(split)[None, :] if runs_a is None else runs_a
            errors_b = b.abs_errors(split)[None, :] if runs_b is None else runs_b
            difference = seed_aware_difference(errors_a, errors_b, bootstrap)
        first_mae = (a.abs_errors(split) if runs_a is None else runs_a).mean()
        second_mae = (b.abs_errors(split) if runs_b is None else runs_b).mean()
        rows.append(
            {
                "model": model,
                "first_mae_degc": round(float(first_mae) * scale, 6),
                "second_mae_degc": round(float(second_mae) * scale, 6),
                "difference_degc": round(difference.mean_difference * scale, 6),
                "low": round(difference.low * scale, 6),
                "high": round(difference.high * scale, 6),
                "p_value": round(difference.p_value, 6),
                "first_seeds": 1 if runs_a is None else len(runs_a),
                "second_seeds": 1 if runs_b is None else len(runs_b),
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
    # Every model compared is one test of the family: the verdict is on the Holm-adjusted p.
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
        f"{resampling.block_windows} windows, and of the seeds where a side has a seed study"
    )
    print(table.to_string(index=False))
    singles = table[(table["first_seeds"] == 1) & (table["second_seeds"] == 1)]["model"]
    if len(singles):
        print(
            f"single runs on both sides ({', '.join(singles)}): the interval leaves out the seed's "
            "noise; a seed study of the model on either side brings it in"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
