"""Temporary copies of the project that run the real `dvc` on a tiny synthetic data set."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from synthetic import SyntheticJena

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ["dvc.yaml", "params.yaml", "stages", "src", "data/embedded", ".gitignore"]
DVC_FILES = [".dvc/config", ".dvc/plots"]
# A few models cover every code path (point and sequence targets, a model's own step) quickly.
TINY_MODELS = ("linear", "dense", "gru", "conv1d_gru", "seq2seq")
SEED_STUDY_MODELS = ("linear",)
PROJECT_SEED = 1337
SEED_STUDY_SEEDS = (7, PROJECT_SEED, 11)
# Both classical estimators, on hourly features that fit the tiny 12-hour windows.
TINY_CLASSICAL = ("ridge", "hist_gbr")
# Refitted on training + validation: a network with its seed study, and both estimators' frozen choices.
REFIT_MODELS = ("linear",)
REFIT_CLASSICAL = ("ridge", "hist_gbr")
# An anchored network (anchored@, refit_anchored@, deploy_anchored@) on the tiny ridge: the
# linear model started at the ridge forecast, quick to train.
ANCHORED_MODEL = "linear_on_ridge"
TINY_ANCHORED = {
    "anchor": "ridge",
    "builder": "linear",
    "residual": True,
    "train": {"optimizer": "adam"},
}
# What a change to models.dense reruns: its own stages, and the ensemble, its seed study, the
# leaderboard, the report and the packed forecaster, which read every model's metrics (sorted, as
# stages_run compares).
DENSE_CHANGE_STAGES = [
    "ensemble",
    "ensemble_seeds",
    "evaluate@dense",
    "interval_scores",
    "leaderboard",
    "package",
    "report",
    "train@dense",
]


def environment(cwd: Path) -> dict[str, str]:
    """The environment of commands run in project ``cwd``: this interpreter's bin first on PATH."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(cwd / "src"),
    }


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd`` with this interpreter's environment first on PATH."""
    env = environment(cwd)
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def stages_run(output: str) -> list[str]:
    """The stages a `dvc repro` or `dvc exp run` output says it ran."""
    return re.findall(r"Running stage '([^']+)'", output)


def edit_params(project: Path, **changes: object) -> None:
    """Set dotted params (``models.dense.units=8``) in the project's params.yaml."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = params
        for key in parents:
            node = node[key]
        node[leaf] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def shrink_horizons(models: dict) -> None:
    """Give every sequence model of a params ``models`` mapping 4 horizons, which divide the tiny
    windows' ``delay_rows`` (12)."""
    for entry in models.values():
        if "horizons" in entry:
            entry["horizons"] = 4


TINY_TRAINING_KEYS = ("epochs", "steps_per_epoch", "batch_size", "patience")  # the tiny train's


def shrink_recipes(params: dict) -> None:
    """Fit every recipe of a params mapping to the tiny windows (72 rows, 12 ahead) and to the
    tiny training: the whole 72-row look back, 4 horizons, 2 warm-up steps, and the tiny ``train``'s
    epochs, steps and patience instead of the recipe's, or a model's own (``gru``'s 3 passes)."""
    for recipe in (params.get("recipes") or {}).values():
        recipe.pop("lookback_rows", None)  # the tiny windows' 12 steps are short enough
        if recipe.get("aux_horizons"):
            recipe["aux_horizons"] = 4
        train = recipe.get("train") or {}
        for key in TINY_TRAINING_KEYS:
            train.pop(key, None)
        if train.get("warmup_steps"):
            train["warmup_steps"] = 2
    for entry in (params.get("models") or {}).values():
        for key in TINY_TRAINING_KEYS:
            ((entry or {}).get("train") or {}).pop(key, None)


