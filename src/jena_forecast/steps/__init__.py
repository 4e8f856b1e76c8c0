"""One function per pipeline step: read its inputs, call the library, write its outputs atomically.

One module per DVC stage, so a stage depends on its own step's code (and ``common``) only.
Nothing here knows about DVC: the stage entry points in ``stages/`` name the paths.
"""

from jena_forecast.steps.baseline import baseline
from jena_forecast.steps.classical import classical
from jena_forecast.steps.common import read_tsv, window_spec
from jena_forecast.steps.download import download
from jena_forecast.steps.ensemble import ensemble
from jena_forecast.steps.ensemble_seeds import ensemble_seed_study
from jena_forecast.steps.evaluate import evaluate
from jena_forecast.steps.features import features
from jena_forecast.steps.leaderboard import leaderboard
from jena_forecast.steps.lr_range import lr_range_test
from jena_forecast.steps.normalize import normalize
from jena_forecast.steps.parse import parse
from jena_forecast.steps.report import report
from jena_forecast.steps.seeds import seed_study
from jena_forecast.steps.train import train
from jena_forecast.steps.windows import windows

__all__ = [
    "window_spec",
    "read_tsv",
    "download",
    "parse",
    "features",
    "normalize",
    "windows",
    "baseline",
    "train",
    "evaluate",
    "seed_study",
    "ensemble",
    "ensemble_seed_study",
    "classical",
    "lr_range_test",
    "leaderboard",
    "report",
]
