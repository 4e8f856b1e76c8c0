"""Every known fault of the statistics, injected one at a time, makes a test fail."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow  # about a minute: the statistics' tests once per fault


def test_every_injected_fault_is_caught():
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "tools" / "inject_faults.py")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 9 and not [line for line in lines if "NOT CAUGHT" in line]
