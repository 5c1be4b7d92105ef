"""Nothing lost, nothing cryptic (issue 10): resume never loses work, one line for every bad input or OS fault.

Every bad input of the table ends with a non-zero exit code, exactly one line on stderr and no traceback.
Resumed runs stay bit-identical to uninterrupted ones whatever the checkpoint period.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import LAB, SMALL, one_line_error
from tailtamer.cli.main import main
from tailtamer.config import load_toml
from tailtamer.engine.oracle import first_bad_row
from tailtamer.errors import CheckpointError, ConfigError, StorageError
from tailtamer.experiments.runner import run_config
from tailtamer.rundir.atomic import atomic_save, atomic_write, atomic_write_text
from tailtamer.rundir.checkpoint import CHECKPOINT, PREVIOUS, auto_period
from tailtamer.rundir.footprint import estimate
from tailtamer.testing.interrupt import StopAt


@pytest.fixture
def cfg_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def _sst2_corrupt(tmp: Path) -> list[str]:
    (tmp / "sst2").mkdir()
    good = gzip.compress(b"label\tsentence\n" + b"1\ta fine film\n" * 500)
    (tmp / "sst2" / "train.tsv.gz").write_bytes(good[: len(good) // 2])  # truncated download
    (tmp / "sst2" / "dev.tsv.gz").write_bytes(b"not gzip at all")
    cfg = tmp / "sst2.toml"
    cfg.write_text(
        f'[problem]\nname = "sst2"\ndata_dir = "{tmp}"\n[algorithm]\nname = "gt-nsgdm"\nlr = 0.1\n'
        '[topology]\nname = "ring"\nn = 4\n[run]\nsteps = 2\n'
    )
    return ["run", str(cfg), "--out", str(tmp / "o")]


def _unwritable(tmp: Path) -> str:
    if os.geteuid() == 0:  # root writes anywhere a permission allows: use a kernel folder
        return "/sys/tailtamer-run" if Path("/sys").is_dir() else pytest.skip("needs /sys or a non-root user")
    locked = tmp / "locked"
    locked.mkdir(mode=0o500)
    return str(locked / "run")


ASYNC = (
    SMALL.replace('name = "gt-nsgdm"', 'name = "asgd"')
    .replace("beta = 0.8\n", "")
    .replace('name = "ring"', 'name = "server"')
)


def _file(tmp: Path, name: str, text: str | bytes) -> str:
    """Write ``text`` to ``tmp/name`` and return the path."""
    path = tmp / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def _run_async(t: Path, *sets: str, steps: str = "") -> list[str]:
    """``run`` of a small asynchronous config (asgd, 6 workers) with ``--set`` edits."""
    return [
        "run",
        _file(t, "async.toml", ASYNC + steps),
        "--out",
        str(t / "o"),
        *[a for kv in sets for a in ("--set", kv)],
    ]


def _run_edge(c: Path, t: Path, edit: str) -> list[str]:
    """``run`` of the small config on the ``edge`` cluster with one ``--set`` edit of it."""
    return ["run", str(c), "--out", str(t / "o"), "--set", 'cluster.name="edge"', "--set", edit]


def _sde(t: Path, *sets: str, out: str = "o") -> list[str]:
    """``sde`` of a small lab config with ``--set`` edits."""
    return ["sde", _file(t, "lab.toml", LAB), "--out", str(t / out), *[a for kv in sets for a in ("--set", kv)]]


def _full(t: Path) -> Path:
    (t / "full").mkdir()
    (t / "full" / "sde.json").write_text("{}")
    return t / "full"


CASES = {
    # name: (argv builder from (cfg_file, tmp_path), expected words in the line)
    "out is a file": (lambda c, t: ["run", str(c), "--out", str(c)], "is a file"),
    "out under a file": (lambda c, t: ["run", str(c), "--out", str(c / "run")], "which is a file"),
    "out not writable": (lambda c, t: ["run", str(c), "--out", _unwritable(t)], "cannot"),
    "corrupt .gz": (lambda c, t: _sst2_corrupt(t), "truncated or corrupt"),
    "launch --nproc 0": (lambda c, t: ["launch", "--nproc", "0", str(c), "--out", str(t / "o")], "--nproc"),
    "launch --nproc -2": (lambda c, t: ["launch", "--nproc", "-2", str(c), "--out", str(t / "o")], "--nproc"),
    "launch --timeout 0": (
        lambda c, t: ["launch", "--nproc", "2", "--timeout", "0", str(c), "--out", str(t / "o")],
        "--timeout",
    ),
    "launch --timeout -5": (lambda c, t: ["launch", "--nproc", "2", "--timeout", "-5", str(c)], "--timeout"),
    "too big for memory": (
        lambda c, t: [
            "run",
            str(c),
            "--out",
            str(t / "o"),
            "--set",
            "topology.n=200000",
            "--set",
            "problem.dim=100000",
        ],
        "GiB",
    ),  # 480 GB of state
    "resume a missing folder": (lambda c, t: ["run", str(c), "--out", str(t / "nope"), "--resume"], "does not exist"),
    "resume an empty folder": (lambda c, t: ["run", str(c), "--out", str(t / "empty"), "--resume"], "is empty"),
    "unset an unknown key": (lambda c, t: ["run", str(c), "--unset", "run.stepz"], "did you mean 'steps'"),
    "set without a section": (lambda c, t: ["run", str(c), "--set", "steps=3"], "section.key=value"),
    "config file not UTF-8": (lambda c, t: (c.write_bytes(b"\xff\xfe[run]"), ["run", str(c)])[1], "UTF-8"),
    # every other command (issue 25, item 4 and 5)
    "run --partial-replay without --replay": (
        lambda c, t: ["run", str(c), "--out", str(t / "o"), "--partial-replay"],
        "goes with --replay",
    ),
    "timing pareto infinite mean": (
        lambda c, t: _run_async(t, 'timing.name="pareto"', "timing.alpha=0.5"),
        "allow_no_mean",
    ),
    "timing pareto alpha too small": (
        lambda c, t: _run_async(t, 'timing.name="pareto"', "timing.alpha=0.01", "timing.allow_no_mean=true"),
        "beyond a float",
    ),
    "timing lognormal sigma too large": (
        lambda c, t: _run_async(t, 'timing.name="lognormal"', "timing.sigma=1000"),
        "beyond a float",
    ),
    "timing trace binary file": (
        lambda c, t: _run_async(
            t, 'timing.name="trace"', f'timing.path="{_file(t, "bin.csv", bytes(range(256)) * 4)}"'
        ),
        "not a text CSV",
    ),
    "timing on a lockstep method": (
        lambda c, t: ["run", str(c), "--out", str(t / "o"), "--set", 'timing.name="sqrt"'],
        "runs in lockstep",
    ),
    "ring on an async method": (lambda c, t: _run_async(t, 'topology.name="ring"'), "would be ignored"),
    "async steps = 0": (lambda c, t: _run_async(t, "run.steps=0"), "first server update"),
    "sde lr = 0": (lambda c, t: _sde(t, "method.lr=0"), "lr must be"),
    "sde lr = nan": (lambda c, t: _sde(t, "method.lr=nan"), "lr must be"),
    "sde horizon < 0": (lambda c, t: _sde(t, "sde.horizon=-1"), "horizon must be"),
    "sde quantile > 1": (lambda c, t: _sde(t, "sde.quantiles=[0.5, 2.0]"), "quantiles must be in [0, 1]"),
    "sde paths too many": (lambda c, t: _sde(t, "sde.paths=100000000000"), "GiB"),
    "sde df = 1": (lambda c, t: _sde(t, "noise.df=1.0"), "has no mean"),
    "sde noise none": (lambda c, t: _sde(t, 'noise.name="none"'), "has no law 'none'"),
    "sde df on gaussian": (lambda c, t: _sde(t, 'noise.name="gaussian"'), "takes no key(s) ['df']"),
    "sde out not empty": (lambda c, t: ["sde", _file(t, "lab.toml", LAB), "--out", str(_full(t))], "not empty"),
    "report --digits -1": (lambda c, t: ["report", str(t / "empty"), "--digits", "-1"], "--digits"),
    "check an unknown name": (lambda c, t: ["check", "gt-nsgdmm"], "did you mean 'gt-nsgdm'"),
    "report of no runs": (lambda c, t: ["report", str(t / "empty")], "no run folder"),
    "study --report-only of no runs": (
        lambda c, t: ["study", "e4-smoke", "--report-only", "--out", str(t / "empty")],
        "holds no finished run",
    ),
    "study --workers 0": (lambda c, t: ["study", "e4-smoke", "--workers", "0", "--out", str(t / "o")], "--workers"),
    "study --workers -2": (lambda c, t: ["study", "e4-smoke", "--workers", "-2", "--out", str(t / "o")], "--workers"),
    "study unknown": (lambda c, t: ["study", "e4-smok"], "did you mean"),
    "list unknown": (lambda c, t: ["list", "compresors"], "did you mean"),
    "topology unknown": (lambda c, t: ["topology", "rign", "--n", "4"], "did you mean"),
    "demo --seeds 0": (lambda c, t: ["demo", "--seeds", "0", "--out", str(t / "o")], "--seeds"),
    "e1 --seeds 0": (lambda c, t: ["e1", "--seeds", "0", "--out", str(t / "o")], "--seeds"),
    "tailopt --workers 0": (lambda c, t: ["tailopt", "--workers", "0", "--out", str(t / "o")], "--workers"),
    "diagnose without a folder": (lambda c, t: ["diagnose"], "give a RUN_DIR"),
    "diagnose --draws 0": (
        lambda c, t: ["diagnose", "--run", str(c), "--out", str(t / "o"), "--draws", "0"],
        "--draws",
    ),
    "demo --workers 0": (lambda c, t: ["demo", "--workers", "0", "--out", str(t / "o")], "--workers"),
    # the simulated cluster (issue 28, item 6)
    "advise an unknown preset": (
        lambda c, t: ["advise", str(c), "--cluster", "edgy", "--out", str(t / "o")],
        "did you mean 'edge'",
    ),
    "cluster bandwidth 0": (lambda c, t: _run_edge(c, t, "cluster.bandwidth=0"), "bandwidth must be > 0"),
    "cluster latency inf": (lambda c, t: _run_edge(c, t, "cluster.latency=inf"), "latency must be a finite number"),
    "cluster fewer workers than the run": (
        lambda c, t: _run_edge(c, t, "cluster.workers=2"),
        "workers = 2, but the run has n = 6",
    ),
    "report --x unknown": (
        lambda c, t: ["report", str(t / "empty"), "--plot", str(t / "p.png"), "--x", "sim_tme"],
        "did you mean 'sim_time'",
    ),
}


def test_the_table_covers_every_command(cfg_file, tmp_path):
    from tailtamer.cli.main import COMMANDS

    def command(i: int, name: str) -> str:
        (tmp_path / str(i)).mkdir()
        return CASES[name][0](cfg_file, tmp_path / str(i))[0]

    covered = {command(i, name) for i, name in enumerate(CASES)}
    assert covered >= set(COMMANDS), set(COMMANDS) - covered


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_ends_in_one_line(name, cfg_file, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    build, words = CASES[name]
    line = one_line_error(capsys, main(build(cfg_file, tmp_path)))
    assert line.startswith("tailtamer ") and words in line, line
    assert not (tmp_path / "o").exists()  # refused before the run folder was made (issue 25, item 3)


def test_closed_pipe_is_one_line_not_a_traceback():
    """``tailtamer list | head``: the reader closes the pipe at once."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tailtamer.cli.main", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "broken pipe" in err


