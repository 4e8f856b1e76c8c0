"""The team's S3 remote against a real S3 server (SeaweedFS on loopback, tests/s3_store.py).

The committed .dvc/config names the remote by bucket and prefix only (`s3://jena-team/<prefix>`);
each member gives the endpoint and keys with `dvc remote modify --local` or the AWS environment
variables (docs/sharing.md). Teammate A is a copy of the reproduced tiny project with a bare git
`origin`; each teammate B is a fresh `git clone` of it, so nothing is retrained.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from dvc_project import commit_all, copy_project, edit_params, environment, stages_run
from s3_store import S3Store

pytestmark = pytest.mark.slow

REMOTE = "team"
PREFIX = "jena-forecast"
# A change that reruns only the ensemble and what reads it (5 stages, ~20 s), no training.
EXPERIMENT = "top-1"
EXPERIMENT_PARAMS = {"ensemble.top_k": 1}
# DVC's run-cache records only stages whose every output is cached (or a metric or plot): here
# features, normalize, windows and package. A changed packed model reruns package alone.
PACKED_MODEL = "linear"
UP_TO_DATE = "Data and pipelines are up to date."


def remote_url(store: S3Store, bucket: str | None = None) -> str:
    return f"s3://{bucket or store.bucket}/{PREFIX}"


def key_environment(store: S3Store, secret_key: str | None = None) -> dict[str, str]:
    """What a member without .dvc/config.local exports: the endpoint and keys, AWS's names."""
    return {
        "AWS_ENDPOINT_URL_S3": store.endpoint,
        "AWS_ACCESS_KEY_ID": store.access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key or store.secret_key,
    }


