"""Where each stage reads and writes; dvc.yaml declares the same paths."""

from pathlib import Path

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