def _algorithm(resolved):
    from tailtamer.algorithms import ALGORITHMS

    a = resolved["algorithm"]
    return ALGORITHMS.build(a["name"], {k: v for k, v in a.items() if k != "name"}, steps=resolved["run"]["steps"])


def test_memory_estimate_counts_every_state_buffer_and_the_matrix_as_stored():
    """GT-NSGDm keeps x, v, y: 3 · n · d floats; GT-Adam 5. The mixing matrix counts what the topology stores,
    twice: a ring of 200,000 nodes is CSR with 3 entries a row (16 bytes each: value and column) and a row
    pointer a row, a complete graph of 1,000 nodes a dense [n, n] float64 array, a server run nothing."""
    base = {
        "problem": {"name": "quadratic", "dim": 1000},
        "topology": {"name": "ring", "n": 200_000},
        "algorithm": {"name": "gt-nsgdm", "lr": 0.1},
    }
    from tailtamer.config import resolve

    r = resolve(base)
    fp = estimate(r, _algorithm(r))
    assert fp.state == 3 * 200_000 * 1000 * 8 and fp.buffers == 3
    assert fp.matrix == 2 * (16 * 3 * 200_000 + 8 * 200_001)
    dense = resolve({**base, "topology": {"name": "complete", "n": 1000}})
    assert estimate(dense, _algorithm(dense)).matrix == 2 * 8 * 1000**2
    server = resolve({**base, "algorithm": {"name": "dcsgd"}, "topology": {"name": "server", "n": 200_000}})
    assert estimate(server, _algorithm(server), graph=False).matrix == 0
    r32 = resolve({**base, "algorithm": {"name": "gt-adam", "lr": 0.1}, "run": {"dtype": "float32"}})
    assert estimate(r32, _algorithm(r32)).state == 5 * 200_000 * 1000 * 4


