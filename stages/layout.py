"""Where each stage reads and writes; dvc.yaml declares the same paths.

Every stage imports this module first, so it also puts this checkout's ``src/`` first on the import
path: a queued experiment runs in a copy under ``.dvc/tmp/exps/``, and must run that copy's library,
not the one an editable install (``pip install -e .``) points at in the workspace.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

RAW_CSV = Path("data/raw/jena_climate_2009_2016.csv")
DOWNLOAD_RECORD = Path("metrics/download.json")
TABLE = Path("data/interim/jena.parquet")
FEATURES_TABLE = Path("data/interim/features.parquet")
DATA_QUALITY = Path("metrics/data_quality.json")
NORMALIZED = Path("data/processed/normalized.npy")
SCALER = Path("data/processed/scaler.json")
SPLIT = Path("data/processed/split.json")
ANCHORS = Path("data/windows/anchors.npz")
WINDOWS_SUMMARY = Path("data/windows/windows.json")
NAIVE_METRICS = Path("metrics/models/naive.json")
LEADERBOARD = Path("metrics/leaderboard.tsv")
REPORT_DIR = Path("reports")


def model_file(name: str) -> Path:
    return Path("models") / f"{name}.keras"


def train_summary(name: str) -> Path:
    return Path("models") / f"{name}.train.json"


def train_log(name: str) -> Path:
    """DVCLive's per-epoch log of one model's training."""
    return Path("dvclive") / name


def model_metrics(name: str) -> Path:
    return Path("metrics/models") / f"{name}.json"


def horizons(name: str) -> Path:
    return Path("metrics/horizons") / f"{name}.tsv"


LR_RANGE_CURVE = Path("metrics/lr_range_test.tsv")
LR_RANGE_RESULT = Path("metrics/lr_range_test.json")


def checkpoint_dir(name: str) -> Path:
    """Resume checkpoints of an unfinished train stage: git-ignored, not a DVC output."""
    return Path("data/checkpoints") / name


def predictions(name: str) -> Path:
    """One model's test forecasts (first two weeks), next to the actual and naive ones."""
    return Path("metrics/predictions") / f"{name}.csv"


ENSEMBLE_METRICS = Path("metrics/ensemble.json")


def classical_forecasts(name: str) -> Path:
    """A classical model's normalized 24 h forecasts of every val and test window, for the ensemble."""
    return Path("data/forecasts") / f"{name}.npz"


def seed_metrics(name: str) -> Path:
    """One model's seed study: each seed's val/test scores, their mean and standard deviation."""
    return Path("metrics/seeds") / f"{name}.json"


def seed_forecasts(name: str) -> Path:
    """One model's normalized 24 h val/test forecasts from every seed of its seed study."""
    return Path("data/seed_forecasts") / f"{name}.npz"


ENSEMBLE_SEEDS_CHECKPOINTS = Path("data/checkpoints/seeds/ensemble")


def seed_checkpoint_dir(name: str) -> Path:
    """Finished seeds and the resume checkpoint of an unfinished seeds stage: git-ignored."""
    return Path("data/checkpoints/seeds") / name
