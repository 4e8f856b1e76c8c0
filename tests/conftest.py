"""Shared fixtures: tiny configs and synthetic Jena-format files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

from synthetic import SyntheticJena  # noqa: E402

from jena_forecast.config import ParseConfig  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def parse_config() -> ParseConfig:
    return ParseConfig()


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a SyntheticJena (or raw text) to a CSV in tmp_path and return its path."""

    def write(source: SyntheticJena | str, name: str = "jena.csv") -> Path:
        path = tmp_path / name
        if isinstance(source, str):
            path.write_text(source, encoding="utf-8", newline="")
            return path
        return source.write_csv(path)

    return write
