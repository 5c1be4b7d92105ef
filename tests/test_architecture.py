"""The layering of docs/architecture.md, checked on the source: who may import whom, and no import cycle.

Imports are read with ``ast`` from every module of ``src/tailtamer`` (module-level statements, the ones that run at
import time; imports inside functions are deliberate lazy edges and are listed separately). A cycle is a strongly
connected component of more than one module in the module-level import graph.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "tailtamer"

#: layer → layers it must never import (module level or lazily). A layer is the first folder under tailtamer/.
FORBIDDEN = {
    "operators": {"engine", "cli", "experiments", "algorithms", "distributed", "comm", "problems", "api"},
    "topology": {"engine", "cli", "experiments", "algorithms", "distributed", "problems", "api"},
    "noise": {"engine", "cli", "experiments", "algorithms", "distributed", "topology", "problems", "api"},
    "problems": {"engine", "cli", "experiments", "algorithms", "distributed", "api"},
    "comm": {"engine", "cli", "experiments", "algorithms", "distributed", "api"},
    "algorithms": {"engine", "cli", "experiments", "distributed", "api"},
    "engine": {"cli", "experiments", "distributed"},
    "distributed": {"cli", "experiments"},
    "experiments": {"cli", "contract"},
    "contract": {"cli"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / PKG).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(modules: dict[str, Path], lazy: bool) -> dict[str, set[str]]:
    """module → the tailtamer modules it imports (at module level, or anywhere when ``lazy``)."""
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        tree = ast.parse(path.read_text())
        nodes = ast.walk(tree) if lazy else _top_level(tree.body)
        found = set()
        for node in nodes:
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, path.name == "__init__.py", node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t.startswith(PKG) and t != mod:
                    found.add(t)
        graph[mod] = found
    return graph


def _top_level(body):
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            yield from _top_level(node.body)
            for h in getattr(node, "handlers", []):
                yield from _top_level(h.body)
            yield from _top_level(node.orelse)


def _layer(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_anywhere():
    graph = _imports(_modules(), lazy=False)
    assert len(graph) > 100 and any(graph.values())          # the reader found the package and its imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_only_import_downwards(layer):
    graph = _imports(_modules(), lazy=True)
    bad = sorted(f"{m} → {t}" for m, ts in graph.items() if _layer(m) == layer for t in ts
                 if _layer(t) in FORBIDDEN[layer])
    assert bad == [], f"{layer} imports a layer above it: {bad}"
