"""Every benchmark script imports against the current package (a renamed class once broke one unnoticed:
``model_overhead.py`` imported ``Oracle`` from ``engine.oracle`` after it became ``GradientOracle``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[2] / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.name for p in BENCHMARKS])
def test_the_benchmark_script_imports(path, monkeypatch):
    monkeypatch.syspath_prepend(str(path.parent))  # sys.path is restored afterwards
    monkeypatch.setattr(os, "environ", os.environ.copy())  # sweep.py sets OMP_NUM_THREADS at import
    monkeypatch.setattr(sys, "argv", [str(path), "--help"])
    spec = importlib.util.spec_from_file_location(f"_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # module level only: main() runs under __main__, not here
    assert callable(getattr(module, "main", None)), f"{path.name} has no main()"
