"""Model files whose bytes depend on the model alone, so that a rerun computing the same model
writes the same file and DVC sees no change.

Keras (``.keras``) and skops (``.skops``) both write zip archives with the wall-clock time in each
member's header; Keras also stamps ``date_saved`` into ``metadata.json``, and skops names its
array members, and the ``__id__`` of every object in ``schema.json``, after ``id()`` of objects in
the writing process. ``rewrite_zip`` rewrites an archive with fixed member times (1980-01-01, the
zip format's earliest) and in a fixed order; the two ``stable_*`` functions also replace those
names and stamps (and Keras's ``shared_object_id``, an ``id()`` too) by ones numbered in order of
first appearance::

    140666026781424.npy  ->  1.npy        "__id__": 140666534684976  ->  "__id__": 2
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

EPOCH = (1980, 1, 1, 0, 0, 0)


def rewrite_zip(
    path: Path, rename: Callable[[str], str] | None = None, replace: dict[str, bytes] | None = None
) -> None:
    """Rewrite the zip at ``path`` in place: members in their order, each renamed by ``rename``,
    its content replaced where ``replace`` names it (by the new name), every timestamp 1980-01-01.
    """
    rename = rename or (lambda name: name)
    replace = replace or {}
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for info, content in members:
            name = rename(info.filename)
            stable = zipfile.ZipInfo(name, date_time=EPOCH)
            stable.compress_type = info.compress_type
            stable.external_attr = 0o644 << 16
            target.writestr(stable, replace.get(name, content))


def stable_keras(path: Path) -> None:
    """Drop Keras's ``date_saved`` from a ``.keras`` file, number the ``shared_object_id`` of its
    config (an ``id()``: objects shared between layers) and fix its member times."""
    with zipfile.ZipFile(path) as source:
        metadata = json.loads(source.read("metadata.json"))
        config = json.loads(source.read("config.json"))
    metadata.pop("date_saved", None)
    config = _renumber(config, {"shared_object_id": {}}, None)
    rewrite_zip(
        path,
        replace={
            "metadata.json": json.dumps(metadata).encode(),
            "config.json": json.dumps(config).encode(),
        },
    )


def _renumber(node: Any, id_keys: dict[str, dict[int, int]], files: dict[str, str] | None) -> Any:
    """``node`` with the integer values of ``id_keys`` numbered 1, 2, ... per key in order of first
    appearance and, with a ``files`` dict (which keeps the renaming), each ``file`` value named
    ``<n>.<suffix>`` the same way."""
    if isinstance(node, list):
        return [_renumber(item, id_keys, files) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in id_keys and isinstance(value, int):
            value = id_keys[key].setdefault(value, len(id_keys[key]) + 1)
        elif files is not None and key == "file" and isinstance(value, str) and "." in value:
            suffix = value.rsplit(".", 1)[1]
            value = files.setdefault(value, f"{len(files) + 1}.{suffix}")
        out[key] = _renumber(value, id_keys, files)
    return out


def stable_skops(path: Path) -> None:
    """Number a ``.skops`` file's object ids and array members in order of first appearance."""
    with zipfile.ZipFile(path) as source:
        schema = json.loads(source.read("schema.json"))
    files: dict[str, str] = {}
    stable = _renumber(schema, {"__id__": {}}, files)
    rewrite_zip(
        path,
        rename=lambda name: files.get(name, name),
        replace={"schema.json": json.dumps(stable, indent=2).encode()},
    )
