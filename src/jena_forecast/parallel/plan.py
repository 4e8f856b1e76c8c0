"""Which stages a parallel run runs, and in what order, from DVC's own reading of dvc.yaml.

DVC's graph (``Repo.index.graph``) has an edge from each stage to every stage whose outputs it
depends on; ``Repo.status()`` names the stages whose deps, params, command or outputs changed. A run
takes those and every stage downstream of them (their inputs are about to change), within the
stages the targets need, and runs each once its upstream stages in the run have finished::

    stale: classical@ridge, classical@hist_gbr
    run:   classical@ridge, classical@hist_gbr -> ensemble -> ensemble_seeds -> leaderboard
           -> report, package

A downstream stage whose inputs come out unchanged is skipped by its own `dvc repro -s`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import chdir
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Plan:
    """The stages to run (``order``: upstream before downstream, as dvc.yaml lists them where the
    graph leaves a choice), each one's direct upstream stages, and what ``dvc status`` found."""

    order: tuple[str, ...]
    upstream: Mapping[str, tuple[str, ...]]  # every stage in scope -> the stages it reads from
    stale: tuple[str, ...]  # reported changed by dvc status; the rest of ``order`` is downstream
    scope: tuple[str, ...]  # the targets and all they depend on: what the final check looks at
    outs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # each stage's outputs

    def waits_for(self, stage: str) -> tuple[str, ...]:
        """The stages of this run that ``stage`` reads from."""
        return tuple(name for name in self.upstream[stage] if name in self.order)

    def downstream(self, stage: str) -> list[str]:
        """Every stage of this run that reads, directly or not, what ``stage`` writes."""
        below = downstream_of(self.upstream, [stage])
        return [name for name in self.order if name in below]


def downstream_of(upstream: Mapping[str, Sequence[str]], stages: Iterable[str]) -> set[str]:
    """Every stage that depends, directly or not, on one of ``stages`` (those excluded)."""
    readers: dict[str, list[str]] = {}
    for name, inputs in upstream.items():
        for source in inputs:
            readers.setdefault(source, []).append(name)
    found: set[str] = set()
    todo = list(stages)
    while todo:
        for reader in readers.get(todo.pop(), []):
            if reader not in found:
                found.add(reader)
                todo.append(reader)
    return found


def upstream_of(upstream: Mapping[str, Sequence[str]], stages: Iterable[str]) -> set[str]:
    """``stages`` and every stage they depend on, directly or not."""
    found: set[str] = set()
    todo = list(stages)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(upstream.get(name, ()))
    return found


def topological(upstream: Mapping[str, Sequence[str]], stages: Iterable[str]) -> list[str]:
    """``stages`` ordered upstream first; ties keep the order of ``upstream`` (dvc.yaml's)."""
    wanted = set(stages)
    position = {name: index for index, name in enumerate(upstream)}
    placed: list[str] = []
    done: set[str] = set()
    remaining = sorted(wanted, key=position.__getitem__)
    while remaining:
        ready = [n for n in remaining if all(u in done or u not in wanted for u in upstream[n])]
        if not ready:
            raise ValueError(f"the pipeline has a cycle among: {', '.join(remaining)}")
        placed.extend(ready)
        done.update(ready)
        remaining = [name for name in remaining if name not in done]
    return placed


def longest_chain(
    upstream: Mapping[str, Sequence[str]], seconds: Mapping[str, float]
) -> tuple[float, list[str]]:
    """The chain of dependent stages whose ``seconds`` add up to the most: no run on any number of
    workers can take less. Stages without a time count 0.

    >>> longest_chain({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]},
    ...               {"a": 1, "b": 5, "c": 2, "d": 1})
    (7.0, ['a', 'b', 'd'])
    """
    best: dict[str, tuple[float, list[str]]] = {}
    for name in topological(upstream, upstream):
        before = max(
            (best[source] for source in upstream[name]),
            key=lambda chain: chain[0],
            default=(0.0, []),
        )
        best[name] = (before[0] + float(seconds.get(name, 0.0)), [*before[1], name])
    return max(best.values(), key=lambda chain: chain[0], default=(0.0, []))


def remaining_chain(
    upstream: Mapping[str, Sequence[str]], stages: Sequence[str], seconds: Mapping[str, float]
) -> dict[str, float]:
    """For each of ``stages``, the longest chain of ``seconds`` from it down to the end of the run
    (itself included; an unknown time counts 1 s): which ready stage to start first."""
    readers: dict[str, list[str]] = {name: [] for name in stages}
    for name in stages:
        for source in upstream[name]:
            if source in readers:
                readers[source].append(name)
    chain: dict[str, float] = {}
    for name in reversed(topological(upstream, stages)):
        after = max((chain[reader] for reader in readers[name]), default=0.0)
        chain[name] = float(seconds.get(name, 1.0)) + after
    return chain


def read_pipeline(root: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Every pipeline stage of the project at ``root`` (dvc.yaml's order) with the stages it
    depends on, and each one's outputs (paths relative to ``root``), as DVC's graph has them."""
    from dvc.repo import Repo  # deferred: DVC takes a second to import, the helpers above none
    from dvc.stage import PipelineStage

    with chdir(root), Repo(".") as repo:  # stage names (addressing) are relative to the cwd
        graph = repo.index.graph
        stages = [stage for stage in repo.index.stages if isinstance(stage, PipelineStage)]
        upstream = {
            stage.addressing: tuple(
                source.addressing
                for source in graph.successors(stage)
                if isinstance(source, PipelineStage)
            )
            for stage in stages
        }
        outs = {
            stage.addressing: tuple(str(out.def_path) for out in stage.outs) for stage in stages
        }
    return upstream, outs


def make_plan(root: Path, targets: Sequence[str] = ()) -> Plan:
    """What a run of ``targets`` (stage names or foreach groups; none: every stage) has to run in
    the project at ``root``: the stages `dvc status` reports changed and all downstream of them."""
    from dvc.repo import Repo  # deferred: see read_pipeline
    from dvc.stage import PipelineStage

    upstream, outs = read_pipeline(root)
    with chdir(root), Repo(".") as repo:  # stage names (addressing) are relative to the cwd
        chosen = [
            stage.addressing
            for target in targets
            for stage in repo.stage.collect(target)
            if isinstance(stage, PipelineStage)
        ]
        changed = set(repo.status())
    scope = upstream_of(upstream, chosen or upstream)
    stale = [name for name in upstream if name in scope and name in changed]
    planned = (set(stale) | downstream_of(upstream, stale)) & scope
    ordered_scope = [name for name in upstream if name in scope]
    return Plan(
        order=tuple(topological(upstream, planned)),
        upstream=upstream,
        stale=tuple(stale),
        scope=tuple(ordered_scope),
        outs=outs,
    )