def dvc(
    command: list[str], cwd: Path, aws: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd`` with none of the caller's AWS settings (variables, ~/.aws files,
    instance metadata), only ``aws``."""
    env = {key: value for key, value in environment(cwd).items() if not key.startswith("AWS_")}
    missing = str(cwd.parent / "no-aws-config")  # never created: no profile, no shared keys
    env.update(
        AWS_CONFIG_FILE=missing,
        AWS_SHARED_CREDENTIALS_FILE=missing,
        AWS_EC2_METADATA_DISABLED="true",
        **(aws or {}),
    )
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def configure_locally(project: Path, store: S3Store) -> None:
    """`dvc remote modify --local`: the endpoint and keys in the git-ignored .dvc/config.local."""
    for option, value in store.dvc_remote_settings().items():
        dvc(["dvc", "remote", "modify", "--local", REMOTE, option, value], project)


def share(project: Path, store: S3Store) -> None:
    """Commit the team's remote as the default (bucket and prefix only), configure this member's
    endpoint and keys locally."""
    dvc(["dvc", "remote", "add", "--default", REMOTE, remote_url(store)], project)
    configure_locally(project, store)
    commit_all(project, "Share data and models on the team's S3 bucket")


def clone(origin: Path, target: Path) -> Path:
    dvc(["git", "clone", "-q", str(origin), str(target)], origin.parent)
    return target


def lock(project: Path, rev: str | None = None) -> dict[str, Any]:
    """dvc.lock of the workspace, or of git revision ``rev``."""
    if rev is None:
        return yaml.safe_load((project / "dvc.lock").read_text())
    return yaml.safe_load(dvc(["git", "show", f"{rev}:dvc.lock"], project).stdout)


def lock_outputs(locked: dict[str, Any]) -> dict[str, str]:
    """Every output path of a dvc.lock mapping and its md5 (a directory's ends with .dir)."""
    return {out["path"]: out["md5"] for stage in locked["stages"].values() for out in stage["outs"]}


def cached_outputs(project: Path) -> dict[str, str]:
    """The outputs of the workspace's dvc.lock that DVC caches (and so pushes): path -> md5."""
    cache = project / ".dvc" / "cache" / "files" / "md5"
    return {
        path: digest
        for path, digest in lock_outputs(lock(project)).items()
        if (cache / digest[:2] / digest[2:]).is_file()
    }


def object_key(md5: str) -> str:
    """Where DVC 3 keeps an object in a remote."""
    return f"{PREFIX}/files/md5/{md5[:2]}/{md5[2:]}"


def files_under(project: Path, paths: list[str]) -> dict[str, bytes]:
    """The bytes of every file at or under ``paths`` (relative to ``project``)."""
    found: dict[str, bytes] = {}
    for path in paths:
        root = project / path
        for file in [root] if root.is_file() else sorted(root.rglob("*")):
            if file.is_file():
                found[file.relative_to(project).as_posix()] = file.read_bytes()
    return found


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@dataclass(frozen=True)
class Team:
    """Teammate A (a copy of the reproduced project, pushed to ``origin``) and the store."""

    a: Path
    origin: Path
    store: S3Store
    root: Path


@pytest.fixture(scope="module")
def team(reproduced_project: Path, s3_store: S3Store, tmp_path_factory) -> Team:
    root = tmp_path_factory.mktemp("team")
    a = copy_project(reproduced_project, root / "a")
    share(a, s3_store)
    branch = dvc(["git", "branch", "--show-current"], a).stdout.strip()
    origin = root / "origin.git"
    dvc(["git", "init", "-q", "--bare", f"--initial-branch={branch}", str(origin)], root)
    dvc(["git", "remote", "add", "origin", str(origin)], a)
    dvc(["git", "push", "-q", "origin", branch], a)
    return Team(a=a, origin=origin, store=s3_store, root=root)


@dataclass(frozen=True)
class Experiment:
    rev: str
    ensemble_scores: dict[str, Any]  # as A's `dvc exp show` gives them


@pytest.fixture(scope="module")
def experiment(team: Team) -> Experiment:
    """A's experiment EXPERIMENT, run in a temporary copy (--temp): A's workspace stays at HEAD."""
    settings = [f"{key}={value}" for key, value in EXPERIMENT_PARAMS.items()]
    ran = dvc(["dvc", "exp", "run", "--temp", "-n", EXPERIMENT, "-S", *settings], team.a)
    assert f"Ran experiment(s): {EXPERIMENT}" in ran.stdout
    shown = shown_experiments(team.a)[EXPERIMENT]
    head, exp = lock(team.a, "HEAD")["stages"], lock(team.a, shown["rev"])["stages"]
    changed = [name for name in exp if exp[name] != head.get(name)]  # ran, or restored
    assert "ensemble" in changed and not any(name.startswith("train@") for name in changed)
    return Experiment(shown["rev"], ensemble_scores(shown))


def shown_experiments(project: Path) -> dict[str, dict[str, Any]]:
    """`dvc exp show --json`: each experiment of HEAD, by name: its rev and data."""
    head = dvc(["git", "rev-parse", "HEAD"], project).stdout.strip()
    shown = json.loads(dvc(["dvc", "exp", "show", "--json"], project).stdout)
    baseline = next(row for row in shown if row["rev"] == head)
    return {exp["name"]: exp["revs"][0] for exp in baseline["experiments"] or []}


def ensemble_scores(shown: dict[str, Any]) -> dict[str, Any]:
    return shown["data"]["metrics"]["metrics/scores/ensemble.json"]["data"]


def test_the_committed_config_names_the_bucket_and_holds_no_endpoint_or_key(team):
    b = clone(team.origin, team.root / "b-config")
    committed = (b / ".dvc" / "config").read_text()
    assert f"url = {remote_url(team.store)}" in committed
    assert f"remote = {REMOTE}" in committed
    history = dvc(["git", "log", "--all", "-p", "--", ".dvc"], b).stdout
    for secret in (
        "endpointurl",
        "access_key_id",
        "secret_access_key",
        f"127.0.0.1:{team.store.ports['s3']}",
        team.store.access_key,
        team.store.secret_key,
    ):
        assert secret not in committed and secret not in history
    # A's endpoint and keys are in .dvc/config.local, which git ignores.
    assert team.store.secret_key in (team.a / ".dvc" / "config.local").read_text()
    assert dvc(["git", "check-ignore", ".dvc/config.local"], team.a).returncode == 0
    assert not (b / ".dvc" / "config.local").exists()


def test_requests_signed_with_other_keys_get_403(s3_store):
    from botocore.exceptions import ClientError

    assert s3_store.client().head_bucket(Bucket=s3_store.bucket)
    for keys, code in (
        ({"secret_key": "not-the-secret"}, "SignatureDoesNotMatch"),
        ({"access_key": "NOTAKEYOFTHISSTORE", "secret_key": "x"}, "InvalidAccessKeyId"),
    ):
        client = s3_store.client(**keys)
        with pytest.raises(ClientError) as refused:
            client.put_object(Bucket=s3_store.bucket, Key="intruder", Body=b"x")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert refused.value.response["Error"]["Code"] == code
    assert "intruder" not in s3_store.object_keys()


def test_a_pushes_and_b_pulls_a_workspace_that_reruns_nothing(team):
    dvc(["dvc", "push", "-r", REMOTE], team.a)
    stored = set(team.store.object_keys(PREFIX))
    pushed = cached_outputs(team.a)
    assert "models/gru.keras" in pushed and "data/interim/jena.parquet" in pushed
    assert {object_key(digest) for digest in pushed.values()} <= stored

    # B: a fresh clone, the endpoint and keys from the environment only.
    b = clone(team.origin, team.root / "b-pull")
    assert not (b / "models" / "gru.keras").exists()
    aws = key_environment(team.store)
    assert "files fetched" in dvc(["dvc", "pull"], b, aws).stdout
    paths = list(lock_outputs(lock(team.a)))
    assert files_under(b, paths) == files_under(team.a, paths)
    assert UP_TO_DATE in dvc(["dvc", "status"], b, aws).stdout
    assert stages_run(dvc(["dvc", "repro"], b, aws).stdout) == []
    assert dvc(["git", "status", "--porcelain"], b).stdout == ""


def test_the_run_cache_lets_b_restore_a_run_of_a_instead_of_running_it(team, tmp_path):
    """A packs another model, commits nothing and pushes the run with its run-cache; B, setting
    the same param in a fresh clone, gets that stage restored and every other one pulled, none
    run."""
    a = copy_project(team.a, tmp_path / "a")
    edit_params(a, **{"package.model": PACKED_MODEL})
    assert stages_run(dvc(["dvc", "repro"], a).stdout) == ["package"]
    # From the workspace that holds the run: DVC 3.67's `push --run-cache` sends the run records
    # but only the outputs of what it pushes (here the workspace), not those the records name.
    dvc(["dvc", "push", "--run-cache", "-r", REMOTE], a)
    assert team.store.object_keys(f"{PREFIX}/runs/")

    b = clone(team.origin, team.root / "b-run-cache")
    aws = key_environment(team.store)
    assert not (b / "models" / "gru.keras").exists()
    edit_params(b, **{"package.model": PACKED_MODEL})
    repro = dvc(["dvc", "repro", "--pull"], b, aws)
    assert stages_run(repro.stdout) == []
    assert re.findall(r"Stage '([^']+)' is cached - skipping run", repro.stdout) == ["package"]
    packed = json.loads((b / "data" / "forecaster" / "forecaster.json").read_text())
    assert packed["model"] == PACKED_MODEL  # A's run, not HEAD's (the leaderboard's best, ridge)
    assert lock(b)["stages"] == lock(a)["stages"]
    assert lock(b)["stages"]["package"] != lock(team.a)["stages"]["package"]
    for path, digest in lock_outputs(lock(b)).items():
        if not digest.endswith(".dir"):
            assert md5(b / path) == digest, path
    assert UP_TO_DATE in dvc(["dvc", "status"], b, aws).stdout


def test_an_experiment_pushed_by_a_is_pulled_shown_and_applied_by_b(team, experiment):
    dvc(["dvc", "exp", "push", "origin", EXPERIMENT], team.a)

    b = clone(team.origin, team.root / "b-exp")
    aws = key_environment(team.store)
    assert shown_experiments(b) == {}
    dvc(["dvc", "exp", "pull", "origin", EXPERIMENT], b, aws)
    shown = shown_experiments(b)
    assert list(shown) == [EXPERIMENT]
    assert shown[EXPERIMENT]["rev"] == experiment.rev
    metrics = ensemble_scores(shown[EXPERIMENT])
    assert metrics == experiment.ensemble_scores
    head_metrics = json.loads((b / "metrics" / "scores" / "ensemble.json").read_text())
    assert metrics != head_metrics  # the experiment changed the ensemble

    dvc(["dvc", "exp", "apply", EXPERIMENT], b, aws)
    dvc(["dvc", "checkout"], b, aws)
    assert json.loads((b / "metrics" / "scores" / "ensemble.json").read_text()) == metrics
    assert lock(b)["stages"] == lock(team.a, experiment.rev)["stages"]
    for path, digest in lock_outputs(lock(b)).items():
        if not digest.endswith(".dir"):
            assert md5(b / path) == digest, path
    assert UP_TO_DATE in dvc(["dvc", "status"], b, aws).stdout


def test_wrong_keys_are_refused_and_lose_nothing(team, tmp_path):
    dvc(["dvc", "push", "-r", REMOTE], team.a)
    stored = set(team.store.object_keys())

    # A member whose .dvc/config.local holds a wrong secret pushes.
    a = copy_project(team.a, tmp_path / "a")
    dvc(["dvc", "remote", "modify", "--local", REMOTE, "secret_access_key", "not-it"], a)
    refused = dvc(["dvc", "push", "-r", REMOTE], a, check=False)
    assert refused.returncode != 0
    # DVC 3.67 names neither remote nor bucket here: "unexpected error - Forbidden: ... (403)".
    assert "Forbidden: An error occurred (403)" in output(refused)
    assert UP_TO_DATE in dvc(["dvc", "status"], a).stdout  # A's workspace and cache as they were

    # A member with a wrong secret in the environment pulls into a fresh clone.
    b = clone(team.origin, tmp_path / "b")
    aws = key_environment(team.store, secret_key="not-the-secret")
    refused = dvc(["dvc", "pull"], b, aws, check=False)
    assert refused.returncode != 0
    where = f"{team.store.bucket}/{PREFIX}/files/md5"  # the bucket and prefix, named
    assert f"failed to connect to s3 ({where}) - Forbidden: An error occurred (403)" in (
        refused.stderr
    )
    assert not (b / "models" / "gru.keras").exists()
    assert set(team.store.object_keys()) == stored


def test_a_bucket_that_does_not_exist_is_a_clear_error(team, tmp_path):
    from botocore.exceptions import ClientError

    a = copy_project(team.a, tmp_path / "a")
    missing = "no-such-bucket"
    dvc(["dvc", "remote", "modify", "--local", REMOTE, "url", remote_url(team.store, missing)], a)
    failed = dvc(["dvc", "push", "-r", REMOTE], a, check=False)
    assert failed.returncode != 0
    assert "The specified bucket does not exist" in output(failed)
    with pytest.raises(ClientError) as absent:  # and the push did not create it
        team.store.client().head_bucket(Bucket=missing)
    assert absent.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_push_cut_off_by_the_store_going_down_completes_once_it_is_back(
    project_copy, private_s3_store, tmp_path
):
    store, a = private_s3_store, project_copy
    share(a, store)
    every = {object_key(digest) for digest in cached_outputs(a).values()}
    dvc(["dvc", "push", "-r", REMOTE, "parse", "normalize"], a)  # part of the data is there
    part = set(store.object_keys(f"{PREFIX}/files/"))
    assert part and part < every

    store.kill()
    down = dvc(["dvc", "push", "-r", REMOTE], a, check=False)
    assert down.returncode != 0
    where = f"{store.endpoint}/{store.bucket}/{PREFIX}/"
    assert f'Could not connect to the endpoint URL: "{where}' in output(down)

    store.start()  # the same ports and data directory
    assert set(store.object_keys(f"{PREFIX}/files/")) == part
    dvc(["dvc", "push", "-r", REMOTE], a)
    assert set(store.object_keys(f"{PREFIX}/files/")) >= every

    b = clone(a, tmp_path / "b")
    aws = key_environment(store)
    dvc(["dvc", "remote", "modify", "--local", REMOTE, "verify", "true"], b)  # rehash each file
    dvc(["dvc", "pull"], b, aws)
    paths = list(lock_outputs(lock(a)))
    assert files_under(b, paths) == files_under(a, paths)
    assert UP_TO_DATE in dvc(["dvc", "status"], b, aws).stdout


def test_an_object_missing_from_the_store_fails_the_pull_naming_its_output(
    project_copy, private_s3_store, tmp_path
):
    store, a = private_s3_store, project_copy
    share(a, store)
    dvc(["dvc", "push", "-r", REMOTE], a)
    lost = "models/gru.keras"
    digest = lock_outputs(lock(a))[lost]
    store.client().delete_object(Bucket=store.bucket, Key=object_key(digest))

    b = clone(a, tmp_path / "b")
    failed = dvc(["dvc", "pull"], b, key_environment(store), check=False)
    assert failed.returncode != 0
    assert lost in output(failed)
    # No file, whole or partial, where the lost output goes, and none in the cache for it.
    assert sorted(path.name for path in (b / "models").iterdir()) == sorted(
        path.name for path in (a / "models").iterdir() if path.name != "gru.keras"
    )
    assert not (b / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]).exists()
    # Every other output arrived whole.
    paths = [path for path in lock_outputs(lock(a)) if path != lost]
    assert files_under(b, paths) == files_under(a, paths)


