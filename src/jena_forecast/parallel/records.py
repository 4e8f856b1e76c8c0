"""A stage's result carried from one clone of the project to another: its dvc.lock entry and its
uncached outputs.

DVC's run cache cannot carry this pipeline's stages: DVC saves a run only when every output is
cached or is a metric or plot (``Stage.run`` in DVC 3.67), and most stages here also write
git-tracked files with ``cache: false`` (a model's full record, its horizons and predictions, the
DVCLive log, the report). So a clone that ran a stage pushes its cached outputs to the DVC remote
(`dvc push`) and hands back a :class:`StageRecord`; another clone adopts it (writes the entry into
its dvc.lock and the uncached files into its workspace) and pulls the cached outputs the entry
names (`dvc pull <stage>`). Then `dvc status` in that clone finds the stage up to date, exactly
as if it had run there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from contextlib import chdir
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LOCK_FILE = "dvc.lock"


@dataclass(frozen=True)
class StageRecord:
    """One stage's dvc.lock entry and the contents of its uncached outputs (paths relative to the
    project root; a directory output is replaced whole by the files listed under it)."""

    stage: str
    lock_entry: Mapping[str, Any]
    files: Mapping[str, bytes]
    directories: tuple[str, ...]


def uncached_outputs(root: Path, stage: str) -> list[tuple[str, bool]]:
    """``stage``'s outputs with ``cache: false``, each with whether it is a directory."""
    from dvc.repo import Repo  # deferred: DVC takes a second to import

    with chdir(root), Repo(".") as repo:  # stage names (addressing) are relative to the cwd
        (found,) = repo.stage.collect(stage)
        paths = [str(out.def_path) for out in found.outs if not out.use_cache]
    return [(path, (root / path).is_dir()) for path in paths]


def lock_entry(root: Path, stage: str) -> dict[str, Any] | None:
    """``stage``'s entry in the dvc.lock at ``root``, or None."""
    path = root / LOCK_FILE
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entry = (data.get("stages") or {}).get(stage)
    return dict(entry) if entry is not None else None


def collect(root: Path, stage: str) -> StageRecord:
    """The record of ``stage`` as the project at ``root`` has it now (after `dvc repro -s`)."""
    entry = lock_entry(root, stage)
    if entry is None:
        raise RuntimeError(f"{root / LOCK_FILE} has no entry for stage '{stage}'")
    files: dict[str, bytes] = {}
    directories: list[str] = []
    for path, is_dir in uncached_outputs(root, stage):
        if is_dir:
            directories.append(path)
            for file in sorted((root / path).rglob("*")):
                if file.is_file():
                    files[file.relative_to(root).as_posix()] = file.read_bytes()
        elif (root / path).is_file():
            files[path] = (root / path).read_bytes()
    return StageRecord(stage, entry, files, tuple(directories))


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _replace_directory(root: Path, directory: str, files: Mapping[str, bytes]) -> None:
    """Build ``directory`` beside itself from ``files``, then swap it in."""
    target = root / directory
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        prefix = directory.rstrip("/") + "/"
        for name, content in files.items():
            if name.startswith(prefix):
                file = staging / name[len(prefix) :]
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(content)
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.replace(target, old / "previous")
            os.replace(staging, target)
            shutil.rmtree(old)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def adopt(root: Path, record: StageRecord) -> None:
    """Put ``record``'s uncached outputs in place and its entry into dvc.lock at ``root``, under
    DVC's repository lock; the cached outputs follow with `dvc pull <stage>`."""
    from dvc.repo import Repo  # deferred: see uncached_outputs
    from dvc.utils.serialize import modify_yaml

    for directory in record.directories:
        _replace_directory(root, directory, record.files)
    inside = tuple(directory.rstrip("/") + "/" for directory in record.directories)
    for name, content in record.files.items():
        if not name.startswith(inside):
            _write_atomically(root / name, content)
    with Repo(str(root)) as repo, repo.lock, modify_yaml(root / LOCK_FILE) as data:
        data.setdefault("schema", "2.0")
        if data.get("stages") is None:
            data["stages"] = {}
        data["stages"][record.stage] = dict(record.lock_entry)
