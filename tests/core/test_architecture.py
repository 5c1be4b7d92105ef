"""The layering of docs/architecture.md, checked on the source: who may import whom, and no import cycle.

The layers are ONE ordered list, the import-linter contract in ``pyproject.toml`` (``[tool.importlinter]``), which
``lint-imports`` checks in CI; this test reads the same list and checks it independently with ``ast``, counting
every import, the ones inside functions included: every module of ``src/tailtamer`` (root modules such as
``api.py`` too) belongs to a layer, imports only from layers below its own (or its own unit), and the whole
import graph, module-level and function-level imports alike, has no cycle. A function-level import of a package
module is allowed only where :data:`LAZY` gives the reason (never to dodge a cycle).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PKG = "tailtamer"

#: Function-level imports of tailtamer modules that are allowed, and why (module → reason).
LAZY: dict[str, str] = {
    "tailtamer.distributed": "``launch`` is loaded on first use so that ``python -m tailtamer.distributed.run`` "
    "(torchrun's entry point) does not find its own module imported by the package "
    "(runpy's RuntimeWarning); not a cycle: the package is above its run module",
}


def layers() -> list[list[str]]:
    """The contract's layers, top first, each a list of its units (``cli``, ``api``, ...)."""
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in cfg["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    return [[u.strip() for u in layer.replace(":", "|").split("|")] for layer in contract["layers"]]


def _rank() -> dict[str, int]:
    return {unit: i for i, layer in enumerate(layers()) for unit in layer}


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


def _in_functions(tree: ast.AST):
    """The import statements inside function bodies (the type-checking-only imports at module level excluded)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from (n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))


def _imports(modules: dict[str, Path], lazy: bool) -> dict[str, set[str]]:
    """module → the tailtamer modules it imports at import time, and also inside functions when ``lazy``."""
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        tree = ast.parse(path.read_text())
        nodes = list(_top_level(tree.body)) + (list(_in_functions(tree)) if lazy else [])
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
    """The unit of a module: the first name under tailtamer/ (a subpackage or a root module)."""
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


def test_every_module_is_in_a_layer():
    rank = _rank()
    units = {_layer(m) for m in _modules()} - {""}
    assert len(units) > 20
    assert sorted(units - set(rank)) == [], "modules of no layer: add them to [tool.importlinter] layers"
    assert sorted(set(rank) - units) == [], "layers naming no module"


def test_imports_point_downward_only_functions_included():
    rank, graph = _rank(), _imports(_modules(), lazy=True)
    siblings = {u: set(layer) for layer in layers() for u in layer}
    bad = []
    for mod, targets in graph.items():
        a = _layer(mod)
        for t in targets:
            b = _layer(t)
            if not a or not b or a == b:
                continue
            if rank[b] < rank[a] or (rank[b] == rank[a] and b in siblings[a]):
                bad.append(f"{mod} → {t}")
    assert bad == [], f"imports that point up or sideways: {sorted(bad)}"


def test_no_import_cycle_in_the_whole_graph():
    graph = _imports(_modules(), lazy=True)
    assert len(graph) > 100 and any(graph.values())  # the reader found the package and its imports
    assert _cycles(graph) == []


def test_no_package_import_inside_a_function():
    modules = _modules()
    eager, every = _imports(modules, lazy=False), _imports(modules, lazy=True)
    lazy = sorted(f"{m} → {t}" for m in modules for t in every[m] - eager[m] if m not in LAZY)
    assert lazy == [], f"imports inside functions (move them up, or give the reason in LAZY): {lazy}"


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_an_upward_import_is_caught(tmp_path, monkeypatch):
    """The checker itself: a module of a low layer importing a high one is reported."""
    fake = tmp_path / "src" / PKG
    (fake / "errors.py").parent.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "errors.py").write_text("def f():\n    from .cli import main\n")
    (fake / "cli.py").write_text("from .errors import f\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "src")
    graph = _imports(_modules(), lazy=True)
    assert graph[f"{PKG}.errors"] == {f"{PKG}.cli"} and _cycles(graph) == [[f"{PKG}.cli", f"{PKG}.errors"]]
