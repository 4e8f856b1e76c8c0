"""Directory outputs are swapped in whole, or not at all."""

from __future__ import annotations

import pytest

from jena_forecast.plumbing.atomic import atomic_dir


def test_a_new_directory_replaces_the_old_one_only_on_success(tmp_path):
    target = tmp_path / "log"
    target.mkdir()
    (target / "old.tsv").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "new.tsv").write_text("half")
        raise RuntimeError("killed")
    assert [path.name for path in tmp_path.iterdir()] == ["log"]
    assert [path.name for path in target.iterdir()] == ["old.tsv"]

    with atomic_dir(target) as tmp:
        assert tmp.name.startswith(".log.tmp-") and list(tmp.iterdir()) == []
        (tmp / "new.tsv").write_text("new")
    assert [path.name for path in tmp_path.iterdir()] == ["log"]
    assert [path.name for path in target.iterdir()] == ["new.tsv"]
