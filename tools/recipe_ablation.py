"""Does a training change help a network? Its variants trained from several seeds, judged on validation.

    python tools/recipe_ablation.py --model simple_rnn --seeds 1 2 3 \\
        --variant "as is" \\
        --variant residual models.simple_rnn.residual=true \\
        --variant "residual+time" models.simple_rnn.residual=true features.time_signals=true

Each ``--variant NAME [KEY=VALUE ...]`` is params.yaml with dotted params set (values read as
YAML, as ``dvc exp run -S`` reads them); the first variant is the reference. Per variant the
pipeline's own stages run in memory on the parsed table (``data/interim/jena.parquet``, so run
`dvc repro parse` first): its features, the training slice's scaler, the windows; the model is then
trained from every seed as its ``seeds@`` stage would train it and scored on the validation and
test windows. Variants must forecast the same validation and test windows (a change of the windows
or the split is refused).

Printed per variant: validation and test MAE as seed mean +- std (degC), the seed-mean skill with its
95% block-bootstrap interval, and the paired difference of the seed-mean validation MAE to the
reference with its interval and verdict (``significance.paired_difference``). Test numbers are
shown, never used to choose. Finished seeds are kept under ``data/checkpoints/ablation/`` and
reused by a rerun with the same params and data; ``--output`` writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))  # screening, the module the screening tools share

from screening import SPLITS, score_cells, seed_errors, seed_scores  # noqa: E402

from jena_forecast.config import PipelineConfig, parse_params  # noqa: E402
from jena_forecast.data.features import add_features  # noqa: E402
from jena_forecast.data.normalize import column_stats, normalize_table  # noqa: E402
from jena_forecast.data.windows import (  # noqa: E402
    WindowSpec,
    assemble_targets,
    naive_forecast,
    split_anchors,
)
from jena_forecast.evaluation.scoring import bootstrap  # noqa: E402
from jena_forecast.evaluation.significance import paired_difference  # noqa: E402
from jena_forecast.plumbing.atomic import write_json  # noqa: E402
from jena_forecast.plumbing.errors import PipelineError  # noqa: E402
from jena_forecast.plumbing.tables import read_table  # noqa: E402


@dataclass(frozen=True)
class Variant:
    """A name and the dotted params it sets."""

    name: str
    overrides: dict[str, Any]


@dataclass
class Inputs:
    """What a variant's model is trained and scored on."""

    data: np.ndarray
    anchors: dict[str, np.ndarray]
    spec: WindowSpec
    scale: float  # degC per normalized unit of the target


def parse_variant(words: list[str]) -> Variant:
    """``["residual", "models.gru.residual=true"]`` -> ``Variant("residual", {...: True})``."""
    name, *settings = words
    overrides = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not re.fullmatch(r"[\w.\-+ ()%]+", key):
            raise SystemExit(f"variant {name!r}: expected KEY=VALUE, received {setting!r}")
        overrides[key] = yaml.safe_load(value)
    return Variant(name, overrides)


def variant_config(raw: dict[str, Any], variant: Variant, source: str) -> PipelineConfig:
    """``raw`` params with the variant's dotted params set, validated like params.yaml."""
    params = copy.deepcopy(raw)
    for dotted, value in variant.overrides.items():
        *parents, leaf = dotted.split(".")
        node = params
        for key in parents:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[leaf] = value
    return parse_params(params, source=f"{source} (variant {variant.name!r})")


def variant_inputs(config: PipelineConfig, table_path: Path) -> Inputs:
    """The features, normalize and windows stages of ``config`` on the parsed table, in memory."""
    source = str(table_path)
    table = add_features(
        read_table(table_path), config.features, config.windows.target_column, source
    )
    data, bounds, scaler_record = normalize_table(table, config.split, source)
    columns = list(scaler_record["columns"])
    target = config.windows.target_column
    spec = WindowSpec.from_config(config.windows, columns.index(target))
    _, scale = column_stats(scaler_record, target, source)
    valid_rows = ~np.isnan(data).any(axis=1)
    anchors = split_anchors(valid_rows, {s: bounds[s] for s in ("train", *SPLITS)}, spec)
    return Inputs(data, anchors, spec, scale)


