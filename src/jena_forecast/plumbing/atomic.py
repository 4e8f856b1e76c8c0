"""Write outputs through a temporary file in the same directory, renamed into place on success."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jena_forecast.plumbing.errors import PipelineError

_HINTS = {
    errno.ENOSPC: "free some disk space and rerun the stage",
    errno.EDQUOT: "free some disk space and rerun the stage",
    errno.EACCES: "make the directory writable and rerun the stage",
    errno.EPERM: "make the directory writable and rerun the stage",
    errno.EROFS: "the file system is read-only; write the outputs elsewhere",
}


def _write_error(target: Path, error: OSError) -> PipelineError:
    blocking = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        return PipelineError(
            f"{target}: cannot write output: {blocking} is a file, not a directory; "
            "move it out of the way and rerun the stage"
        )
    what = error.strerror or str(error)
    hint = _HINTS.get(error.errno or 0)
    return PipelineError(
        f"{target}: cannot write output: {what}"
        + (f"; {hint}" if hint else "")
        + "; the previous file, if any, is left untouched"
    )


def _remove_stale_temporaries(target: Path) -> None:
    """Delete temporary files that a killed earlier write of ``target`` left behind."""
    for stale in target.parent.glob(f".{target.stem}.tmp-*{target.suffix}"):
        stale.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary name keeps the suffix of ``path`` (Keras and Parquet writers look at it), so a
    killed process leaves at most a hidden ``.name.tmp-*`` file, never a half-written ``path``; the
    next write of ``path`` deletes it. A failed write (disk full, read-only directory) raises a
    PipelineError naming ``path`` and removes the temporary file.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(target)
        handle, tmp_name = tempfile.mkstemp(
            prefix=f".{target.stem}.tmp-", suffix=target.suffix, dir=target.parent
        )
    except OSError as error:
        raise _write_error(target, error) from error
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise _write_error(target, error) from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary directory beside ``path``; swap it in for ``path`` only on success.

    For writers that fill a directory file by file (a training logger): readers see the old
    directory or the complete new one, never a mix. The temporary name matches ``.*.tmp-*``.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as error:
        raise _write_error(target, error) from error
    try:
        yield tmp
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
            os.replace(target, retired / target.name)
            os.replace(tmp, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(target, error) from error
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file, turning a missing or malformed file into a PipelineError."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PipelineError(
            f"{path}: file not found; run the stage that writes it first"
        ) from error
    except json.JSONDecodeError as error:
        raise PipelineError(f"{path}:{error.lineno}: not valid JSON: {error.msg}") from error
