"""How many members should the ensemble have? Each top-k ensemble scored seed by seed from the kept
forecasts, chosen on validation.

    python tools/ensemble_screen.py                    # k = 2 .. 8, after `dvc repro` (or `dvc pull`)
    python tools/ensemble_screen.py --k 2 3 4 5 6 --output metrics.json

For every k the members are the k models with the lowest single-run validation MAE, as the
ensemble stage chooses them (``ensemble.select_members``, classical models among the candidates
when ``ensemble.include_classical``). Per seed of ``seed_study.seeds`` each member brings that
seed's forecasts (``data/seed_forecasts/<model>.npz``), a classical member its single fit; a deep
member without a seed study its single run for every seed (both listed as "fixed"). The averaged forecast
is scored on the validation and test windows as ``ensemble_seeds`` scores it.

Printed per k: validation and test MAE as seed mean +- std (degC), the seed-mean test skill with
its 95% block-bootstrap interval (``significance.skill_interval`` of the per-window errors averaged
over the seeds), and the paired difference of the seed-mean validation MAE to the project's k
(``ensemble.top_k``) with its interval and verdict. The k with the lowest seed-mean validation MAE
is marked; test numbers are shown, never used to choose. Reads only what the pipeline kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jena_forecast.config import PipelineConfig, load_params  # noqa: E402
from jena_forecast.evaluation.ensemble import average_forecasts, select_members  # noqa: E402
from jena_forecast.evaluation.forecasts import (  # noqa: E402
    SPLITS,
    Forecasts,
    check_same_windows,
    load_forecasts,
    seed_forecast_key,
)
from jena_forecast.evaluation.scoring import bootstrap  # noqa: E402
from jena_forecast.evaluation.seed_study import mean_and_std  # noqa: E402
from jena_forecast.evaluation.significance import paired_difference, skill_interval  # noqa: E402
from jena_forecast.plumbing.artifacts import load_arrays  # noqa: E402
from jena_forecast.plumbing.atomic import read_json, write_json  # noqa: E402
from jena_forecast.plumbing.errors import PipelineError  # noqa: E402

SeedForecasts = dict[int, dict[str, np.ndarray]]  # seed -> split -> (windows,) normalized


def candidates(config: PipelineConfig, root: Path) -> dict[str, dict[str, Any]]:
    """The metrics record of every model the ensemble stage chooses among."""
    names = [*config.models, *(config.classical if config.ensemble.include_classical else [])]
    records = {}
    for name in names:
        path = root / "metrics" / "models" / f"{name}.json"
        if not path.is_file():
            raise PipelineError(f"{path}: no metrics of {name}; run `dvc repro` (or `dvc pull`)")
        records[name] = read_json(path)
    return records


def member_forecasts(
    config: PipelineConfig, root: Path, name: str, kept: Forecasts
) -> tuple[SeedForecasts, bool]:
    """Each seed's forecasts of a member, and whether they are one run for every seed."""
    seeds = config.seed_study.seeds
    path = root / "data" / "seed_forecasts" / f"{name}.npz"
    if name in config.seed_study.models and path.is_file():
        keys = tuple(seed_forecast_key(split, seed) for split in SPLITS for seed in seeds)
        saved = load_arrays(path, keys)
        return {
            seed: {split: saved[seed_forecast_key(split, seed)].reshape(-1) for split in SPLITS}
            for seed in seeds
        }, False
    return {seed: dict(kept.predicted) for seed in seeds}, True


def screen(config: PipelineConfig, root: Path, ks: list[int]) -> list[dict[str, Any]]:
    """One row per k: its members, seed-mean MAEs and intervals (see the module's docstring)."""
    records = candidates(config, root)
    kept = {
        name: load_forecasts(root / "data" / "forecasts" / f"{name}.npz")
        for name in [*records, "naive"]
    }
    naive = kept["naive"]
    for name, forecasts in kept.items():
        check_same_windows(naive, forecasts, ("naive", name))
    scale = naive.target_scale
    windows = min(len(naive.actual[split]) for split in SPLITS)
    resampling = bootstrap(config, windows)
    seeds = config.seed_study.seeds
    cache: dict[str, tuple[SeedForecasts, bool]] = {}
    rows = []
    for k in ks:
        choice = config.ensemble.model_copy(update={"top_k": k, "members": None})
        members = select_members(choice, records)
        for name in members:
            if name not in cache:
                cache[name] = member_forecasts(config, root, name, kept[name])
        errors = {
            split: [
                np.abs(
                    average_forecasts([cache[name][0][seed][split] for name in members])
                    - naive.actual[split]
                )
                for seed in seeds
            ]
            for split in SPLITS
        }
        maes = {split: [float(e.mean()) * scale for e in errors[split]] for split in SPLITS}
        seed_mean = {split: np.mean(errors[split], axis=0) for split in SPLITS}
        low, high = skill_interval(seed_mean["test"], naive.naive_abs_errors("test"), resampling)
        rows.append(
            {
                "k": k,
                "members": members,
                "fixed": [name for name in members if cache[name][1]],
                **{
                    f"{split}_mae_degc": dict(
                        zip(("mean", "std"), mean_and_std(maes[split]), strict=True)
                    )
                    for split in SPLITS
                },
                "test_skill_mean": 1
                - seed_mean["test"].mean() / naive.naive_abs_errors("test").mean(),
                "test_skill_low": low,
                "test_skill_high": high,
                "val_errors": seed_mean["val"],
            }
        )
    reference = next((row for row in rows if row["k"] == config.ensemble.top_k), rows[0])
    for row in rows:
        difference = paired_difference(reference["val_errors"], row["val_errors"], resampling)
        row["val_vs_reference"] = {
            "reference_k": reference["k"],
            "mean_difference_degc": difference.mean_difference * scale,
            "low_degc": difference.low * scale,
            "high_degc": difference.high * scale,
            "verdict": difference.verdict if row is not reference else "reference",
        }
    best = min(rows, key=lambda row: row["val_mae_degc"]["mean"])
    for row in rows:
        row["chosen_on_validation"] = row is best
        del row["val_errors"]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, nargs="+", default=list(range(2, 9)), metavar="K")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project (default: this one)")
    parser.add_argument("--output", type=Path, help="every figure as JSON")
    args = parser.parse_args(argv)
    try:
        config = load_params(args.root / "params.yaml")
        rows = screen(config, args.root, args.k)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        "| k | members | val MAE | test MAE | test skill over seeds [95%] | "
        f"val vs k={rows[0]['val_vs_reference']['reference_k']} [95%] |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        val, test, versus = row["val_mae_degc"], row["test_mae_degc"], row["val_vs_reference"]
        fixed = f" (one run for every seed: {', '.join(row['fixed'])})" if row["fixed"] else ""
        mark = " **chosen**" if row["chosen_on_validation"] else ""
        print(
            f"| {row['k']}{mark} | {', '.join(row['members'])}{fixed} | "
            f"{val['mean']:.3f} ± {val['std']:.3f} | {test['mean']:.3f} ± {test['std']:.3f} | "
            f"{row['test_skill_mean']:+.1%} [{row['test_skill_low']:+.1%}, "
            f"{row['test_skill_high']:+.1%}] | {versus['mean_difference_degc']:+.3f} "
            f"[{versus['low_degc']:+.3f}, {versus['high_degc']:+.3f}] {versus['verdict']} |"
        )
    if args.output:
        write_json(args.output, {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
