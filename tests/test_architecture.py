"""The package's layering rules (docs/architecture.md), read from the source with ``ast``.

The core never reaches the edge (files, flags, training), the baselines never import the engine
or the benchmark, command lines live in entry modules only, and no module imports another
module's private name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "zssr"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))

#: Modules whose only job is to be a command line (``python -m ...``): argparse lives here.
ENTRY_MODULES = {"cli", "__main__", "pretrain", "baselines.train", "baselines.ship",
                 "baselines.score", "train.cli", "train.__main__", "benchmark.cli",
                 "benchmark.__main__"}


def dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module inside zssr or third-party name, imported names) for each import."""
    tree = ast.parse(path.read_text())
    package = dotted(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(["zssr", *base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((module, [a.name for a in node.names]))
    return found


def zssr_imports(path: Path) -> set[str]:
    out = set()
    for module, names in imports(path):
        if module == "zssr" or module.startswith("zssr."):
            out.add(module)
            # ``from . import x`` / ``from zssr import x`` may name submodules
            out.update(f"{module}.{n}" for n in names)
    return out


def test_the_package_is_found():
    assert len(MODULES) > 20
    assert (PACKAGE / "engine.py") in MODULES


@pytest.mark.parametrize("forbidden", ["zssr.io", "zssr.warm", "zssr.weights", "zssr.train",
                                       "zssr.cli", "zssr.benchmark"])
def test_the_engine_does_no_io_and_knows_no_edge(forbidden):
    used = zssr_imports(PACKAGE / "engine.py")
    assert not {m for m in used if m == forbidden or m.startswith(forbidden + ".")}


def test_baselines_import_neither_engine_nor_benchmark():
    for path in (PACKAGE / "baselines").glob("*.py"):
        used = zssr_imports(path)
        bad = {m for m in used if m.split(".")[:2] in (["zssr", "engine"], ["zssr", "benchmark"])
               or m in ("zssr.engine", "zssr.benchmark", "zssr.api")}
        assert not bad, f"{path.name} imports {bad}"


def test_argparse_only_in_entry_modules():
    offenders = [dotted(p) for p in MODULES
                 if any(m == "argparse" for m, _ in imports(p)) and dotted(p) not in ENTRY_MODULES]
    assert not offenders, f"argparse in library modules: {offenders}"


def test_no_module_imports_another_modules_private_name():
    offenders = []
    for path in MODULES:
        for module, names in imports(path):
            if not module.startswith("zssr"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                offenders.append(f"{dotted(path)}: from {module} import {', '.join(private)}")
    assert not offenders, offenders


def test_the_core_never_names_cli_flags_in_its_messages():
    """Library code words errors in API terms; the CLI translates fields to flags."""
    core = ["engine", "api", "plan", "ensemble", "pool", "network", "sampler", "resize",
            "kernels", "io", "checks", "tiling", "schedule", "weights", "config", "results",
            "baselines.__init__", "train.config", "train.runner", "train.checkpoint"]
    offenders = []
    for name in core:
        path = PACKAGE / (name.replace(".", "/") + ".py")
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for s in ast.walk(node.exc):
                    if isinstance(s, ast.Constant) and isinstance(s.value, str) and " --" in (
                            " " + s.value):
                        offenders.append(f"{name}: {s.value!r}")
    assert not offenders, offenders
