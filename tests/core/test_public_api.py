"""``import tailtamer``: the stable public API (issue 24, item 5; docs/public-api.md). Every exported name resolves,
importing the package imports no torch (each name loads on first use), and ``__version__`` is the
distribution's."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import tailtamer
from tailtamer import _version

ROOT = Path(__file__).resolve().parents[2]


def test_every_public_name_resolves_to_its_module_attribute():
    assert len(tailtamer.__all__) == len(set(tailtamer.__all__))
    for name in tailtamer.__all__:
        module = importlib.import_module(tailtamer._EXPORTS[name])
        assert getattr(tailtamer, name) is getattr(module, name), name
    assert set(tailtamer.__all__) <= set(dir(tailtamer))


def test_a_private_name_is_not_exported():
    with pytest.raises(AttributeError, match="no attribute 'DTYPES'"):
        tailtamer.DTYPES  # noqa: B018  (api.DTYPES is not public)


def test_the_registries_are_the_filled_ones():
    assert {"gt-nsgdm", "dsgd"} <= set(tailtamer.ALGORITHMS.names())
    assert {"ring", "complete"} <= set(tailtamer.TOPOLOGIES.names())
    assert {"alpha-stable", "none"} <= set(tailtamer.NOISES.names())
    assert isinstance(tailtamer.ALGORITHMS.build("dsgd", {"lr": 0.1}, steps=10), tailtamer.Algorithm)


def test_type_checkers_see_the_same_names_from_the_same_modules():
    """The ``TYPE_CHECKING`` imports of ``__init__.py`` and the lazy table name the same (name, module)."""
    tree = ast.parse(Path(tailtamer.__file__).read_text())
    guarded = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    seen = {alias.asname: "tailtamer." + node.module for node in guarded.body for alias in node.names}
    assert all(alias.name == alias.asname for node in guarded.body for alias in node.names)
    assert seen == tailtamer._EXPORTS


def test_import_tailtamer_does_not_import_torch():
    probe = "import json, sys, tailtamer; print(json.dumps(sorted(m for m in ('torch', 'numpy') if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout) == [], done.stderr


def test_version_is_the_distribution_metadata():
    assert tailtamer.__version__ == metadata.version("tailtamer")


def test_version_falls_back_to_pyproject(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    pyproject = (ROOT / "pyproject.toml").read_text()
    version = next(line.split('"')[1] for line in pyproject.splitlines() if line.startswith("version = "))
    assert _version.read_version() == version


def test_a_config_builds_and_runs_through_the_public_api():
    """Quadratic, 4 nodes: the final error of DSGD is below the start's (x0 = 0 is not the optimum)."""
    cfg = tailtamer.resolve(
        {
            "problem": {"name": "quadratic", "dim": 5},
            "algorithm": {"name": "dsgd", "lr": 0.05},
            "topology": {"name": "ring", "n": 4},
            "run": {"steps": 40, "eval_every": 20},
        }
    )
    history = tailtamer.History()
    tailtamer.make_loop(tailtamer.build_components(cfg, resolved=True), [history]).run()
    first, last = history.rows[0], history.rows[-1]
    metric = next(k for k in first if k not in ("step", "sim_time"))
    assert [first["step"], last["step"]] == [0, 40] and last[metric] < first[metric]
    assert last["sim_time"] == 40.0  # the ideal cluster: one second per gradient


def test_py_typed_and_license_ship():
    assert (Path(tailtamer.__file__).parent / "py.typed").is_file()
    assert "MIT License" in (ROOT / "LICENSE").read_text()