@pytest.mark.parametrize(
    ("name", "n", "params"),
    [
        ("ring", 5000, {"k": 2}),
        ("torus", 5000, {}),
        ("star", 5000, {}),
        ("hypercube", 8192, {}),
        ("exponential", 5000, {}),
        ("ring", 50, {}),
        ("complete", 60, {}),
        ("exponential", 40, {}),
    ],
)
def test_the_topology_bytes_known_before_building_are_the_bytes_it_stores(name, n, params):
    from tailtamer.topology import build_topology
    from tailtamer.topology.storage import stored_bytes

    assert stored_bytes(name, n, params) == build_topology(name, n, params).stored_bytes > 0


def test_a_ring_of_a_million_nodes_passes_the_cli_memory_check(tmp_path):
    """The CLI's own check (not a benchmark's shortcut): ``tailtamer run`` accepts a ring of 10⁶ nodes (its CSR
    W is 56 MB; a dense W would be 7,450 GiB) and runs it."""
    cfg = tmp_path / "ring.toml"
    cfg.write_text(
        '[problem]\nname = "quadratic"\ndim = 2\n[algorithm]\nname = "dsgd"\nlr = 0.01\n'
        '[topology]\nname = "ring"\nn = 1000000\n[run]\nsteps = 2\neval_every = 2\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "tailtamer.cli.main", "run", str(cfg), "--out", str(tmp_path / "r"), "--no-plot"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
    )
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["status"] == "finished"


