"""Stage scripts import the library of their own checkout, whatever else is on the import path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_a_stage_in_a_copy_imports_the_copy_s_library(tmp_path):
    # A queued experiment's copy of the project, and another checkout first on the import path,
    # as an editable install of the workspace puts it.
    copy = tmp_path / "exps" / "tmp1234"
    shutil.copytree(PROJECT_ROOT / "stages", copy / "stages")
    shutil.copytree(PROJECT_ROOT / "src", copy / "src")
    other = tmp_path / "workspace" / "src" / "jena_forecast"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("raise ImportError('the workspace library was imported')\n")
    probe = copy / "stages" / "probe.py"
    probe.write_text("import jena_forecast\nprint(jena_forecast.__file__)\n")
    env = {**os.environ, "PYTHONPATH": str(other.parent)}
    result = subprocess.run(
        [sys.executable, "-m", "stages.probe"], cwd=copy, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == copy / "src" / "jena_forecast" / "__init__.py"
