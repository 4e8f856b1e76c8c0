"""The parallel runner's plan on a small graph that can be checked by eye (no DVC, no Dask).

data -> a -> c -> report
data -> b -------^
data -> lone
"""

from __future__ import annotations

import os

import pytest

from jena_forecast.parallel.plan import (
    Plan,
    downstream_of,
    longest_chain,
    remaining_chain,
    topological,
    upstream_of,
)
from jena_forecast.parallel.runner import log_tail
from jena_forecast.parallel.worker import outcome_of

UPSTREAM = {
    "data": (),
    "a": ("data",),
    "b": ("data",),
    "lone": ("data",),
    "c": ("a",),
    "report": ("c", "b"),
}


def test_downstream_and_upstream_follow_every_path():
    assert downstream_of(UPSTREAM, ["a"]) == {"c", "report"}
    assert downstream_of(UPSTREAM, ["data"]) == {"a", "b", "lone", "c", "report"}
    assert downstream_of(UPSTREAM, ["report"]) == set()
    assert upstream_of(UPSTREAM, ["report"]) == {"report", "c", "b", "a", "data"}
    assert upstream_of(UPSTREAM, ["lone"]) == {"lone", "data"}


def test_topological_puts_upstream_first_and_keeps_the_pipeline_order_otherwise():
    assert topological(UPSTREAM, ["report", "b", "c", "a"]) == ["a", "b", "c", "report"]
    assert topological(UPSTREAM, UPSTREAM) == ["data", "a", "b", "lone", "c", "report"]
    with pytest.raises(ValueError, match="cycle"):
        topological({"x": ("y",), "y": ("x",)}, ["x", "y"])


def test_the_longest_chain_adds_the_slowest_path_through_the_graph():
    seconds = {"data": 1, "a": 5, "b": 7, "lone": 20, "c": 4, "report": 1}
    # data-a-c-report: 11 s; data-b-report: 9 s; data-lone: 21 s
    assert longest_chain(UPSTREAM, seconds) == (21.0, ["data", "lone"])
    seconds["lone"] = 2
    assert longest_chain(UPSTREAM, seconds) == (11.0, ["data", "a", "c", "report"])


def test_ready_stages_are_ranked_by_what_remains_below_them():
    chain = remaining_chain(UPSTREAM, ["a", "b", "c", "report"], {"a": 5, "b": 7, "c": 4})
    # report has no time yet: 1 s
    assert chain == {"report": 1.0, "c": 5.0, "a": 10.0, "b": 8.0}


def test_a_plan_waits_only_for_stages_it_runs_and_stops_their_descendants():
    plan = Plan(
        order=("a", "b", "c", "report"),
        upstream=UPSTREAM,
        stale=("a", "b"),
        scope=tuple(UPSTREAM),
    )
    assert plan.waits_for("a") == ()  # data is up to date: not waited for
    assert plan.waits_for("report") == ("c", "b")
    assert plan.downstream("a") == ["c", "report"]
    assert plan.downstream("b") == ["report"]


@pytest.mark.parametrize(
    ("printed", "outcome"),
    [
        ("Running stage 'c':\n> python -m stages.c\n", "ran"),
        ("Stage 'c' is cached - skipping run, checking out outputs\n", "restored"),
        ("Stage 'c' didn't change, skipping\n", "unchanged"),
        ("Running stage 'c@x':\n", "unchanged"),  # another stage's line
    ],
)
def test_what_dvc_did_is_read_from_what_it_printed(printed, outcome):
    assert outcome_of("c", printed) == outcome


def test_a_failed_stage_is_reported_with_the_end_of_its_log():
    log = "".join(f"line {n}\n" for n in range(1, 51))
    tail = log_tail(log, lines=3)
    assert tail == "    | line 48\n    | line 49\n    | line 50"


def test_a_stage_keeps_the_pools_that_split_sums_unless_told():
    """Their sizes order sums: 1 intra-op thread against 2 moved conv1d's validation MAE by 0.29
    degC on the embedded record, and BLAS's and OpenMP's moved the bits of ridge and hist_gbr, so
    by default a stage writes what `dvc repro` writes."""
    from jena_forecast.parallel.worker import SUMMING_POOLS, stage_environment

    shared = stage_environment(3)
    assert shared["TF_NUM_INTEROP_THREADS"] == "3"
    for pool in SUMMING_POOLS:  # left as the caller had them
        assert shared.get(pool) == os.environ.get(pool), pool
    # A Dask worker process starts with OpenMP and BLAS at 1 thread: the runner's values win.
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        restored = stage_environment(3, pools={"OMP_NUM_THREADS": None, "MKL_NUM_THREADS": "4"})
    finally:
        del os.environ["OMP_NUM_THREADS"]
    assert "OMP_NUM_THREADS" not in restored and restored["MKL_NUM_THREADS"] == "4"
    every = stage_environment(3, all_pools=True)
    assert [every[pool] for pool in SUMMING_POOLS] == ["3"] * len(SUMMING_POOLS)
    # idle OpenMP threads sleep instead of spinning on a core another stage needs
    assert shared["OMP_WAIT_POLICY"] == os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
