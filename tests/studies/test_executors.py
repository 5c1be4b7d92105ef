"""Executors (experiments/executors.py): a study's run folders are the same whichever executor runs it.

The Ray test runs a reduced E1 study (a two-point tuning grid that grows once, four main runs and one run
that diverges) under the local process pool and under a local Ray instance, and compares every file of every
run folder, and the study's own files, value for value. The only fields left out are wall-clock times:
``wall_time_s`` and ``steps_per_s`` of ``summary.json``, ``wall_time_s`` of each ``metrics.jsonl`` row and
``wall_time`` of each checkpoint (:data:`WALL_CLOCK`). Every other file must be equal byte for byte.

The tests without Ray check the parts the Ray executor is made of, in this process: a job runs in a scratch
folder filled from the shipped one (a partly run folder resumes) and its folder comes back as a run in
place would have written it, summary last; errors come back with the folder.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from tailtamer.cli.main import main
from tailtamer.errors import ConfigError
from tailtamer.experiments import executors
from tailtamer.experiments.executors import EXECUTORS, _in_scratch, _land, _pack, make
from tailtamer.experiments.report import load_runs
from tailtamer.experiments.runner import run_config
from tailtamer.experiments.studies import gt_nsgdm_heavy_tails as e1
from tailtamer.experiments.study import Grid, Section, Study, run_study
from tailtamer.experiments.sweep import _safe
from tailtamer.testing.interrupt import StopAt

#: The wall-clock fields of a run folder, by file: the only values allowed to differ between two executors.
WALL_CLOCK = {
    "summary.json": ("wall_time_s", "steps_per_s"),
    "metrics.jsonl": ("wall_time_s",),
    "checkpoint.pt": ("wall_time",),
    "checkpoint.prev.pt": ("wall_time",),
}

TINY = {
    "problem": {"name": "quadratic", "dim": 3},
    "algorithm": {"name": "dsgd", "lr": 0.1},
    "topology": {"name": "ring", "n": 4},
    "noise": {"name": "gaussian", "scale": 0.1},
    "run": {"steps": 40, "eval_every": 10, "checkpoint_every": 10},
}


def _values(path: Path) -> object:
    """A file's content with its wall-clock fields dropped (bytes for a file that has none)."""
    drop = WALL_CLOCK.get(path.name, ())
    if path.suffix == ".pt":
        blob = torch.load(path, weights_only=False)
        return {k: _tensors(v) for k, v in blob.items() if k not in drop}
    if path.name == "metrics.jsonl":
        return [{k: v for k, v in json.loads(line).items() if k not in drop} for line in path.read_text().splitlines()]
    if drop:
        return {k: v for k, v in json.loads(path.read_text()).items() if k not in drop}
    return path.read_bytes()