def test_small_states_are_measured_on_real_tensors_with_the_same_result_as_on_meta(monkeypatch):
    """Every algorithm's ``init`` gives the same state bytes and buffer count on a real CPU tensor (small states)
    as on the meta device (large ones), and a small run's estimate does not pay the meta kernels' sympy import."""
    import tailtamer.rundir.footprint as footprint
    from tailtamer.algorithms import ALGORITHMS

    def measured(name: str, real: bool) -> tuple[int, int]:
        monkeypatch.setattr(footprint, "REAL_ENTRIES", 1 << 30 if real else 0)
        return footprint.state_bytes(ALGORITHMS.build(name, {}, steps=100), "float32", 6, 5)

    for name in ALGORITHMS.names():
        assert measured(name, True) == measured(name, False), name
    code = (
        "import sys; from tailtamer.config import resolve; from tailtamer.rundir.footprint import estimate; "
        "from tailtamer.algorithms import ALGORITHMS; "
        "fp = estimate(resolve({'problem': {'name': 'tokenized-regression'}, 'topology': {'name': 'ring', 'n': 20},"
        " 'algorithm': {'name': 'gt-nsgdm', 'lr': 0.1}}), ALGORITHMS.build('gt-nsgdm', {'lr': 0.1}, steps=10), "
        "dim=20); print(fp.state, fp.buffers, 'sympy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
    )
    assert out.stdout.split() == [str(3 * 20 * 20 * 8), "3", "False"], out.stderr


