"""``tailtamer --help``, ``tailtamer COMMAND --help`` and ``tailtamer list`` answer without importing torch
(issue 24, item 7): the argument specs import only the standard library, the work modules are loaded only
when their command runs, and ``list`` reads the registry index, which must equal the live registries."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tailtamer.cli import list_cmd, registry_index
from tailtamer.cli.main import COMMANDS, main

#: Runs the CLI with the given argv and prints, after it, which heavy packages it imported.
PROBE = """
import json, sys
from tailtamer.cli.main import COMMANDS, main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "work": [c.work for c in COMMANDS.values() if c.work in sys.modules],
                  "heavy": sorted(m for m in ("torch", "numpy", "scipy", "matplotlib") if m in sys.modules)}))
"""

QUICK = [["--help"], ["list"], ["list", "algorithm"], ["list", "run"]] + [[name, "--help"] for name in COMMANDS]


@pytest.mark.parametrize("argv", QUICK, ids=[" ".join(a) for a in QUICK])
def test_help_and_list_do_not_import_torch(argv):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], check=False, capture_output=True, text=True, timeout=120
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    work = ["tailtamer.cli.list_cmd"] if argv[0] == "list" and "--help" not in argv else []
    assert result == {"code": 0, "work": work, "heavy": []}, done.stderr[-2000:]


def test_a_command_that_computes_still_loads_its_work_module():
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "topology", "ring", "--n", "8", "--json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stdout.splitlines()[0])["rho"] == pytest.approx(0.8047, abs=1e-4)
    assert json.loads(done.stdout.strip().splitlines()[-1])["work"] == ["tailtamer.cli.topology_cmd"]


def _imports(path: Path) -> set[str]:
    """The absolute top-level modules a file imports (relative imports as ``.name``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_argument_spec_imports_only_the_standard_library(name):
    spec = importlib.import_module(COMMANDS[name].arguments)
    allowed = set(sys.stdlib_module_names) | {f".{p.stem}" for p in Path(spec.__file__).parent.glob("*.py")}
    assert _imports(Path(spec.__file__)) <= allowed
    work = importlib.import_module(COMMANDS[name].work)
    assert callable(work.main) and not hasattr(work, "add_arguments")


def test_the_registry_index_is_the_live_registries():
    """Fails after a registry changes until ``python -m tailtamer.cli.registry_index`` rewrites the file."""
    assert json.loads(registry_index.INDEX.read_text(encoding="utf-8")) == registry_index.build_index()


def _live_table(reg) -> str:
    """One registry as ``tailtamer list`` printed it when it read the registries themselves."""
    rows = [
        f"### {list_cmd.plural(reg.kind)}",
        "",
        "| name | parameter | type | default | description |",
        "|---|---|---|---|---|",
    ]
    for name in reg.names():
        rows.append(f"| {name} | | | | {reg.summary(name).replace('|', chr(92) + '|')} |")
        rows += [
            f"| | {p.name} | {p.type_name().replace('|', chr(92) + '|')} | "
            f"{'required' if p.required else f'= {p.default!r}'.replace('|', chr(92) + '|')} | |"
            for p in reg.params(name).values()
        ]
    return "\n".join(rows)


@pytest.mark.parametrize("kind", [None, "algorithm", "timing", "run"])
def test_list_prints_the_live_registries(kind, capsys):
    regs = registry_index.registries()
    expected = [_live_table(reg) for key, reg in regs.items() if kind in (None, key)]
    expected += [list_cmd.run_settings()] if kind in (None, "run") else []
    assert main(["list", *([kind] if kind else [])]) == 0
    assert capsys.readouterr().out == "\n\n".join(expected) + "\n"


def test_list_falls_back_to_the_live_registries(monkeypatch):
    monkeypatch.setattr(list_cmd, "INDEX_FILE", "no-such-index.json")
    assert list_cmd.read_index() == list_cmd.read_index(live=True) == registry_index.build_index()


def test_list_of_an_unknown_kind_is_one_line(capsys):
    assert main(["list", "topologie"]) == 2
    assert capsys.readouterr().err == (
        "tailtamer list: error: unknown registry 'topologie' (did you mean 'topology'?)\n"
    )