def _tensors(v: object) -> object:
    """Tensors as (dtype, shape, bytes), so that equality is exact and NaN equals NaN bit for bit."""
    if isinstance(v, torch.Tensor):
        return str(v.dtype), tuple(v.shape), v.contiguous().numpy().tobytes()
    if isinstance(v, dict):
        return {k: _tensors(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_tensors(x) for x in v]
    return v


def assert_same_folders(a: Path, b: Path) -> int:
    """Every file under ``a`` and ``b`` (the same names) has the same values; returns how many files."""
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert _values(a / rel) == _values(b / rel), f"{rel} differs"
    return len(files)


@pytest.fixture
def no_run_plots(monkeypatch):
    import tailtamer.rundir.plots

    monkeypatch.setattr(tailtamer.rundir.plots, "plot_metrics", lambda *a, **k: None)


# ---- the comparison itself can fail ------------------------------------------------------------------------


def test_the_comparison_ignores_wall_clock_fields_only(tmp_path, no_run_plots):
    run_config(TINY, tmp_path / "a", progress=False)
    run_config(TINY, tmp_path / "b", progress=False)
    assert assert_same_folders(tmp_path / "a", tmp_path / "b") == 5
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    summary["metrics"]["dist_to_opt"] *= 1 + 1e-15
    (tmp_path / "b" / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(AssertionError, match="summary.json differs"):
        assert_same_folders(tmp_path / "a", tmp_path / "b")
    (tmp_path / "b" / "config.toml").write_text((tmp_path / "a" / "config.toml").read_text() + " ")
    with pytest.raises(AssertionError, match="config.toml differs"):
        assert_same_folders(tmp_path / "a", tmp_path / "b")


# ---- the parts of the Ray executor, in this process ---------------------------------------------------------


def _shipped(folder: Path, cfg: dict) -> None:
    """Run ``cfg`` into ``folder`` as the Ray executor does: shipped, run in a scratch folder, landed."""
    before = _pack(folder)
    result, error, [after] = _in_scratch(_safe, (str(folder), cfg, False), [before])
    assert error is None and result == str(folder)
    _land(folder, before, after)


def test_a_shipped_run_lands_as_a_run_in_place(tmp_path, no_run_plots):
    run_config(TINY, tmp_path / "here", resume=True, progress=False)
    _shipped(tmp_path / "there", TINY)
    assert assert_same_folders(tmp_path / "here", tmp_path / "there") == 5


def test_a_shipped_partly_run_folder_resumes_from_its_checkpoint(tmp_path, no_run_plots):
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        run_config(TINY, part, progress=False, callbacks=[StopAt(25)])
    assert not (part / "summary.json").exists() and (part / "checkpoint.pt").exists()
    rows = len((part / "metrics.jsonl").read_text().splitlines())
    _shipped(part, TINY)
    run_config(TINY, tmp_path / "whole", progress=False)
    assert rows == 3 and assert_same_folders(tmp_path / "whole", part) == 5


def test_summary_lands_last_and_removed_files_are_removed(tmp_path, monkeypatch):
    written: list[str] = []
    real = executors.atomic_write_bytes
    monkeypatch.setattr(executors, "atomic_write_bytes", lambda p, d: (written.append(Path(p).name), real(p, d)))
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "old.tmp").write_bytes(b"x")
    (folder / "same").write_bytes(b"s")
    before = _pack(folder)
    _land(folder, before, {"summary.json": b"{}", "same": b"s", "a": b"1", "sub/z": b"2"})
    assert written == ["a", "z", "summary.json"] and not (folder / "old.tmp").exists()
    assert (folder / "sub" / "z").read_bytes() == b"2" and (folder / "same").read_bytes() == b"s"


def _fails_after_writing(folder: str) -> str:
    Path(folder).mkdir(parents=True)
    (Path(folder) / "partial").write_text("half")
    raise ConfigError("bad job")


def test_an_error_comes_back_with_the_folder(tmp_path):
    result, error, [files] = _in_scratch(_fails_after_writing, (str(tmp_path / "f"),), [None])
    assert result is None and isinstance(error, ConfigError) and str(error) == "bad job"
    assert files == {"partial": b"half"}


def test_a_job_writing_several_folders_gets_them_all_back_under_their_names(tmp_path):
    def two(folders: tuple[str, ...]) -> tuple[str, ...]:
        for f in folders:
            Path(f).mkdir(parents=True)
            (Path(f) / "n").write_text(Path(f).name)
        return folders

    names = (str(tmp_path / "x" / "run"), str(tmp_path / "y" / "run"))
    result, error, files = _in_scratch(two, (names,), [None, None])
    assert result == names and error is None and files == [{"n": b"run"}, {"n": b"run"}]


# ---- choosing an executor -----------------------------------------------------------------------------------


def test_executors_are_a_registry_with_the_process_pool_by_default():
    assert EXECUTORS.names() == ["process", "ray"]
    assert type(executors.resolve(None)) is executors.ProcessPool
    with pytest.raises(ConfigError, match="did you mean 'ray'"):
        make("rey")
    with pytest.raises(ConfigError, match="goes with the ray executor"):
        make("process", "auto")


def _worker_view(name: str) -> tuple:
    import os
    import sys
    import threading

    preloaded = all(m in sys.modules for m in executors.WORKER_MODULES)  # before the job imported anything
    return os.environ.get(name), os.getpid(), threading.active_count(), os.getppid(), preloaded


def test_pool_workers_fork_from_a_preloaded_server_and_see_the_environment_of_their_pools_start(monkeypatch):
    """Workers are forked by a forkserver (which imported torch, tailtamer and matplotlib once, so they start
    without importing them), not by this process; they hold one thread, and see this process's environment as it is
    when their pool starts, not the one of the forkserver's start."""
    import os

    executors.warm()
    pool = executors.ProcessPool()
    monkeypatch.setenv("TAILTAMER_TEST_VALUE", "first")
    first = list(pool.map(_worker_view, [("TAILTAMER_TEST_VALUE",)] * 2, workers=2))
    monkeypatch.setenv("TAILTAMER_TEST_VALUE", "second")
    second = list(pool.map(_worker_view, [("TAILTAMER_TEST_VALUE",)] * 2, workers=2))
    monkeypatch.delenv("TAILTAMER_TEST_VALUE")
    third = list(pool.map(_worker_view, [("TAILTAMER_TEST_VALUE",)] * 2, workers=2))
    assert {v[0] for v in first} == {"first"} and {v[0] for v in second} == {"second"}
    assert {v[0] for v in third} == {None}
    assert all(v[2] == 1 and v[3] != os.getpid() for v in first + second + third)  # one thread; the server's child
    assert all(v[4] for v in first + second + third)  # torch, tailtamer and matplotlib came with the fork
    assert len({v[1] for v in first + second + third}) >= 3  # a new pool's workers are new processes
    assert executors.worker_context().get_start_method() == "forkserver"


def _faults_of_steps_on_large_buffers() -> int:
    """Page faults of 4 "steps" (after 4 more to warm up), each making three 64 MB tensors and freeing them, as
    a simulation's functional steps do with its [n, d] state (above glibc's largest automatic mmap threshold,
    32 MB, so by default each is a fresh mapping: 3 · 16,384 faults a step)."""
    import resource

    import torch

    def step() -> float:
        x = torch.ones(1 << 23, dtype=torch.float64)
        y = x * 2
        return float((y + x)[0])

    for _ in range(4):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        step()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap settings are Linux-only")
def test_pool_workers_keep_freed_buffers_in_their_heap():
    """A sweep worker reuses freed large buffers instead of mapping fresh pages every step (the 0.8 s a step of
    8 GPT nodes that :mod:`tailtamer.memory` measured): a default process takes 4 · 3 · 16,384 = 196,608 faults
    here, a worker at most a quarter of that."""
    faults = list(executors.ProcessPool().map(_faults_of_steps_on_large_buffers, [()] * 2, workers=2))
    assert all(f <= 4 * 3 * 16384 // 4 for f in faults), faults


def test_without_ray_the_ray_executor_says_how_to_install_it(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'tailtamer\[ray\]'"):
        make("ray")
    assert main(["study", "demo", "--executor", "ray"]) == 2
    assert "pip install 'tailtamer[ray]'" in capsys.readouterr().err
    assert main(["study", "demo", "--ray-address", "auto"]) == 2
    assert "--ray-address goes with --executor ray" in capsys.readouterr().err


# ---- the same study on the process pool and on Ray -----------------------------------------------------------

STEPS = 100
NOISE = e1.NOISES["alpha-stable"]


def _grid(root: Path) -> Grid:
    return Grid(
        axes={"dsgd": {"lr": (0.003, 0.01)}},
        seeds=(100,),
        max_extensions=1,
        folder=lambda r, k, p: r / "tune" / k / f"lr={p['lr']:g}",
        config=lambda k, p, s: e1.config(k, p, NOISE, s, steps=STEPS),
        metric=lambda k: "dist_to_opt",
    )


def _runs(root: Path, tuned: dict) -> list:
    main_ = [
        (root / "main" / m / f"seed{s}", e1.config(m, tuned.get(m, e1.TUNED[m]), NOISE, s, steps=STEPS))
        for m in ("gt-nsgdm", "dsgd")
        for s in (0, 1)
    ]
    diverges = {**TINY, "algorithm": {"name": "dsgd", "lr": 100.0}, "run": {"steps": 200, "eval_every": 10}}
    return main_ + [(root / "diverges" / "seed0", diverges)]


REDUCED_E1 = Study(
    name="e1-reduced",
    about="E1 reduced for the executor test",
    tuned={},
    runs=_runs,
    heading="## E1 reduced",
    grid=_grid,
    sections=(Section("final", lambda root, tuned: e1.final_table(load_runs([root / "main"]))),),
)


@pytest.mark.ray
@pytest.mark.slow
def test_a_study_on_ray_writes_the_same_folders_as_on_the_process_pool(tmp_path, monkeypatch):
    pytest.importorskip(
        "ray", reason="Ray is not installed (pip install 'tailtamer[ray]'); the Ray executor test needs it"
    )
    import tempfile

    scratch = tempfile.mkdtemp(prefix="ray")  # Ray's logs and sockets: short path, outside the repo
    monkeypatch.setenv("RAY_TMPDIR", scratch)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # a local instance of seconds: no token in ~/.ray
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    log: list[str] = []
    run_study(REDUCED_E1, tmp_path / "process", tune=True, workers=1, log=log.append)
    ray_ = make("ray")
    dispatched: list[tuple] = []
    real_map = ray_.map
    ray_.map = lambda fn, calls, workers: (dispatched.extend(calls), real_map(fn, calls, workers))[1]
    try:
        run_study(REDUCED_E1, tmp_path / "ray", tune=True, workers=2, log=log.append, executor=ray_)
        log.clear()
        run_study(REDUCED_E1, tmp_path / "ray", tune=True, workers=2, log=log.append, executor=ray_)
    finally:
        ray_.close()
        shutil.rmtree(scratch, ignore_errors=True)
    assert "(5 of 5 already finished)" in log[-2]  # a finished study reruns nothing on Ray either
    tuning = json.loads((tmp_path / "ray" / "tuning.json").read_text())
    shipped = [f for call in dispatched for f in call[0]]  # every run folder sent out, stacked or not
    assert tuning["dsgd"]["axes"]["lr"] == [0.003, 0.01, 0.03333] and len(shipped) == 3 + 5  # grew once
    assert len(set(shipped)) == len(shipped)  # each run shipped once
    assert json.loads((tmp_path / "ray" / "diverges" / "seed0" / "summary.json").read_text())["status"] == "diverged"
    # 7 finished runs (config, metrics, plot, summary, 2 checkpoints), the diverged one (no plot), the study's 3
    assert assert_same_folders(tmp_path / "process", tmp_path / "ray") == 7 * 6 + 5 + 3
