"""`dvc plots show` renders in a real browser, offline: headless Chromium draws every chart.

Opt-in (CI sets it): JENA_BROWSER_TESTS=1 and Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dvc_project import PROJECT_ROOT, first_look_plots_command, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("JENA_BROWSER_TESTS") != "1",
        reason="browser test: set JENA_BROWSER_TESTS=1 (needs chromium) to run it",
    ),
]
PURPLE = (0x94, 0x5D, 0xD6)  # DVC's colour for the workspace revision
FORECAST_SERIES = ("actual_degc", "predicted_degc", "naive_degc")
# Page bytes per byte of plotted CSV/TSV: a row inlined once as a JSON object, which repeats every
# column name, takes about 3.4 (a forecast chart: 271 kB for an 80 kB CSV). DVC's flattening of
# three y fields inlines each row three times with three columns of its own: 14.5.
PAGE_BYTES_PER_DATA_BYTE = 5
# Page bytes per chart besides its data: DVC's div, the Vega-Lite spec, a title (about 3 kB for
# a one-row horizons chart).
PAGE_BYTES_PER_CHART = 4_000


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


def plot_entries(project: Path) -> list[tuple[str, dict]]:
    """The top-level plots of dvc.yaml: (id, properties)."""
    pipeline = yaml.safe_load((project / "dvc.yaml").read_text())
    return [next(iter(entry.items())) for entry in pipeline["plots"]]


def expected_charts(project: Path) -> int:
    """One chart per top-level plot of dvc.yaml, a directory giving one per file in it."""
    count = 0
    for name, _ in plot_entries(project):
        path = project / name
        count += len(list(path.iterdir())) if path.is_dir() else 1
    return count


def plotted_files(project: Path) -> list[Path]:
    """Every file a top-level plot reads that exists: its id (a file or a directory of them) or its
    y files (the tiny project trains a few of the models whose learning curves are charted)."""
    files: list[Path] = []
    for name, properties in plot_entries(project):
        y = (properties or {}).get("y")
        if isinstance(y, dict):
            files += [project / source for source in y]
        elif (project / name).is_dir():
            files += sorted((project / name).iterdir())
        else:
            files.append(project / name)
    return [path for path in files if path.is_file()]


def page_specs(html: str) -> dict[str, dict]:
    """The Vega-Lite spec of every chart on a DVC page, by the id of its div."""
    specs = re.findall(r"var spec = (\{.*?\});\s*vegaEmbed\('#([^']+)'", html, re.S)
    return {div: json.loads(spec) for spec, div in specs}


def forecast_div(path: Path) -> str:
    """The id of the div DVC gives the chart of metrics/predictions/<model>.csv."""
    return f"metrics_predictions_{path.stem}_csv"


def chart_svgs(dom: str) -> dict[str, str]:
    """Each chart's drawn SVG in Chromium's DOM, by the id of its div."""
    pattern = r'<div id="([^"]+)" class="vega-embed[^"]*".*?(<svg[^>]*class="marks".*?</svg>)'
    return dict(re.findall(pattern, dom, re.S))


def csv_rows(path: Path) -> int:
    with path.open(newline="") as file:
        return sum(1 for _ in csv.DictReader(file))


def lines_through_every_row(svg: str, rows: int) -> list[tuple[str, str]]:
    """(stroke colour, dash array) of each SVG path drawn through all ``rows`` points of a file."""
    lines = []
    for tag in re.findall(r"<path\b[^>]*>", svg):
        path = re.search(r'\bd="(M[^"]*)"', tag)
        if path and path.group(1).count("L") == rows - 1:
            stroke = re.search(r'\bstroke="([^"]+)"', tag)
            dash = re.search(r'\bstroke-dasharray="([^"]+)"', tag)
            lines.append((stroke.group(1) if stroke else "", dash.group(1) if dash else ""))
    return lines


@pytest.fixture(scope="module")
def plots_template(tmp_path_factory) -> Path:
    template = tmp_path_factory.mktemp("template") / "template.html"
    tool = PROJECT_ROOT / "tools" / "offline_plots_template.py"
    subprocess.run([sys.executable, str(tool), str(template)], check=True, capture_output=True)
    return template


@pytest.fixture(scope="module")
def plots_page(reproduced_project, plots_template, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plots")
    run(
        ["dvc", "plots", "show", "--html-template", str(plots_template), "-o", str(out / "page")],
        reproduced_project,
    )
    return out / "page" / "index.html"


@pytest.fixture(scope="module")
def dom(plots_page, tmp_path_factory) -> str:
    profile = tmp_path_factory.mktemp("dom-profile")
    return chromium(profile, "--dump-dom", plots_page.as_uri()).stdout.decode()


def test_the_page_loads_nothing_from_the_internet(plots_page, reproduced_project):
    html = plots_page.read_text()
    assert not re.search(r"<script[^>]+src=", html)
    assert html.count("vegaEmbed('#") == expected_charts(reproduced_project)


def test_the_page_inlines_each_row_once(plots_page, plots_template, reproduced_project):
    specs = page_specs(plots_page.read_text())
    forecasts = sorted((reproduced_project / "metrics" / "predictions").glob("*.csv"))
    assert len(forecasts) >= 3
    for path in forecasts:
        with path.open(newline="") as file:
            rows = list(csv.DictReader(file))
        values = specs[forecast_div(path)]["data"]["values"]
        assert [row["timestamp"] for row in values] == [row["timestamp"] for row in rows]
        assert {key: values[0][key] for key in FORECAST_SERIES} == {
            key: rows[0][key] for key in FORECAST_SERIES
        }
    data_bytes = sum(path.stat().st_size for path in plotted_files(reproduced_project))
    budget = (
        plots_template.stat().st_size
        + PAGE_BYTES_PER_DATA_BYTE * data_bytes
        + PAGE_BYTES_PER_CHART * len(specs)
    )
    assert plots_page.stat().st_size <= budget


def test_chromium_draws_every_chart(dom, reproduced_project):
    drawn = re.findall(r'<svg[^>]*class="marks"|<canvas[^>]*class="marks"', dom)
    assert len(drawn) == expected_charts(reproduced_project) > 7
    # Every chart has a finite, screen-sized frame (an empty legend makes Vega's bounds infinite).
    for div, svg in chart_svgs(dom).items():
        width, height = (
            float(v) for v in re.search(r'width="([^"]+)" height="([^"]+)"', svg).groups()
        )
        assert 0 < width < 2000 and 0 < height < 2000, div
    # The leaderboard's bars, one per row, with the values of metrics/leaderboard.tsv.
    # What the rank follows: the validation MAE over seeds where there is a seed study.
    bars = re.findall(r'aria-label="ranked_val_mae_degc: ([0-9.]+); model: (\w+)', dom)
    header, *board = (reproduced_project / "metrics" / "leaderboard.tsv").read_text().splitlines()
    rows = [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in board]
    assert sorted((model, float(mae)) for mae, model in bars) == sorted(
        (row["model"], float(row["ranked_val_mae_degc"])) for row in rows
    )
    # Every line chart has drawn lines: SVG paths through two or more points in its line marks.
    line_groups = re.findall(r'class="mark-line role-mark[^"]*"[^>]*>(.*?)</g>', dom, re.S)
    paths = [re.findall(r' d="(M[^"]*)"', group) for group in line_groups]
    lines = [d for group in paths for d in group if "L" in d]
    models = len(yaml.safe_load((reproduced_project / "params.yaml").read_text())["models"])
    assert len(lines) >= 3 * 3 + 2 * models  # 3 forecast lines per model, 2 loss curves each


def test_a_forecast_chart_draws_actual_predicted_and_naive_in_three_colours(
    dom, reproduced_project
):
    svgs = chart_svgs(dom)
    for path in sorted((reproduced_project / "metrics" / "predictions").glob("*.csv")):
        svg = svgs[forecast_div(path)]
        strokes = [stroke for stroke, _ in lines_through_every_row(svg, csv_rows(path))]
        assert len(strokes) == len(set(strokes)) == 3, path.name
        legend = re.search(
            r'aria-label="Symbol legend for stroke color with 3 values: ([^"]*)"', svg
        )
        assert legend is not None and legend.group(1) == ", ".join(FORECAST_SERIES), path.name


def test_the_first_look_page_draws_actual_predicted_and_naive_too(
    reproduced_project, plots_template, tmp_path
):
    """`make first-look`'s page: each forecast chart draws three lines through every row, not
    DVC's default chart of one field against the row number."""
    page = tmp_path / "first-look"
    run(first_look_plots_command(plots_template, page), reproduced_project)
    dom = chromium(tmp_path / "profile", "--dump-dom", (page / "index.html").as_uri())
    svgs = chart_svgs(dom.stdout.decode())
    for name in ("ridge", "dense"):
        path = reproduced_project / "metrics" / "predictions" / f"{name}.csv"
        strokes = [
            stroke
            for stroke, _ in lines_through_every_row(svgs[forecast_div(path)], csv_rows(path))
        ]
        assert len(strokes) == len(set(strokes)) == 3, name


