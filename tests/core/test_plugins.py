"""Plugins (tailtamer/plugins.py): components registered from outside the package, loaded from ``--plugin PATH.py``,
``--plugin MODULE``, a config's ``[run] plugins`` (relative to the config's folder) and installed entry points
(group ``tailtamer.plugins``; a fake distribution on the path), not for ``--help``.

Bad input is one line with no traceback: a plugin that fails to import is named with its error, a name already
registered is refused (a plugin never shadows a built-in), and a component that breaks its contract at run time
is named with the property it broke. The command line runs in a subprocess, so the test process's registries
stay as they are.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import torch

from tailtamer import plugins
from tailtamer.algorithms import ALGORITHMS
from tailtamer.algorithms.decentralized.gt_dsgd import GTDSGD
from tailtamer.api import build
from tailtamer.errors import ConfigError, ContractError
from tailtamer.noise import NOISES, NoiseModel
from tailtamer.registry import Registry
from tailtamer.testing.cli import run_cli

SRC = Path(__file__).resolve().parents[2] / "src"

NOISE_PLUGIN = '''
import torch
from tailtamer import rng
from tailtamer.noise import NOISES, NoiseModel


@NOISES.register("{name}")
class Uniform(NoiseModel):
    """Uniform noise on [-scale, scale] (a plugin's model)."""

    name = "{name}"

    def __init__(self, scale: float = 0.1) -> None:
        self.scale = scale

    def sample(self, seed, nodes, step, d, call=0, dtype=torch.float64):
        return (self.scale * (2 * rng.uniform(seed, "noise", nodes, step, d, call) - 1)).to(dtype)
'''


def cli(*argv: str, cwd: Path, path: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    return run_cli(*argv, cwd=cwd, path=path, timeout=300)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    return proc.stderr.strip()


def config(tmp_path: Path, noise: str, plugin: str | None = None) -> Path:
    run = f'plugins = ["{plugin}"]\n' if plugin else ""
    path = tmp_path / "cfg" / "c.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        textwrap.dedent(f"""\
        [problem]
        name = "quadratic"
        dim = 3
        [algorithm]
        name = "dsgd"
        lr = 0.05
        [topology]
        name = "ring"
        n = 4
        [noise]
        name = "{noise}"
        [run]
        steps = 6
        eval_every = 3
        """)
        + run
    )
    return path


def test_a_file_plugin_from_the_command_line_and_from_a_config(tmp_path):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "plug.py").write_text(NOISE_PLUGIN.format(name="plug-uniform"))
    listed = cli("list", "noise", "--plugin", "cfg/plug.py", cwd=tmp_path)
    assert listed.returncode == 0 and "plug-uniform" in listed.stdout, listed.stderr
    assert "plug-uniform" not in cli("list", "noise", cwd=tmp_path).stdout
    # [run] plugins: relative to the config's folder, whatever the working directory
    cfg = config(tmp_path, "plug-uniform", plugin="plug.py")
    out = tmp_path / "out"
    ran = cli("run", str(cfg), "--out", str(out), "--no-plot", cwd=tmp_path / "cfg" / "..")
    assert ran.returncode == 0, ran.stderr
    assert (out / "summary.json").is_file() and "plug.py" in (out / "config.toml").read_text()
    resumed = cli("run", str(out / "config.toml"), "--out", str(out), "--resume", "--no-plot", cwd=SRC)
    assert resumed.returncode == 0, resumed.stderr


def test_a_module_plugin_and_an_installed_entry_point_loaded_not_for_help(tmp_path):
    site = tmp_path / "site"
    (site / "fakeplug-0.1.dist-info").mkdir(parents=True)
    (site / "fakeplug-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 0.1\n")
    (site / "fakeplug-0.1.dist-info" / "entry_points.txt").write_text("[tailtamer.plugins]\nfake = fakeplug_mod\n")
    (site / "fakeplug_mod.py").write_text(NOISE_PLUGIN.format(name="ep-uniform"))
    (site / "modplug.py").write_text(NOISE_PLUGIN.format(name="mod-uniform"))
    listed = cli("list", "noise", "--plugin", "modplug", cwd=tmp_path, path=(site,))
    assert listed.returncode == 0, listed.stderr
    assert "ep-uniform" in listed.stdout and "mod-uniform" in listed.stdout
    ran = cli(
        "run",
        str(config(tmp_path, "ep-uniform")),
        "--out",
        str(tmp_path / "o"),
        "--no-plot",
        cwd=tmp_path,
        path=(site,),
    )
    assert ran.returncode == 0, ran.stderr
    (site / "fakeplug_mod.py").write_text("raise RuntimeError('not for --help')\n")
    assert cli("list", "--help", cwd=tmp_path, path=(site,)).returncode == 0
    line = one_line_error(cli("list", cwd=tmp_path, path=(site,)))
    assert "plugin 'fake'" in line and "RuntimeError: not for --help" in line


def test_a_plugin_that_fails_to_import_is_named_with_its_error(tmp_path):
    (tmp_path / "bad.py").write_text("import numpy\nimport no_such_module_xyz\n")
    line = one_line_error(cli("list", "--plugin", "bad.py", cwd=tmp_path))
    assert "plugin 'bad.py' failed to import: ModuleNotFoundError: No module named 'no_such_module_xyz'" in line
    assert "not found" in one_line_error(cli("list", "--plugin", "missing.py", cwd=tmp_path))
    assert "No module named" in one_line_error(cli("list", "--plugin", "no_such_plugin_mod", cwd=tmp_path))
    (tmp_path / "syntax.py").write_text("def f(:\n")
    assert "failed to import: SyntaxError" in one_line_error(cli("list", "--plugin", "syntax.py", cwd=tmp_path))


def test_a_name_already_registered_is_refused(tmp_path):
    (tmp_path / "shadow.py").write_text(NOISE_PLUGIN.format(name="gaussian"))
    line = one_line_error(cli("list", "--plugin", "shadow.py", cwd=tmp_path))
    assert "plugin 'shadow.py'" in line and "noise 'gaussian' is registered twice" in line
    reg = Registry("widget")
    reg.register("a")(lambda: 1)
    with pytest.raises(ConfigError, match="registered twice"):
        reg.register("a")(lambda: 2)
    assert reg.build("a") == 1


def test_plugins_loaded_are_passed_to_child_processes(tmp_path, monkeypatch):
    monkeypatch.delenv(plugins.ENV, raising=False)
    monkeypatch.setattr(plugins, "_loaded", {})
    (tmp_path / "harmless.py").write_text("VALUE = 7\n")
    [module] = plugins.load(["harmless.py"], base=tmp_path)
    assert module.VALUE == 7 and plugins.load(["harmless.py"], base=tmp_path) == [module]  # once
    assert os.environ[plugins.ENV].split(os.pathsep) == [str(tmp_path / "harmless.py")]


class WrongShape(NoiseModel):
    """Returns one row too few (a contract breach)."""

    name = "test-wrong-shape"

    def __init__(self) -> None:
        pass

    def sample(self, seed, nodes, step, d, call=0, dtype=torch.float64):
        return torch.zeros(len(nodes) - 1, d, dtype=dtype)


class WrongDtype(WrongShape):
    """Ignores the dtype asked for."""

    name = "test-wrong-dtype"

    def sample(self, seed, nodes, step, d, call=0, dtype=torch.float64):
        return torch.zeros(len(nodes), d, dtype=torch.float16)


@pytest.mark.parametrize("cls, prop", [(WrongShape, "shape"), (WrongDtype, "dtype")])
def test_a_noise_model_breaking_its_contract_is_named_with_the_property(monkeypatch, cls, prop):
    monkeypatch.setitem(NOISES._entries, cls.name, cls)
    cfg = {
        "problem": {"name": "quadratic", "dim": 3},
        "algorithm": {"name": "dsgd"},
        "topology": {"name": "ring", "n": 4},
        "noise": {"name": cls.name},
        "run": {"steps": 2},
    }
    with pytest.raises(ContractError, match=rf"noise '{cls.name}' broke its contract \({prop}\)"):
        build(cfg).run()


class DropsTracking(GTDSGD):
    """Forgets its tracking variable after the first step."""

    name = "test-drops-key"

    def step(self, s, grad, comm, t):
        return {"x": super().step(s, grad, comm, t)["x"]}


class CastsState(GTDSGD):
    """Returns its iterate in float32."""

    name = "test-casts"

    def step(self, s, grad, comm, t):
        out = super().step(s, grad, comm, t)
        return {**out, "x": out["x"].float()}


@pytest.mark.parametrize(
    "cls, words",
    [(DropsTracking, "dropped the state key 'g'"), (CastsState, "changed 'x' from torch.float64 to torch.float32")],
)
def test_an_algorithm_breaking_its_state_layout_is_named(monkeypatch, cls, words):
    monkeypatch.setitem(ALGORITHMS._entries, cls.name, cls)
    cfg = {
        "problem": {"name": "quadratic", "dim": 3},
        "algorithm": {"name": cls.name},
        "topology": {"name": "ring", "n": 4},
        "run": {"steps": 2},
    }
    with pytest.raises(
        ContractError,
        match=rf"algorithm '{cls.name}' broke its contract \(state layout\): "
        rf"step 0 {words}",
    ):
        build(cfg).run()