def test_b_compares_a_branch_of_a_without_training_and_names_what_the_remote_lacks(team, tmp_path):
    """A commits a change on a branch and pushes it (git and DVC); B, in a fresh clone with no
    DVC file of its own, runs `dvc metrics diff` and the compare command between the two: the
    forecasts come from the S3 remote. A branch whose outputs A never pushed is named."""
    a = copy_project(team.a, tmp_path / "a")
    main = dvc(["git", "branch", "--show-current"], a).stdout.strip()
    dvc(["dvc", "push", "-r", REMOTE], a)  # main's outputs (the first test may not have run)
    dvc(["git", "checkout", "-q", "-b", "a-change"], a)
    edit_params(a, **EXPERIMENT_PARAMS)
    assert "ensemble" in stages_run(dvc(["dvc", "repro"], a).stdout)
    commit_all(a, "Ensemble of the best model alone")
    dvc(["dvc", "push", "-r", REMOTE], a)
    dvc(["git", "push", "-q", "origin", "a-change"], a)
    dvc(["git", "checkout", "-q", "-b", "a-unpushed"], a)
    edit_params(a, **{"ensemble.top_k": 3})  # the tiny project's main has 2, a-change 1
    dvc(["dvc", "repro"], a)
    commit_all(a, "Ensemble of three, not pushed to the DVC remote")
    dvc(["git", "push", "-q", "origin", "a-unpushed"], a)

    b = clone(team.origin, tmp_path / "b")
    aws = key_environment(team.store)
    diff = dvc(["dvc", "metrics", "diff", main, "origin/a-change"], b, aws).stdout
    assert "metrics/scores/ensemble.json" in diff
    compare = ["python", "-m", "jena_forecast.compare", main, "origin/a-change"]
    compared = dvc([*compare, "--model", "ensemble", "--model", "gru"], b, aws).stdout
    table = {line.split()[0]: line.split() for line in compared.splitlines()[2:4]}
    assert set(table) == {"ensemble", "gru"}
    assert float(table["gru"][3]) == 0.0  # gru is the same on both branches
    assert float(table["ensemble"][3]) != 0.0
    # Nothing trained, nothing checked out: the forecasts were read, not pulled into the workspace.
    assert not (b / "models" / "gru.keras").exists()
    assert not (b / "data" / "forecasts" / "gru.npz").exists()

    missing = dvc(
        ["python", "-m", "jena_forecast.compare", main, "origin/a-unpushed", "--model", "ensemble"],
        b,
        aws,
        check=False,
    )
    assert missing.returncode == 2
    assert "origin/a-unpushed:data/ensemble_forecasts.npz: neither in the DVC cache nor on" in (
        missing.stderr
    )


