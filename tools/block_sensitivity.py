"""How the intervals move with the bootstrap's block length: each kept forecast's test MAE and
skill intervals, and its paired difference to naive, in blocks of 1, 3, 7 and 14 days, beside the
errors' own Politis-White length. Reads ``data/forecasts/*.npz`` (run the scoring stages first)::

    python tools/block_sensitivity.py [--split test] [--days 1 3 7 14]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jena_forecast.evaluation.forecasts import load_forecasts  # noqa: E402
from jena_forecast.evaluation.scoring import ScoringConfig, bootstrap  # noqa: E402
from jena_forecast.evaluation.significance import (  # noqa: E402
    Bootstrap,
    mean_interval,
    paired_difference,
    politis_white_block,
    skill_interval,
)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python tools/block_sensitivity.py")
    parser.add_argument("--split", default="test", choices=("val", "test"))
    parser.add_argument("--days", type=float, nargs="+", default=[1, 3, 7, 14])
    args = parser.parse_args()
    config = ScoringConfig.load(ROOT / "params.yaml")
    rows = []
    for path in sorted((ROOT / "data" / "forecasts").glob("*.npz")):
        if path.stem == "naive":
            continue
        kept = load_forecasts(path)
        errors, naive = kept.abs_errors(args.split), kept.naive_abs_errors(args.split)
        scale = kept.target_scale
        row: dict[str, object] = {
            "model": path.stem,
            "pw_days": round(politis_white_block(errors) * 10 / 1440, 2),
        }
        for days in args.days:
            base = bootstrap(config, errors.size)
            block = max(1, round(days * 1440 / config.parse.interval_minutes))
            resampling = Bootstrap(block, base.replications, base.level, base.seed)
            low, high = mean_interval(errors, resampling)
            skill_low, skill_high = skill_interval(errors, naive, resampling)
            difference = paired_difference(naive, errors, resampling)
            row[f"mae_width_{days:g}d"] = round((high - low) * scale, 3)
            row[f"skill_{days:g}d"] = f"[{skill_low:+.1%}, {skill_high:+.1%}]"
            row[f"diff_width_{days:g}d"] = round((difference.high - difference.low) * scale, 3)
        rows.append(row)
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
