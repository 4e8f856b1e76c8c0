"""docs/bad_input.md is what tools/bad_input_catalog.py prints today: every case as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # about 20 s: the download cases wait for retries and timeouts

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_the_bad_input_doc_is_what_the_catalog_prints(tmp_path):
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "tools" / "bad_input_catalog.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    documented = (PROJECT_ROOT / "docs" / "bad_input.md").read_text(encoding="utf-8")
    assert result.stdout == documented, (
        "docs/bad_input.md is stale: run python tools/bad_input_catalog.py > docs/bad_input.md"
    )
    assert documented.count("\n| ") >= 55  # one row per case, four table headers