def test_memory_check_can_be_skipped(cfg_file, tmp_path, monkeypatch):
    import tailtamer.rundir.footprint as footprint

    monkeypatch.setattr(footprint, "available_bytes", lambda: 1000)  # a machine with 1 kB free
    with pytest.raises(MemoryError, match="GiB"):
        run_config(load_toml(cfg_file), tmp_path / "a", progress=False, plot=False)
    monkeypatch.setenv(footprint.SKIP_ENV, "1")
    assert run_config(load_toml(cfg_file), tmp_path / "b", progress=False, plot=False)["status"] == "finished"


# ---- resume never loses work -----------------------------------------------------------------------


def _rows(folder: Path) -> list[dict]:
    return [
        {k: v for k, v in json.loads(x).items() if k != "wall_time_s"}
        for x in (folder / "metrics.jsonl").read_text().splitlines()
    ]


def _state(folder: Path, name: str = CHECKPOINT) -> dict:
    return torch.load(folder / name, weights_only=True)


def test_resume_of_a_finished_run_changes_nothing(cfg_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(cfg_file), "--out", str(out), "--no-plot"]) == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    capsys.readouterr()
    assert main(["run", str(cfg_file), "--out", str(out), "--resume"]) == 0
    assert "already complete" in capsys.readouterr().out
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before
    # launch --resume on the same folder: no process starts, nothing changes
    assert main(["launch", "--nproc", "2", str(cfg_file), "--out", str(out), "--resume"]) == 0
    assert "already complete" in capsys.readouterr().out
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before


def test_checkpoints_are_on_by_default_and_ctrl_c_then_resume_continues(cfg_file, tmp_path, capsys):
    """No ``checkpoint_every`` in the config: Ctrl-C at step 47 keeps the step-45 checkpoint (period
    ceil(60 / 20) = 3) and the one before it; --resume ends bitwise equal to the uninterrupted run."""
    cfg = load_toml(cfg_file)
    assert "checkpoint_every" not in cfg["run"] and auto_period(60) == 3
    full = run_config(cfg, tmp_path / "full", progress=False, plot=False)
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        run_config(cfg, part, progress=False, plot=False, callbacks=[StopAt(47)])
    assert _state(part)["step"] == 45 and _state(part, PREVIOUS)["step"] == 42
    assert main(["run", str(cfg_file), "--out", str(part), "--resume", "--no-plot"]) == 0
    resumed = json.loads((part / "summary.json").read_text())
    assert resumed["metrics"] == full["metrics"] and resumed["comm"] == full["comm"]
    assert _rows(part) == _rows(tmp_path / "full")
    assert all(torch.equal(_state(part)["state"][k], v) for k, v in _state(tmp_path / "full")["state"].items())


@pytest.mark.parametrize("every", [1, 7, 1000])
def test_the_checkpoint_period_changes_no_number(cfg_file, tmp_path, every):
    cfg = load_toml(cfg_file)
    ref = run_config(cfg, tmp_path / "auto", progress=False, plot=False)
    cfg["run"]["checkpoint_every"] = every
    other = run_config(cfg, tmp_path / "k", progress=False, plot=False)
    assert other["metrics"] == ref["metrics"] and other["comm"] == ref["comm"]
    assert _rows(tmp_path / "k") == _rows(tmp_path / "auto")


def _interrupted(cfg_file: Path, out: Path, at: int = 47) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_config(load_toml(cfg_file), out, progress=False, plot=False, callbacks=[StopAt(at)])


