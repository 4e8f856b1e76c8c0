"""The library code each DVC stage runs, found from its imports, against the deps of ``dvc.yaml``.

A stage's output can change when any module it imports changes, directly or through other
modules (deferred imports inside functions included). This tool follows ``jena_forecast`` imports
from each ``stages/<stage>.py`` and reports the modules that no dep of the stage covers (a dep
covers a file when it is that file or a folder above it)::

    python tools/stage_deps.py            # missing deps, one line each; exit 1 if any
    python tools/stage_deps.py --print    # every stage's library deps, as dvc.yaml lists them
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "jena_forecast"
SOURCE = Path("src")


def _module_file(module: str) -> Path | None:
    base = SOURCE.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if (ROOT / candidate).is_file():
            return candidate
    return None


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == PACKAGE}


def library_closure(stage_module: Path) -> set[Path]:
    """Every library file ``stage_module`` imports, directly or not, that holds code."""
    seen: set[Path] = set()
    todo = [stage_module]
    while todo:
        for module in _imported_modules(todo.pop()):
            parts = module.split(".")
            for end in range(1, len(parts) + 1):
                found = _module_file(".".join(parts[:end]))
                if found is not None and found not in seen:
                    seen.add(found)
                    todo.append(found)
    return {path for path in seen if not _inert(path)}


def _inert(path: Path) -> bool:
    """A module of only a docstring and constants (a package's ``__init__``): no output depends on it."""
    body = ast.parse((ROOT / path).read_text(encoding="utf-8")).body
    return all(
        isinstance(node, ast.Expr | ast.Assign) and isinstance(node.value, ast.Constant)
        for node in body
    )


def _covered(path: Path, deps: list[Path]) -> bool:
    return any(path == dep or dep in path.parents for dep in deps)


def stage_deps(dvc_yaml: Path = ROOT / "dvc.yaml") -> dict[str, tuple[list[Path], list[Path]]]:
    """Each stage's modules (from its ``cmd``, or each command of a list: ``python -m
    stages.<module>``) and its code deps (``${lib}`` filled in from ``vars``; data deps, which
    name other ``vars``, are left out)."""
    pipeline = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))
    lib = next(str(entry["lib"]) for entry in pipeline.get("vars", []) if "lib" in entry)
    result = {}
    for name, stage in pipeline["stages"].items():
        body = stage.get("do", stage)
        commands = body["cmd"] if isinstance(body["cmd"], list) else [body["cmd"]]
        modules = [command.split("python -m stages.", 1)[1].split()[0] for command in commands]
        deps = [str(dep).replace("${lib}", lib) for dep in body.get("deps", [])]
        result[name] = (
            [Path("stages") / f"{module}.py" for module in modules],
            [Path(d) for d in deps if "${" not in d],
        )
    return result


def missing_deps(dvc_yaml: Path = ROOT / "dvc.yaml") -> list[str]:
    """One line per library file (or stage module) a stage runs but does not depend on."""
    problems = []
    for name, (modules, deps) in stage_deps(dvc_yaml).items():
        # stages/__init__.py only puts this checkout's src/ first on the import path: no output
        # depends on it, so no stage lists it.
        needed = {*modules, *(path for module in modules for path in library_closure(module))}
        for path in sorted(needed):
            if not _covered(path, deps):
                problems.append(f"stage {name}: runs {path} but does not depend on it")
    return problems


def main() -> int:
    if "--print" in sys.argv[1:]:
        for name, (modules, _) in stage_deps().items():
            files = sorted({path for module in modules for path in library_closure(module)})
            print(f"{name}:\n" + "".join(f"  - {path}\n" for path in files))
        return 0
    problems = missing_deps()
    print("\n".join(problems) or "every stage depends on the library code it runs")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