def truth(inputs: Inputs) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per split, the naive forecast and the target ``delay_rows`` later, in degC from the mean."""

    def degc(values: np.ndarray) -> np.ndarray:
        return values[:, 0].astype(np.float64) * inputs.scale

    data, spec = inputs.data, inputs.spec
    return {
        split: (
            degc(naive_forecast(data, inputs.anchors[split], spec)),
            degc(assemble_targets(data, inputs.anchors[split], spec)),
        )
        for split in SPLITS
    }


def check_same_windows(reference: Inputs, other: Inputs, name: str) -> None:
    """Refuse a variant that forecasts other validation or test windows than the reference."""
    for split in SPLITS:
        same_anchors = np.array_equal(reference.anchors[split], other.anchors[split])
        if not same_anchors or reference.spec.delay_rows != other.spec.delay_rows:
            raise SystemExit(
                f"variant {name!r} forecasts other {split} windows than the reference "
                f"({other.anchors[split].size} windows, delay {other.spec.delay_rows} rows, against "
                f"{reference.anchors[split].size}, delay {reference.spec.delay_rows}); compare "
                "changes of the model, its training or its inputs, not of the windows or the split"
            )


def summarize(
    errors: dict[str, np.ndarray],
    naive: dict[str, np.ndarray],
    reference: dict[str, np.ndarray],
    config: PipelineConfig,
) -> dict[str, Any]:
    """Per split, ``screening.seed_scores`` of the errors (degC) and the paired difference of the
    seed-mean error to the reference's."""
    resampling = bootstrap(config, min(naive[split].size for split in SPLITS))
    record: dict[str, Any] = {}
    for split in SPLITS:
        gap = paired_difference(
            reference[split].mean(axis=0), errors[split].mean(axis=0), resampling
        )
        record[split] = {
            **seed_scores(errors[split], naive[split], resampling),
            "vs_reference_degc": round(gap.mean_difference, 6),
            "vs_reference_low": round(gap.low, 6),
            "vs_reference_high": round(gap.high, 6),
            "vs_reference_p": round(gap.p_value, 6),
            "vs_reference": gap.verdict,
        }
    return record


def line(name: str, record: dict[str, Any]) -> str:
    cells = [f"{name:28s}", *score_cells(record)]
    r = record["val"]
    cells.append(
        f"val vs ref {r['vs_reference_degc']:+.3f} [{r['vs_reference_low']:+.3f}, "
        f"{r['vs_reference_high']:+.3f}] {r['vs_reference']}"
    )
    return "  ".join(cells)


def ablate(
    model: str,
    seeds: list[int],
    variants: list[Variant],
    params_path: Path,
    table_path: Path,
    cache_root: Path | None,
) -> dict[str, Any]:
    """Check every variant, then train and score each; the record ``--output`` writes."""
    raw = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    prepared: list[
        tuple[Variant, PipelineConfig, Inputs]
    ] = []  # every variant checked before any training: a bad one fails fast
    for variant in variants:
        config = variant_config(raw, variant, str(params_path))
        config.model(model)
        inputs = variant_inputs(config, table_path)
        if prepared:
            check_same_windows(prepared[0][2], inputs, variant.name)
        prepared.append((variant, config, inputs))
    results: dict[str, Any] = {}
    reference: dict[str, np.ndarray] | None = None
    for variant, config, inputs in prepared:
        cache = None
        if cache_root is not None:
            slug = re.sub(r"[^\w.+-]+", "_", variant.name).strip("._") or "variant"
            cache = cache_root / model / slug
            cache.mkdir(parents=True, exist_ok=True)
        errors = {
            split: values * inputs.scale
            for split, values in seed_errors(
                config.model(model),
                seeds,
                inputs.data,
                inputs.anchors,
                inputs.spec,
                inputs.scale,
                cache,
            ).items()
        }
        reference = errors if reference is None else reference
        naive = {split: np.abs(now - later) for split, (now, later) in truth(inputs).items()}
        record = summarize(errors, naive, reference, config)
        results[variant.name] = {"overrides": variant.overrides, **record}
        print(line(variant.name, record), flush=True)
    return {"model": model, "seeds": seeds, "variants": results}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a network of params models")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--variant",
        nargs="+",
        action="append",
        required=True,
        metavar="NAME [KEY=VALUE",
        help="a name and dotted params; the first variant is the reference",
    )
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--table", type=Path, default=ROOT / "data" / "interim" / "jena.parquet")
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "data" / "checkpoints" / "ablation",
        help="finished seeds are kept here; 'none' keeps nothing",
    )
    parser.add_argument("--output", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    if len(set(args.seeds)) < 2:
        raise SystemExit("--seeds: at least 2 distinct seeds give a standard deviation")
    variants = [parse_variant(words) for words in args.variant]
    names = [variant.name for variant in variants]
    if len(set(names)) != len(names):
        raise SystemExit(f"--variant names must be distinct; received {names}")
    cache = None if str(args.cache) == "none" else args.cache
    try:
        record = ablate(args.model, args.seeds, variants, args.params, args.table, cache)
    except PipelineError as error:
        raise SystemExit(str(error)) from None
    if args.output:
        write_json(args.output, record)


if __name__ == "__main__":
    main()