def test_resume_without_a_checkpoint_says_so(cfg_file, tmp_path, capsys):
    out = tmp_path / "run"
    _interrupted(cfg_file, out)
    (out / CHECKPOINT).unlink()
    (out / PREVIOUS).unlink()
    line = one_line_error(capsys, main(["run", str(cfg_file), "--out", str(out), "--resume"]))
    assert "holds no checkpoint" in line


def test_resume_with_another_config_names_the_keys(cfg_file, tmp_path, capsys):
    out = tmp_path / "run"
    _interrupted(cfg_file, out)
    line = one_line_error(
        capsys,
        main(
            [
                "run",
                str(cfg_file),
                "--out",
                str(out),
                "--resume",
                "--set",
                "run.seed=9",
                "--set",
                "algorithm.beta=0.9",
                "--set",
                "run.checkpoint_every=5",
            ]
        ),
    )
    assert "run.seed = 9 here vs 3 in the folder" in line and "algorithm.beta = 0.9 here vs 0.8" in line
    assert "checkpoint_every" not in line  # the period changes no number: it may differ


@pytest.mark.parametrize("damage", ["truncate", "garbage", "not a checkpoint"])
def test_a_corrupt_checkpoint_names_the_file_and_offers_the_previous_one(cfg_file, tmp_path, capsys, damage):
    out = tmp_path / "run"
    _interrupted(cfg_file, out)
    latest = out / CHECKPOINT
    if damage == "truncate":
        latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])
    elif damage == "garbage":
        latest.write_bytes(os.urandom(300))
    else:
        torch.save({"weights": torch.zeros(3)}, latest)
    line = one_line_error(capsys, main(["run", str(cfg_file), "--out", str(out), "--resume"]))
    assert str(latest) in line and "--resume-previous" in line and "(step 42)" in line
    assert main(["run", str(cfg_file), "--out", str(out), "--resume-previous", "--no-plot"]) == 0
    full = run_config(load_toml(cfg_file), tmp_path / "full", progress=False, plot=False)
    assert json.loads((out / "summary.json").read_text())["metrics"] == full["metrics"]
    assert _rows(out) == _rows(tmp_path / "full")


def test_both_checkpoints_corrupt_says_start_again(cfg_file, tmp_path):
    out = tmp_path / "run"
    _interrupted(cfg_file, out)
    for name in (CHECKPOINT, PREVIOUS):
        (out / name).write_bytes(b"\0" * 10)
    with pytest.raises(CheckpointError, match="unreadable too: start the run again"):
        run_config(load_toml(cfg_file), out, resume=True, progress=False)


