"""The worked example (examples/plugin/, docs/extending.md): ``tailtamer check`` passes on both of its
components loaded with ``--plugin MODULE``, and its pyproject's entry point makes an installed copy found
without ``--plugin`` (an installed distribution faked by a .dist-info folder built from that pyproject)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tailtamer.config import load_toml
from tailtamer.testing.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugin"


def cli(*argv: str, path: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(*argv, cwd=cwd, path=path, timeout=300)


@pytest.mark.parametrize(
    "name, kind, skipped", [("gt-clip", "algorithm", {"distributed"}), ("contaminated", "noise", set())]
)
def test_check_passes_on_the_example_components(tmp_path, name, kind, skipped):
    proc = cli("check", name, "--plugin", "tailtamer_example", path=[EXAMPLE], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{kind} '{name}':"
    status = {line.split()[1]: line.split()[0] for line in lines[1:-1]}
    assert {p for p, s in status.items() if s == "SKIP"} == skipped
    assert set(status.values()) <= {"PASS", "SKIP"} and len(status) >= 4
    assert cli("check", name, path=[EXAMPLE], cwd=tmp_path).returncode == 2  # not loaded without --plugin


def test_the_example_pyproject_declares_the_entry_point(tmp_path):
    project = load_toml(EXAMPLE / "pyproject.toml")["project"]
    points = project["entry-points"]["tailtamer.plugins"]
    info = tmp_path / "site" / "tailtamer_example_plugin-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[tailtamer.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))
    proc = cli("list", "algorithm", path=[tmp_path / "site", EXAMPLE], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "gt-clip" in proc.stdout


@pytest.mark.multiprocess
def test_launch_workers_load_the_plugin_and_equal_the_simulator(tmp_path):
    """``--distributed``: 2 gloo processes (spawned, so they load the parent's plugins themselves) run gt-clip."""
    proc = cli("check", "gt-clip", "--distributed", "--plugin", "tailtamer_example", path=[EXAMPLE], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert any(line.split()[:2] == ["PASS", "distributed"] for line in proc.stdout.splitlines()), proc.stdout