def stage_command(
    dvc_yaml: Path, stage: str, *args: str, item: dict[str, str] | None = None
) -> list[str]:
    """The command line ``dvc_yaml`` gives ``stage``, from ``python`` on, with its ``${paths.*}``
    filled in; a ``foreach`` stage's first argument (a name) stands for its ``${key}``/``${item}``
    and any further ones are appended; ``item`` fills ``${item.<field>}`` of a list of mappings."""
    pipeline = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))
    paths = next(entry["paths"] for entry in pipeline["vars"] if "paths" in entry)
    definition = pipeline["stages"][stage]
    cmd = definition.get("do", definition)["cmd"]
    cmd = re.sub(r"\$\{paths\.(\w+)\}", lambda match: str(paths[match.group(1)]), cmd)
    for field, value in (item or {}).items():
        cmd = cmd.replace(f"${{item.{field}}}", value)
    if args:
        cmd = cmd.replace("${key}", args[0]).replace("${item}", args[0])
    return [sys.executable, *cmd.split()[1:], *args[1:]]


def tiny_params(project: Path, mirror: Path) -> None:
    """Point the download at ``mirror`` and shrink windows and training to seconds."""
    edit_params(
        project,
        **{
            "download.source": "mirror",
            "download.mirror": str(mirror.relative_to(project)),
            "download.sha256": hashlib.sha256(mirror.read_bytes()).hexdigest(),
            "windows.lookback_rows": 72,
            "windows.step_rows": 6,
            "windows.delay_rows": 12,
            "features.time_signals": False,  # tests turn on the inputs they test
            "train.epochs": 2,
            "train.steps_per_epoch": 4,
            "train.batch_size": 32,
            "train.patience": 1,
            "lr_range_test.model": "gru",
            "lr_range_test.steps": 20,
            "seed": PROJECT_SEED,
            # The project's own seed among them: that run must match train@linear exactly.
            "seed_study.models": list(SEED_STUDY_MODELS),
            "seed_study.seeds": list(SEED_STUDY_SEEDS),
            "ensemble.top_k": 2,
            "refit.models": list(REFIT_MODELS),
            "refit.classical": list(REFIT_CLASSICAL),
        },
    )
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["models"] = {name: params["models"][name] for name in TINY_MODELS}
    shrink_horizons(params["models"])
    shrink_recipes(params)
    params["classical"] = {name: params["classical"][name] for name in TINY_CLASSICAL}
    for entry in params["classical"].values():
        entry.update(lag_hours=6, recent_hours=6)
    params["classical"]["hist_gbr"].update(max_iter=10, early_stopping_blocks=1)
    params["anchored"] = {ANCHORED_MODEL: dict(TINY_ANCHORED)}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def _copy(names: list[str], root: Path) -> None:
    for name in names:
        source, target = PROJECT_ROOT / name, root / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)


def new_project(root: Path, data: SyntheticJena | None = None) -> Path:
    """A git + DVC repo in ``root`` holding the project's pipeline and a tiny synthetic mirror.

    By default the synthetic file has one repeated day block (144 rows) and a two-row gap. Nothing
    is committed or reproduced yet. The mirror lives in data/mirror/, git-ignored as in the project.
    """
    root.mkdir(parents=True, exist_ok=True)
    _copy(PROJECT_FILES, root)
    run(["git", "init", "-q"], root)
    run(["git", "config", "user.email", "tests@example.com"], root)
    run(["git", "config", "user.name", "tests"], root)
    run(["dvc", "init", "-q"], root)
    _copy(DVC_FILES, root)
    mirror = root / "data" / "mirror" / "tiny.zip"
    mirror.parent.mkdir(parents=True)
    if data is None:
        data = SyntheticJena(rows=2000, duplicate_block=(300, 144), drop_rows=[700, 701])
    data.write_zip(mirror)
    tiny_params(root, mirror)
    return root


def commit_all(project: Path, message: str) -> None:
    """Stage everything git does not ignore and commit it."""
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", message], project)


def copy_project(source: Path, target: Path) -> Path:
    """A full copy (git history, DVC cache, workspace) that tests may change freely."""
    shutil.copytree(source, target, symlinks=True)
    return target


def first_look_plots_command(template: Path, out: Path) -> list[str]:
    """The `dvc plots show ...` line of `make first-look` as make would run it, drawing with
    ``template`` into ``out``."""
    printed = subprocess.run(
        ["make", "-n", "-s", "--no-print-directory", "first-look"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in printed.replace("\\\n", " ").splitlines() if "plots show" in line)
    words = shlex.split(line)
    command = words[words.index("dvc") :]
    command[command.index("--html-template") + 1] = str(template)
    command[command.index("-o") + 1] = str(out)
    return command
