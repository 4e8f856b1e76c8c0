"""Same inputs, same bytes: a rerun that computes the same model writes the same files, so DVC
sees no change (dvc.lock, `dvc status`), and times live outside the hashed outputs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from dvc_project import run

from jena_forecast.plumbing.timings import split_timings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SAVE_RIDGE = """
import sys
import numpy as np
from sklearn.linear_model import Ridge
from jena_forecast.classical.persist import save_estimator
rows = np.arange(30.0).reshape(10, 3)
save_estimator(sys.argv[1], Ridge(alpha=0.5).fit(rows, rows.sum(axis=1)))
"""


def test_a_skops_file_has_the_same_bytes_from_two_processes_and_still_loads(tmp_path):
    from jena_forecast.classical.persist import load_estimator

    paths = [tmp_path / "first.skops", tmp_path / "second.skops"]
    for path in paths:  # new processes: other object ids, another second on the clock
        subprocess.run([sys.executable, "-c", SAVE_RIDGE, str(path)], check=True)
        time.sleep(1.1)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    names = zipfile.ZipFile(paths[0]).namelist()
    arrays = sorted(name for name in names if name != "schema.json")
    assert arrays == [f"{number}.npy" for number in range(1, len(arrays) + 1)] and arrays
    assert {info.date_time for info in zipfile.ZipFile(paths[0]).infolist()} == {
        (1980, 1, 1, 0, 0, 0)
    }
    rows = np.arange(30.0).reshape(10, 3)
    assert np.allclose(load_estimator(paths[0]).predict(rows), rows.sum(axis=1), atol=1e-2)


SAVE_NETWORK = """
import sys
import keras
from jena_forecast.plumbing.stable_zip import stable_keras
keras.utils.set_random_seed(1)
inputs = keras.Input((4, 3))
hidden = keras.layers.GRU(2)(inputs)
model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Concatenate()([hidden, hidden])))
model.save(sys.argv[1])
stable_keras(sys.argv[1])
"""


def test_a_keras_file_has_the_same_bytes_from_two_processes_and_still_loads(tmp_path):
    import keras

    paths = [tmp_path / "first.keras", tmp_path / "second.keras"]
    for path in paths:  # Keras names objects shared between layers by their id() in the process
        subprocess.run([sys.executable, "-c", SAVE_NETWORK, str(path)], check=True)
        time.sleep(1.1)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    archive = zipfile.ZipFile(paths[0])
    metadata = json.loads(archive.read("metadata.json"))
    assert "date_saved" not in metadata and metadata["keras_version"] == keras.__version__
    assert '"shared_object_id": 1' in archive.read("config.json").decode()
    loaded = keras.saving.load_model(paths[0])
    assert loaded.predict(np.ones((1, 4, 3), dtype="float32"), verbose=0).shape == (1, 1)


def test_timings_come_out_of_a_record_at_any_depth():
    record = {"epochs": 3, "train_seconds": 4.2, "runs": {"seed_1": {"train_seconds": 2.0}}}
    kept, timings = split_timings(record)
    assert kept == {"epochs": 3, "runs": {"seed_1": {}}}
    assert timings == {"train_seconds": 4.2, "runs": {"seed_1": {"train_seconds": 2.0}}}


@pytest.mark.slow
def test_a_forced_rerun_of_a_classical_and_a_network_stage_leaves_dvc_lock_unchanged(project_copy):
    project = project_copy
    lock = (project / "dvc.lock").read_text()
    for stage in ("classical@ridge", "classical@hist_gbr", "train@dense", "train@gru"):
        run(["dvc", "repro", "--force", "--single-item", stage], project)
    assert (project / "dvc.lock").read_text() == lock
    assert "up to date" in run(["dvc", "status"], project).stdout
    assert (
        run(["git", "status", "--porcelain", "--", "dvc.lock", "metrics/models"], project).stdout
        == ""
    )
    timing = json.loads((project / "metrics" / "timings" / "train" / "gru.json").read_text())
    assert timing["train_seconds"] > 0  # measured again, outside anything dvc.lock hashes
