"""Resume an interrupted training run from its last completed epoch, to the same final weights.

After every epoch a checkpoint is committed to ``<directory>/epoch-NNNN/``: it is written into a
hidden temporary directory and renamed into place, so a killed process leaves either the previous
checkpoint or the new one, never half of one. A checkpoint holds

* ``model.keras``: the full model with its optimizer state;
* ``seeds.npz``: the state of every ``SeedGenerator`` (dropout masks), which ``.keras`` files omit;
* ``best_weights.npz``: early stopping's best weights so far;
* ``state.json``: the fingerprint, completed epochs, early-stopping counters, history rows so far
  and the training seconds spent.

The fingerprint hashes the model's params, the seed, the window geometry and the input arrays, so a
checkpoint left by other params or other data is deleted instead of resumed. Keras's
``BackupAndRestore`` is not enough: it restores neither early stopping's state nor dropout's seeds.
The training batches are a function of ``(seed, epoch)`` alone (``ShuffledWindowBatches``), so the
resumed run sees the batches the uninterrupted one would have.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from jena_forecast.data.windows import WindowSpec
from jena_forecast.models.spec import ModelSpec
from jena_forecast.plumbing.artifacts import save_arrays
from jena_forecast.plumbing.atomic import write_json

CHECKPOINT_FORMAT = 1
EPOCH_PREFIX = "epoch-"
SEED_STATE_SUFFIX = "seed_generator_state"


def fingerprint(
    spec: ModelSpec,
    seed: int,
    window_spec: WindowSpec,
    arrays: dict[str, np.ndarray],
) -> str:
    """A hash of everything that decides the training run: params, seed, windows and input arrays."""
    digest = hashlib.sha256()
    described = {
        "format": CHECKPOINT_FORMAT,
        "keras": keras.__version__,
        "model": spec.model_dump(mode="json"),
        "seed": seed,
        "windows": asdict(window_spec),
        "arrays": {name: [str(a.dtype), list(a.shape)] for name, a in sorted(arrays.items())},
    }
    digest.update(json.dumps(described, sort_keys=True).encode())
    for _, array in sorted(arrays.items()):
        digest.update(np.ascontiguousarray(array).data.cast("B"))
    return digest.hexdigest()


def seed_states(model: keras.Model) -> list[keras.Variable]:
    """The state variables of the model's seed generators (dropout), in a stable order."""
    return [v for v in model.variables if v.path.endswith(SEED_STATE_SUFFIX)]


