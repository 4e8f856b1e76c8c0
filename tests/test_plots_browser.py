"""`dvc plots show` renders in a real browser, offline: headless Chromium draws every chart.

Opt-in (CI sets it): JENA_BROWSER_TESTS=1 and Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dvc_project import PROJECT_ROOT, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("JENA_BROWSER_TESTS") != "1",
        reason="browser test: set JENA_BROWSER_TESTS=1 (needs chromium) to run it",
    ),
]
PURPLE = (0x94, 0x5D, 0xD6)  # DVC's colour for the workspace revision


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    binary = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(binary).is_file():
        pytest.fail("JENA_BROWSER_TESTS=1 but chromium is not installed (apt-get install chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
    ]
    return subprocess.run([binary, *flags, *args], capture_output=True, timeout=180, check=True)


def expected_charts(project: Path) -> int:
    """One chart per top-level plot of dvc.yaml, a directory giving one per file in it."""
    pipeline = yaml.safe_load((project / "dvc.yaml").read_text())
    count = 0
    for entry in pipeline["plots"]:
        (name,) = entry
        path = project / name
        count += len(list(path.iterdir())) if path.is_dir() else 1
    return count


@pytest.fixture(scope="module")
def plots_page(reproduced_project, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plots")
    template = out / "template.html"
    tool = PROJECT_ROOT / "tools" / "offline_plots_template.py"
    subprocess.run([sys.executable, str(tool), str(template)], check=True, capture_output=True)
    run(
        ["dvc", "plots", "show", "--html-template", str(template), "-o", str(out / "page")],
        reproduced_project,
    )
    return out / "page" / "index.html"


def test_the_page_loads_nothing_from_the_internet(plots_page, reproduced_project):
    html = plots_page.read_text()
    assert not re.search(r"<script[^>]+src=", html)
    assert html.count("vegaEmbed('#") == expected_charts(reproduced_project)


def test_chromium_draws_every_chart(plots_page, reproduced_project, tmp_path):
    dom = chromium(tmp_path / "dom-profile", "--dump-dom", plots_page.as_uri()).stdout.decode()
    drawn = re.findall(r'<svg[^>]*class="marks"|<canvas[^>]*class="marks"', dom)
    assert len(drawn) == expected_charts(reproduced_project) > 7
    # The leaderboard's bars, one per row, with the values of metrics/leaderboard.tsv.
    bars = re.findall(r'aria-label="val_mae_degc: ([0-9.]+); model: (\w+)', dom)
    board = (reproduced_project / "metrics" / "leaderboard.tsv").read_text().splitlines()[1:]
    assert sorted((model, float(mae)) for mae, model in bars) == sorted(
        (line.split("\t")[1], float(line.split("\t")[2])) for line in board
    )
    # Every line chart has drawn lines: SVG paths through two or more points in its line marks.
    line_groups = re.findall(r'class="mark-line role-mark[^"]*"[^>]*>(.*?)</g>', dom, re.S)
    paths = [re.findall(r' d="(M[^"]*)"', group) for group in line_groups]
    lines = [d for group in paths for d in group if "L" in d]
    assert len(lines) >= 3 * 3 + 3 * 2  # 3 forecast lines and 2 loss curves per model
    assert sum(1 for d in lines if d.count("L") >= 100) >= 3 * 3  # forecasts: hundreds of points

    screenshot = tmp_path / "plots.png"
    chromium(
        tmp_path / "shot-profile",
        f"--screenshot={screenshot}",
        "--window-size=1400,2400",
        plots_page.as_uri(),
    )
    import numpy as np
    from PIL import Image

    with Image.open(screenshot) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int64)
    near_purple = int((np.abs(pixels - np.array(PURPLE)).sum(axis=2) < 60).sum())
    not_white = int((pixels.min(axis=2) < 200).sum())
    assert near_purple > 10_000  # bars and lines in DVC's colour
    assert not_white > 0.02 * pixels.shape[0] * pixels.shape[1]