def test_b_gets_the_forecaster_artifact_from_the_bare_repository_through_s3(team, tmp_path):
    """`dvc artifacts get` of `forecaster` from A's bare origin: the files come from the S3 remote,
    byte for byte A's, and forecast what A's forecaster forecasts."""
    from test_forecaster_e2e import forecast, kept_forecasts_path, write_export

    from jena_forecast.evaluation.forecasts import load_forecasts

    dvc(["dvc", "push", "-r", REMOTE], team.a)
    # A registered version, as `gto register forecaster` tags it, pushed with the commit.
    dvc(["git", "tag", "-a", "forecaster@v1.0.0", "-m", "forecaster v1.0.0"], team.a)
    dvc(["git", "push", "-q", "origin", "forecaster@v1.0.0"], team.a)
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    aws = key_environment(team.store)
    dvc(
        ["dvc", "artifacts", "get", str(team.origin), "forecaster", "-o", "forecaster"],
        consumer,
        aws,
    )
    packed = team.a / "data" / "forecaster"
    assert files_under(consumer, ["forecaster"]) == {
        f"forecaster/{name}": content
        for name, content in ((path.name, path.read_bytes()) for path in sorted(packed.iterdir()))
    }
    model = json.loads((packed / "forecaster.json").read_text())["model"]
    last = int(load_forecasts(kept_forecasts_path(team.a, model)).anchors["test"][-1])
    export = write_export(team.a, last, tmp_path / "latest.csv")
    theirs = forecast(
        consumer, tmp_path / "theirs.json", "--forecaster", "forecaster", "--csv", str(export)
    )
    ours = forecast(team.a, tmp_path / "ours.json", "--csv", str(export))
    assert {k: v for k, v in theirs.items() if k != "source"} == {
        k: v for k, v in ours.items() if k != "source"
    }