def _numbered(arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {f"a{i:04d}": np.asarray(array) for i, array in enumerate(arrays)}


def _unnumbered(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return [archive[name] for name in sorted(archive.files)]


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping whose counters and best weights can be saved and restored across processes."""

    def __init__(self, restored: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._restored = restored

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        if self._restored is not None:
            self.restore(self._restored)

    def restore(self, state: dict[str, Any]) -> None:
        """Put back the counters and best weights that ``state()`` returned."""
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best = state["best"]
        self.best_epoch = int(state["best_epoch"])
        self.best_weights = state["best_weights"]

    def state(self) -> dict[str, Any]:
        """Counters and best weights, enough to continue exactly where this run is."""
        return {
            "wait": int(self.wait),
            "stopped_epoch": int(self.stopped_epoch),
            "best": None if self.best is None else float(self.best),
            "best_epoch": int(self.best_epoch),
            "best_weights": self.best_weights,
        }


@dataclass
class Resumed:
    """What a checkpoint restores: the model, where training stood, and what it had seen."""

    model: keras.Model
    epochs_done: int
    finished: bool
    history: list[dict[str, float]]
    early_stopping: dict[str, Any]
    train_seconds: float


class TrainingCheckpoint:
    """The resume checkpoint of one model's training, in its own directory."""

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.directory = Path(directory)
        self.fingerprint = fingerprint

    def _latest(self) -> Path | None:
        if not self.directory.is_dir():
            return None
        epochs = sorted(p for p in self.directory.glob(f"{EPOCH_PREFIX}*") if p.is_dir())
        return epochs[-1] if epochs else None

    def load(self) -> Resumed | None:
        """The last committed checkpoint, or None; a stale or unreadable one is deleted."""
        latest = self._latest()
        if latest is None:
            self.remove()
            return None
        try:
            state = json.loads((latest / "state.json").read_text(encoding="utf-8"))
            if state.get("fingerprint") != self.fingerprint:
                _say(f"{self.directory}: checkpoint is from other params or data; starting over")
                self.remove()
                return None
            model = keras.models.load_model(latest / "model.keras", safe_mode=True)
            for variable, value in zip(
                seed_states(model), _unnumbered(latest / "seeds.npz"), strict=True
            ):
                variable.assign(value)
            best_path = latest / "best_weights.npz"
            early = dict(state["early_stopping"])
            early["best_weights"] = _unnumbered(best_path) if best_path.is_file() else None
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
            _say(f"{latest}: unreadable checkpoint ({error}); starting over")
            self.remove()
            return None
        _say(f"{self.directory}: resuming after epoch {state['epochs_done']}")
        return Resumed(
            model=model,
            epochs_done=int(state["epochs_done"]),
            finished=bool(state["finished"]),
            history=list(state["history"]),
            early_stopping=early,
            train_seconds=float(state["train_seconds"]),
        )

    def save(
        self,
        model: keras.Model,
        epochs_done: int,
        finished: bool,
        history: list[dict[str, float]],
        early_stopping: dict[str, Any],
        train_seconds: float,
    ) -> Path:
        """Commit the checkpoint after ``epochs_done`` epochs, then drop the older ones."""
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{EPOCH_PREFIX}{epochs_done:04d}"
        scratch = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=self.directory))
        try:
            model.save(scratch / "model.keras")
            seeds = [keras.ops.convert_to_numpy(v) for v in seed_states(model)]
            save_arrays(scratch / "seeds.npz", _numbered(seeds))
            best_weights = early_stopping.get("best_weights")
            if best_weights is not None:
                save_arrays(scratch / "best_weights.npz", _numbered(best_weights))
            scalars = {k: v for k, v in early_stopping.items() if k != "best_weights"}
            write_json(
                scratch / "state.json",
                {
                    "fingerprint": self.fingerprint,
                    "epochs_done": epochs_done,
                    "finished": finished,
                    "early_stopping": scalars,
                    "train_seconds": round(train_seconds, 3),
                    "history": history,
                },
            )
            if final.exists():
                shutil.rmtree(final)
            os.rename(scratch, final)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        for entry in self.directory.iterdir():
            if entry != final:
                _remove(entry)
        return final

    def remove(self) -> None:
        """Delete the checkpoint directory (after a finished run, or a stale checkpoint)."""
        _remove(self.directory)

    def callback(
        self,
        epoch_log: Any,
        early_stopping: ResumableEarlyStopping,
        epochs: int,
        seconds_before: float,
    ) -> keras.callbacks.Callback:
        """A callback, to run after ``epoch_log`` and ``early_stopping``, that saves every epoch."""
        return _SaveEveryEpoch(self, epoch_log, early_stopping, epochs, seconds_before)


class _SaveEveryEpoch(keras.callbacks.Callback):
    def __init__(
        self,
        checkpoint: TrainingCheckpoint,
        epoch_log: Any,
        early_stopping: ResumableEarlyStopping,
        epochs: int,
        seconds_before: float,
    ) -> None:
        super().__init__()
        self.checkpoint, self.epoch_log, self.early_stopping = checkpoint, epoch_log, early_stopping
        self.epochs, self.seconds_before = epochs, seconds_before
        self._started = time.perf_counter()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.checkpoint.save(
            self.model,
            epochs_done=epoch + 1,
            finished=bool(self.model.stop_training) or epoch + 1 >= self.epochs,
            history=list(self.epoch_log.rows),
            early_stopping=self.early_stopping.state(),
            train_seconds=self.seconds_before + time.perf_counter() - self._started,
        )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
