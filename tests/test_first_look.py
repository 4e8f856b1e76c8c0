"""`make first-look` draws its forecast charts as `make plots` does: actual, predicted and naive
temperature against time, from the definition of `metrics/predictions` in dvc.yaml."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dvc_project import PROJECT_ROOT, first_look_plots_command, run

pytestmark = pytest.mark.slow


def page_specs(page: Path) -> dict[str, dict]:
    """The Vega-Lite spec of every chart on a DVC page, by the id of its div."""
    specs = re.findall(r"var spec = (\{.*?\});\s*vegaEmbed\('#([^']+)'", page.read_text(), re.S)
    return {div: json.loads(spec) for spec, div in specs}


def test_the_first_look_page_draws_the_forecast_charts_of_dvc_yaml(reproduced_project, tmp_path):
    template = tmp_path / "template.html"
    tool = PROJECT_ROOT / "tools" / "offline_plots_template.py"
    subprocess.run([sys.executable, str(tool), str(template)], check=True, capture_output=True)
    run(first_look_plots_command(template, tmp_path / "first-look"), reproduced_project)
    run(
        ["dvc", "plots", "show", "--html-template", str(template), "-o", str(tmp_path / "all")],
        reproduced_project,
    )
    first_look = page_specs(tmp_path / "first-look" / "index.html")
    every_plot = page_specs(tmp_path / "all" / "index.html")
    assert sorted(first_look) == ["metrics_predictions_dense_csv", "metrics_predictions_ridge_csv"]
    for div, spec in first_look.items():
        assert spec == every_plot[div], div
        # actual, predicted and naive over time: not DVC's default chart of one field against
        # the row number, which the files alone would get
        rows = spec["data"]["values"]
        assert {"timestamp", "actual_degc", "predicted_degc", "naive_degc"} <= set(rows[0])