# ---- writes: atomic, no temporary file left, a full disk says so ------------------------------------


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_write_leaves_no_temporary_file_and_a_full_disk_says_so(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    atomic_write_text(target, "old\n")

    def half_then_full(obj, f):
        f.write(b"x" * 1000)
        _full_disk()

    monkeypatch.setattr(torch, "save", half_then_full)
    with pytest.raises(StorageError, match="the disk is full"):
        atomic_save({"a": 1}, tmp_path / "checkpoint.pt")
    with pytest.raises(ZeroDivisionError):  # any failure, not only OS errors
        atomic_write(target, lambda f: (f.write(b"partial"), 1 / 0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
    assert target.read_text() == "old\n"


def test_a_rotating_write_moves_the_old_file_aside_only_once_the_new_one_is_whole(tmp_path):
    from tailtamer.rundir.atomic import atomic_write

    latest, prev = tmp_path / "latest", tmp_path / "prev"
    atomic_write(latest, lambda f: f.write(b"one"), previous=prev)  # nothing to move aside yet
    assert latest.read_bytes() == b"one" and not prev.exists()
    atomic_write(latest, lambda f: f.write(b"two"), previous=prev)
    assert latest.read_bytes() == b"two" and prev.read_bytes() == b"one"
    with pytest.raises(ZeroDivisionError):
        atomic_write(latest, lambda f: (f.write(b"thr"), 1 / 0), previous=prev)
    assert latest.read_bytes() == b"two" and prev.read_bytes() == b"one"  # a failed write rotates nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "prev"]


def test_a_full_disk_during_a_run_is_one_line_and_keeps_the_last_checkpoint(cfg_file, tmp_path, capsys, monkeypatch):
    """The disk fills up in the middle of the 4th checkpoint (step 12): one line saying so, no temporary
    file, and the checkpoints of steps 9 and 6 intact."""
    out = tmp_path / "run"
    real = torch.save
    calls = []

    def fill_up(obj, f, *args, **kwargs):
        calls.append(obj["step"])
        if len(calls) > 3:
            f.write(b"x" * 100)
            _full_disk()
        real(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", fill_up)
    line = one_line_error(capsys, main(["run", str(cfg_file), "--out", str(out), "--no-plot"]))
    assert "the disk is full" in line and calls == [3, 6, 9, 12]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file
    monkeypatch.undo()
    assert _state(out)["step"] == 9 and _state(out, PREVIOUS)["step"] == 6


# ---- validation --------------------------------------------------------------------------------------


def test_lowest_global_node_is_reported_when_several_diverge():
    z = torch.ones(6, 3)
    z[4, 0], z[1, 2], z[5, 1] = float("nan"), float("inf"), float("-inf")
    assert first_bad_row(z) == 1


def test_launch_blames_the_lowest_diverged_node_not_the_fastest_rank():
    """Ranks 2 and 1 both hit NaN at step 7; rank 2 reported first. The launcher names node 4 (rank 1),
    the node the simulator names; the timing of reports does not matter."""
    from tailtamer.distributed.launcher import failure

    nan = {"type": "NonFiniteError", "message": "", "peers": [], "what": "gradient"}
    errors = {
        2: {**nan, "step": 7, "node": 9, "time": 1.0},
        1: {**nan, "step": 7, "node": 4, "time": 2.0},
        3: {**nan, "step": 8, "node": 1, "time": 0.5},
        0: {"type": "CommError", "message": "peer gone", "peers": [1], "time": 3.0},
    }
    err = failure(errors, [1, 1, 1, 1], set())
    assert err.rank == 1 and err.root["node"] == 4


# ---- configs that compose ----------------------------------------------------------------------------


def test_set_another_problem_drops_the_old_entrys_keys_with_a_note(cfg_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(cfg_file), "--out", str(out), "--no-plot", "--set", "problem.name=quartic"]) == 0
    err = capsys.readouterr().err
    assert "dropped condition" in err and "quartic" in err
    resolved = load_toml(out / "config.toml")
    assert resolved["problem"]["name"] == "quartic" and "condition" not in resolved["problem"]
    assert resolved["problem"]["dim"] == 6  # a key both entries take is kept


def test_unset_restores_the_default(cfg_file, tmp_path):
    out = tmp_path / "run"
    assert (
        main(["run", str(cfg_file), "--out", str(out), "--no-plot", "--unset", "run.seed", "--unset", "algorithm.beta"])
        == 0
    )
    resolved = load_toml(out / "config.toml")
    assert resolved["run"]["seed"] == 0 and resolved["algorithm"]["beta"] == 0.9


def test_matrix_path_is_relative_to_the_config_file(tmp_path, monkeypatch):
    folder = tmp_path / "configs"
    folder.mkdir()
    W = np.full((4, 4), 0.25)
    np.save(folder / "W.npy", W)
    (folder / "m.toml").write_text(SMALL.replace('name = "ring"\nn = 6', 'name = "matrix"\npath = "W.npy"'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    summary = run_config(load_toml(folder / "m.toml"), "run", progress=False, plot=False)
    assert summary["topology"]["n"] == 4 and summary["status"] == "finished"
    assert load_toml(folder / "m.toml")["topology"]["path"] == str(folder / "W.npy")


def test_the_python_api_resume_starts_a_missing_folder_and_strict_refuses(cfg_file, tmp_path):
    """Sweeps call ``run_config(..., resume=True)`` on folders that may not exist yet; ``--resume`` is strict."""
    summary = run_config(load_toml(cfg_file), tmp_path / "new", resume=True, progress=False, plot=False)
    assert summary["status"] == "finished"
    with pytest.raises(ConfigError, match="does not exist"):
        run_config(load_toml(cfg_file), tmp_path / "other", resume="strict", progress=False, plot=False)


@pytest.mark.multiprocess
def test_launch_and_the_simulator_report_the_same_diverged_node(tmp_path):
    """DSGD with a step of 1e60 overflows on every node at step 5 (each step multiplies x by ~1e60, so no
    rounding difference between the backends can move it); each of the 3 ranks reports its own first node,
    and the launcher must name the lowest, node 0, as the simulator does, whichever rank reports first."""
    from tailtamer.distributed.run import launch
    from tailtamer.errors import NonFiniteError

    cfg = {
        "problem": {"name": "quadratic", "dim": 4, "condition": 10.0},
        "algorithm": {"name": "dsgd", "lr": 1e60},
        "topology": {"name": "ring", "n": 6},
        "run": {"steps": 30, "eval_every": 10},
    }
    with pytest.raises(NonFiniteError) as sim:
        run_config(cfg, tmp_path / "sim", progress=False, plot=False)
    with pytest.raises(NonFiniteError) as real:
        launch(cfg, tmp_path / "real", 3, timeout=20, plot=False)
    assert (real.value.step, real.value.node) == (sim.value.step, sim.value.node) == (5, 0)
    for folder in ("sim", "real"):
        assert json.loads((tmp_path / folder / "summary.json").read_text())["diverged"]["node"] == 0


def test_the_distributed_reader_gives_every_rank_the_same_checkpoint_error(cfg_file, tmp_path):
    """Rank 0 reads and broadcasts; an unreadable file reaches the other ranks as the same one-line error,
    and a good one as the rows of their own nodes."""
    from types import SimpleNamespace

    from tailtamer.comm.base import CommStats
    from tailtamer.distributed.checkpoint import broadcast_reader
    from tailtamer.rundir.checkpoint import load_checkpoint

    out = tmp_path / "run"
    _interrupted(cfg_file, out)
    sent: list = []

    def comm(rank: int) -> SimpleNamespace:
        def broadcast_object(obj, src=0):
            if rank == 0:
                sent.append(obj)
            return sent[-1]

        return SimpleNamespace(
            rank=rank,
            n=6,
            n_local=2,
            nodes=torch.arange(2 * rank, 2 * rank + 2),
            stats=CommStats(),
            broadcast_object=broadcast_object,
        )

    loops = [SimpleNamespace(comm=comm(r), device=torch.device("cpu"), wall_time=0.0) for r in range(3)]
    states = [load_checkpoint(out, lp, reader=broadcast_reader(lp.comm)) for lp in loops]
    full = _state(out)["state"]
    for r, (state, step) in enumerate(states):
        assert step == 45 and torch.equal(state["x"], full["x"][2 * r : 2 * r + 2])
    (out / CHECKPOINT).write_bytes(b"junk")
    messages = []
    for lp in loops:
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(out, lp, reader=broadcast_reader(lp.comm))
        messages.append(str(info.value))
    assert len(set(messages)) == 1 and str(out / CHECKPOINT) in messages[0] and "--resume-previous" in messages[0]


def test_ctrl_c_says_how_to_continue(cfg_file, tmp_path, capsys, monkeypatch):
    import tailtamer.cli.run_cmd as run_cmd

    out = tmp_path / "run"

    def interrupted(cfg, folder, **kwargs):
        return run_config(cfg, folder, progress=False, plot=False, callbacks=[StopAt(20)])

    monkeypatch.setattr(run_cmd, "run_config", interrupted)
    assert main(["run", str(cfg_file), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert (
        f"tailtamer run --resume {out}" in err and "Traceback" not in err
    )  # works as printed: see test_resume_from_folder
    assert _state(out)["step"] == 18