def test_with_two_revisions_a_forecast_chart_is_coloured_by_revision(
    project_copy, plots_template, tmp_path
):
    """`dvc plots diff HEAD` after the workspace's predictions moved 3 degC: one colour per
    revision (DVC's, workspace first), the three series told apart by dash."""
    forecast = sorted((project_copy / "metrics" / "predictions").glob("*.csv"))[0]
    with forecast.open(newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row["predicted_degc"] = f"{float(row['predicted_degc']) + 3:.4f}"
    with forecast.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "diff"
    # Every plot: a target that is also a path would add a second, template-less chart per file.
    command = ["dvc", "plots", "diff", "HEAD", "--html-template", str(plots_template)]
    run([*command, "-o", str(out)], project_copy)
    dom = chromium(tmp_path / "profile", "--dump-dom", (out / "index.html").as_uri())
    svg = chart_svgs(dom.stdout.decode())[forecast_div(forecast)]

    drawn = lines_through_every_row(svg, len(rows))
    strokes = [stroke for stroke, _ in drawn]
    dashes = {dash for _, dash in drawn}
    assert len(drawn) == 6  # three series in each revision
    assert sorted(set(strokes)) == sorted({"#945dd6", "#13adc7"})  # DVC's first two colours
    assert strokes.count("#945dd6") == strokes.count("#13adc7") == 3
    assert len(dashes) == 3
    legend = re.search(r'aria-label="Symbol legend for stroke color with 2 values: ([^"]*)"', svg)
    assert legend is not None and legend.group(1) == "workspace, HEAD"


def test_the_screenshot_shows_the_charts(plots_page, tmp_path):
    screenshot = tmp_path / "plots.png"
    chromium(
        tmp_path / "shot-profile",
        f"--screenshot={screenshot}",
        "--window-size=1400,2400",
        plots_page.as_uri(),
    )
    import numpy as np  # deferred: only the screenshot needs them
    from PIL import Image

    with Image.open(screenshot) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int64)
    near_purple = int((np.abs(pixels - np.array(PURPLE)).sum(axis=2) < 60).sum())
    not_white = int((pixels.min(axis=2) < 200).sum())
    assert near_purple > 10_000  # bars and lines in DVC's colour
    assert not_white > 0.02 * pixels.shape[0] * pixels.shape[1]
