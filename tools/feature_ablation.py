"""Which of a classical model's feature groups earn their place: the model refitted without each.

    python tools/feature_ablation.py                  # ridge_anchor, after dvc repro windows
    python tools/feature_ablation.py --model ridge_anchor

Reads the pipeline's normalized array, scaler, parsed table and window anchors (run `dvc repro
windows` first), refits the ridge model of params ``classical.<model>`` (its own alpha choice on
validation) on the full anchor features and without each group, and prints per variant the
validation and test skill with their 95% block-bootstrap intervals and the paired difference of
validation MAE to the full set (``significance.paired_difference``). Test numbers are shown, never
used to choose.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))  # screening, the module the screening tools share

from screening import ridge_errors, ridge_features  # noqa: E402

from jena_forecast.config import load_params  # noqa: E402
from jena_forecast.data.windows import window_spec  # noqa: E402
from jena_forecast.evaluation.scoring import bootstrap  # noqa: E402
from jena_forecast.evaluation.significance import paired_difference, skill_interval  # noqa: E402
from jena_forecast.plumbing.artifacts import load_array, load_arrays  # noqa: E402
from jena_forecast.plumbing.errors import PipelineError  # noqa: E402

GROUPS = {
    "lags (target 1-72 h ago)": lambda name: " h ago" in name,
    "tendencies": lambda name: " change " in name,
    "means, min, max": lambda name: any(k in name for k in (" mean ", " min ", " max ")),
    "wind vector": lambda name: name.startswith("wind "),
    "clock (hour, day of year)": lambda name: name.startswith(("hour ", "day of year")),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ridge_anchor", help="a ridge entry of params classical")
    args = parser.parse_args()
    config = load_params(ROOT / "params.yaml")
    spec, scale = window_spec(config.windows, ROOT / "data" / "processed" / "scaler.json")
    data = load_array(ROOT / "data" / "processed" / "normalized.npy")
    anchors = load_arrays(ROOT / "data" / "windows" / "anchors.npz", ("train", "val", "test"))
    try:
        params, features = ridge_features(config, args.model, ROOT, data, spec)
    except PipelineError as error:
        raise SystemExit(str(error)) from None
    naive = {s: data[a, spec.target_index].astype(np.float64) for s, a in anchors.items()}
    actual = {
        s: data[a + spec.delay_rows, spec.target_index].astype(np.float64)
        for s, a in anchors.items()
    }
    resampling = bootstrap(config, min(len(anchors["val"]), len(anchors["test"])))

    def errors(keep: list[int]) -> tuple[dict[str, np.ndarray], float]:
        x = {s: features.at(a)[:, keep] for s, a in anchors.items()}
        fitted, alpha, _ = ridge_errors(params, x, naive, actual)
        return fitted, alpha

    naive_errors = {s: np.abs(naive[s] - actual[s]) for s in ("val", "test")}
    everything = list(range(len(features.names)))
    full, alpha = errors(everything)
    variants = [(f"all {len(everything)} features", full, alpha)]
    for label, member in GROUPS.items():
        keep = [i for i, name in enumerate(features.names) if not member(name)]
        variants.append((f"without {label}", *errors(keep)))
    for label, errs, chosen in variants:
        cells = [f"{label:34s} alpha={chosen:<7g}"]
        for split in ("val", "test"):
            low, high = skill_interval(errs[split], naive_errors[split], resampling)
            skill = 1 - errs[split].mean() / naive_errors[split].mean()
            cells.append(f"{split} {skill:+.2%} [{low:+.1%}, {high:+.1%}]")
        gap = paired_difference(full["val"], errs["val"], resampling)
        cells.append(
            f"val MAE vs all {gap.mean_difference * scale:+.3f} degC "
            f"[{gap.low * scale:+.3f}, {gap.high * scale:+.3f}] {gap.verdict}"
        )
        print("  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
