"""Pick the best experiment of a sweep on validation MAE alone; only then show its test MAE.

    python tools/pick_experiment.py metrics/scores/seq2seq.json

Reads ``dvc exp show --json`` (or ``--json-file``): every experiment of the workspace's commits and
the commits themselves. For each experiment and each named metrics file it has, the row holds the
params that differ from its baseline commit and the file's ``val_mae_degc`` and
``val_skill``. Rows are ranked by validation MAE; the test split's numbers are printed for
the winner alone, after it is chosen, so no test number can steer the choice. Queued, running
and failed experiments are left out (until done, they show their baseline's metrics).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """One (experiment, metrics file) pair with a validation score."""

    experiment: str
    baseline: str
    metrics_file: str
    changed: dict[str, Any]
    val_mae_degc: float
    val_skill: float
    record: dict[str, Any]


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists are leaves."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _params(data: dict[str, Any]) -> dict[str, Any]:
    params = (data.get("params") or {}).get("params.yaml") or {}
    return flatten(params.get("data") or {})


def _metrics(data: dict[str, Any], path: str) -> dict[str, Any] | None:
    entry = (data.get("metrics") or {}).get(path)
    return None if not entry or "data" not in entry else entry["data"]


def candidates(exp_show: list[dict[str, Any]], metrics_files: list[str]) -> list[Candidate]:
    """Every scored (experiment, metrics file) pair, baseline commits included, best val first."""
    rows: list[Candidate] = []
    for commit in exp_show:
        if commit.get("rev") == "workspace":
            continue
        baseline = str(commit.get("name") or commit["rev"][:7])
        base_data = commit.get("data") or {}
        base_params = _params(base_data)
        revisions = [("(baseline) " + baseline, base_data)]
        for experiment in commit.get("experiments") or []:
            executor = experiment.get("executor") or {}
            if executor.get("state", "success") != "success":
                continue  # queued, running or failed: what it shows is its baseline's
            for rev in experiment.get("revs") or []:
                revisions.append((str(rev.get("name") or rev["rev"][:7]), rev.get("data") or {}))
        for name, data in revisions:
            params = _params(data)
            changed = {
                key: value
                for key, value in params.items()
                if base_params.get(key, "<absent>") != value
            }
            for path in metrics_files:
                record = _metrics(data, path)
                if record is None or "val_mae_degc" not in record:
                    continue
                rows.append(
                    Candidate(
                        name,
                        baseline,
                        path,
                        changed,
                        float(record["val_mae_degc"]),
                        float(record["val_skill"]),
                        record,
                    )
                )
    return sorted(rows, key=lambda row: (row.val_mae_degc, row.experiment, row.metrics_file))


def describe(changed: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(changed.items())) or "-"


def report(rows: list[Candidate]) -> str:
    """The ranking on validation, then the winner's test score."""
    if not rows:
        raise SystemExit("no experiment has scores in the named metrics files")
    lines = ["rank | experiment | metrics file | val MAE degC | val skill | changed params"]
    lines += [
        f"{rank} | {row.experiment} | {row.metrics_file} | {row.val_mae_degc:.3f} | "
        f"{row.val_skill:+.1%} | {describe(row.changed)}"
        for rank, row in enumerate(rows, 1)
    ]
    winner = rows[0]
    record = winner.record
    lines += [
        "",
        f"chosen on validation MAE: {winner.experiment} ({winner.metrics_file})",
        f"its test MAE: {float(record['test_mae_degc']):.3f} degC,"
        f" skill vs naive {float(record['test_skill']):+.1%}"
        if "test_mae_degc" in record
        else "its test MAE: not recorded",
    ]
    return "\n".join(lines)


def load_exp_show(json_file: Path | None) -> list[dict[str, Any]]:
    if json_file is not None:
        return json.loads(json_file.read_text(encoding="utf-8"))
    beside = Path(sys.executable).with_name("dvc")  # this environment's dvc, if not on PATH
    dvc = str(beside) if beside.is_file() else "dvc"
    try:
        done = subprocess.run(
            [dvc, "exp", "show", "--json"], capture_output=True, text=True, check=False
        )
    except FileNotFoundError as error:
        raise SystemExit("dvc not found: activate the project's environment (.venv)") from error
    if done.returncode != 0:
        raise SystemExit(f"dvc exp show --json failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "metrics_files",
        nargs="+",
        help="metrics files to compare, e.g. metrics/scores/seq2seq.json",
    )
    parser.add_argument("--json-file", type=Path, help="saved `dvc exp show --json` output")
    args = parser.parse_args(argv)
    print(report(candidates(load_exp_show(args.json_file), args.metrics_files)))


if __name__ == "__main__":
    main(sys.argv[1:])
