"""The cluster model against real runs: each family launched on 4 processes in a private, shaped network namespace.

Used by ``tests/distributed/test_cluster_validation.py`` and ``benchmarks/cluster_validation.py``. The
measurement is ``tailtamer launch`` (the product's entry point) run as a user runs it, inside ``unshare -rn``;
the prediction is the cluster model's ``sim_time`` (:mod:`tailtamer.cluster`). For each family
(:data:`FAMILIES`) one config is launched three times:

* ``none`` — the loopback unshaped: the **calibration**. Its measured time per unit (step, round or server
  update) is the compute and software overhead of a real step; the model is not asked for it, it is given it
  as the cluster's compute time (per gradient: the time per unit over the gradients per unit; per job of an
  asynchronous worker: the time per update times the workers).
* ``bandwidth`` — the loopback shaped by ``tc tbf rate 100mbit`` (MTU 1500): validates the **bandwidth term**,
  on ``[cluster]`` ``fabric = "shared"`` (one medium carries every byte, as one machine's loopback does) with
  the shaper's payload rate (:func:`tailtamer.testing.netns.payload_rate`) and no latency.
* ``latency`` — unshaped, every message delivered α late by a test plugin
  (``tests/distributed/latency_plugin.py``): validates the **latency term**, on ``[cluster]`` of latency α
  and unlimited bandwidth.

``reduce = "ring"`` (the default) in both: ``tailtamer launch`` averages with gloo's ring all-reduce (or a ring
all-gather of compressed packets) whatever the topology; ``reduce = "server"`` would describe another transport
than the one measured.

**Measured** per unit: the run's own record, the difference of ``wall_time_s`` (lockstep) or ``time`` × the time
scale (asynchronous: the server's clock) between two ``metrics.jsonl`` lines after a warm-up (the first
evaluations: connections, buffers and EF21's dense first step are left out). **Predicted** per unit: the
difference of ``sim_time`` between the same lines. A lockstep launch carries the ``[cluster]`` itself, and its
clock prices the very calls the run made (:class:`tailtamer.cluster.Clock` on the real comm's counters). The
asynchronous server's clock is its measured time. For this reason its prediction is the simulator's ``tailtamer
run`` of the same config, whose event engine queues every download and upload on the server's link
(:class:`tailtamer.cluster.Link`).

:func:`measure` starts this module as ``unshare -rn python -m tailtamer.testing.cluster_check OUT --plugin PATH``
(:func:`main`). The child brings the namespace's loopback up, launches every run, shapes the loopback in
between, and writes ``OUT/measured.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import dumps_toml
from ..rundir.folder import read_metrics
from . import netns
from .cli import SRC, run_cli

#: Processes of every launch (the asynchronous one: a server and 3 workers).
NPROC = 4
#: The shaper's rate, bits per second.
RATE = 100e6
#: The latency injected per message, seconds (the cross-region preset's: 50 ms; large beside the emulated
#: rings' own cost per hop, about 2 ms on 2 busy cores).
ALPHA = 0.05
#: Seconds of real time per timing unit in the asynchronous launch (``launch --time-scale``): 0.1 ms jobs.
TIME_SCALE = 1e-4
#: How many times longer the unshaped calibration runs are than the shaped ones (more intervals to take the
#: median of: the calibration is the noisiest number, a few milliseconds on a shared machine).
CALIBRATION_LENGTH = 3
#: How far the prediction may be from the measurement (relative to the measurement).
TOLERANCE = 0.15
#: The runs made per family: calibration, bandwidth, latency.
SHAPINGS = ("none", "bandwidth", "latency")
#: The plugin's environment variable holding α (seconds).
LATENCY_ENV = "TAILTAMER_TEST_LATENCY"


@dataclass(frozen=True)
class Family:
    """One family's run: ``config`` (without ``[noise]`` and ``[run]``), the unit it progresses in, the number
    of units, the spacing of ``metrics.jsonl`` lines (``every``) and the unit the measured window starts at."""

    name: str
    method: str
    unit: str
    config: dict[str, Any]
    units: int = 6
    every: int = 2
    warmup: int = 2
    #: gradient computations per unit and worker (H for a local-update round)
    gradients: int = 1

    @property
    def asynchronous(self) -> bool:
        return "timing" in self.config

    @property
    def workers(self) -> int:
        return int(self.config["topology"]["n"])

    def run_config(self, cluster: dict[str, Any] | None = None, length: int = 1) -> dict[str, Any]:
        """The config to run ``length`` times :attr:`units` units, on ``cluster`` (a ``[cluster]`` section; it
        replaces an asynchronous ``[timing]``)."""
        cfg = {k: dict(v) for k, v in self.config.items()}
        cfg["noise"] = {"name": "none"}  # communication, not statistics, is measured
        steps = self.units * length
        cfg["run"] = {
            "steps": steps,
            "seed": 0,
            "eval_every": self.every,
            "checkpoint_every": steps,  # one checkpoint, at the end: after the measured window
            "dtype": "float64",
        }
        if cluster is not None:
            cfg.pop("timing", None)
            cfg["cluster"] = cluster
        return cfg

    def compute(self, calibration: float) -> float:
        """The cluster's compute seconds per gradient (per job, asynchronous) that reproduce ``calibration``,
        the measured unshaped seconds per unit, on a free network."""
        return calibration * self.workers if self.asynchronous else calibration / self.gradients


def _quadratic(dim: int) -> dict[str, Any]:
    return {"name": "quadratic", "dim": dim}


#: ASGD with a server and 3 workers: every job downloads the model and uploads a gradient (one message each).
_ASYNC: dict[str, Any] = {
    "problem": _quadratic(50_000),
    "algorithm": {"name": "asgd", "lr": 0.01},
    "topology": {"name": "server", "n": NPROC - 1},
    "timing": {"name": "fixed", "times": 1.0},
}

#: The four families, each on a quadratic large enough for communication to dominate a shaped unit.
FAMILIES: tuple[Family, ...] = (
    Family(
        "decentralized",
        "gt-nsgdm, ring, d = 12,500",
        "step",
        {"problem": _quadratic(12_500), "algorithm": {"name": "gt-nsgdm"}, "topology": {"name": "ring", "n": 4}},
    ),
    Family(
        "local update",
        "bi2clip, H = 4, d = 50,000",
        "round",
        {
            "problem": _quadratic(50_000),
            "algorithm": {"name": "bi2clip", "local_steps": 4},
            "topology": {"name": "server", "n": 4},
        },
        gradients=4,
    ),
    Family(
        "asynchronous",
        "asgd, 3 workers, d = 50,000",
        "update",
        _ASYNC,
        units=36,
        every=9,
        warmup=9,
    ),
    Family(
        "compressed",
        "ef21, top-40%, d = 50,000",
        "step",
        {
            "problem": _quadratic(50_000),
            "algorithm": {"name": "ef21"},
            "compression": {"name": "top-k", "fraction": 0.4},
            "topology": {"name": "server", "n": 4},
        },
    ),
    # jobs of about 0.8 of a transfer's time: the server link's calendar must fill the gaps between transfers
    # (as a real link's other flows do), not leave the ones shorter than a transfer idle
    Family(
        "asynchronous, long jobs",
        "asgd, 3 workers, d = 50,000, 27 ms jobs",
        "update",
        {**_ASYNC, "timing": {"name": "fixed", "times": 270.0}},
        units=36,
        every=9,
        warmup=9,
    ),
)


def family(name: str) -> Family:
    """The family of :data:`FAMILIES` called ``name``."""
    for f in FAMILIES:
        if f.name == name:
            return f
    raise KeyError(f"no family {name!r}; families: {[f.name for f in FAMILIES]}")


def cluster_section(shaping: str, compute: float, rate: float = RATE) -> dict[str, Any]:
    """The ``[cluster]`` a shaped run is predicted on: one shared medium of the shaper's payload rate (no
    latency), or latency α on an unlimited medium; ring averages; ``compute`` seconds per gradient (per job)."""
    if shaping == "bandwidth":
        latency, bandwidth = 0.0, netns.payload_rate(rate)
    elif shaping == "latency":
        latency, bandwidth = ALPHA, math.inf
    else:
        raise ValueError(f"no cluster for shaping {shaping!r}")
    return {
        "name": "custom",
        "latency": latency,
        "bandwidth": bandwidth,
        "fabric": "shared",
        "reduce": "ring",
        "compute": {"name": "fixed", "times": compute},
    }


@dataclass
class Measured:
    """One launch: measured and predicted seconds per unit over a window of ``units`` units, and the launch's
    wall time (start-up included)."""

    family: str
    shaping: str
    measured: float
    predicted: float
    units: int
    launch_s: float

    @property
    def error(self) -> float:
        """(predicted − measured) / measured."""
        return (self.predicted - self.measured) / self.measured


@dataclass
class Measurements:
    """Every launch, the payload rate of a plain TCP transfer through the shaper (bits/s), and the total
    seconds the measurement took."""

    runs: list[Measured] = field(default_factory=list)
    goodput: float = 0.0
    seconds: float = 0.0

    def get(self, family: str, shaping: str) -> Measured:
        return next(m for m in self.runs if m.family == family and m.shaping == shaping)

    def to_json(self) -> str:
        return json.dumps({"runs": [asdict(m) for m in self.runs], "goodput": self.goodput, "seconds": self.seconds})

    @classmethod
    def from_json(cls, text: str) -> Measurements:
        raw = json.loads(text)
        return cls([Measured(**m) for m in raw["runs"]], raw["goodput"], raw["seconds"])


# ---- reading a run ---------------------------------------------------------------------------------------


def per_unit(family: Family, folder: Path, clock: str) -> tuple[float, int]:
    """Seconds per unit of ``clock`` (a ``metrics.jsonl`` field) from unit ``family.warmup`` on: the median over
    the intervals between consecutive lines (a load spike of the machine moves one interval, not the median);
    and the window's length in units."""
    rows = [r for r in read_metrics(folder) if r["step"] >= family.warmup]
    if len(rows) < 2:
        raise RuntimeError(f"{folder}: metrics.jsonl has no window from unit {family.warmup} on")
    scale = TIME_SCALE if clock == "time" else 1.0
    rates = [(b[clock] - a[clock]) * scale / (b["step"] - a["step"]) for a, b in itertools.pairwise(rows)]
    return statistics.median(rates), rows[-1]["step"] - rows[0]["step"]


# ---- running (inside the namespace) ------------------------------------------------------------------------


def _inherited() -> list[Path]:
    """This process's ``PYTHONPATH`` (after the package's own ``src``, in a child)."""
    return [Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def _env(shaping: str = "none") -> dict[str, str]:
    """The child's extra variables: the test plugin's latency (0 but for the latency runs)."""
    return {LATENCY_ENV: str(ALPHA if shaping == "latency" else 0.0)}


def _tailtamer(argv: list[str], what: str, env: dict[str, str], timeout: float) -> float:
    """Run ``tailtamer ARGV`` (:func:`~tailtamer.testing.cli.run_cli`); its wall time, or a RuntimeError with
    its last lines."""
    t0 = time.perf_counter()
    done = run_cli(*argv, cwd=Path.cwd(), path=_inherited(), timeout=timeout, extra=env)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise RuntimeError(f"{what} failed:\n{tail}")
    return time.perf_counter() - t0


def launch(family: Family, shaping: str, out: Path, plugin: Path, calibration: float = 0.0) -> Measured:
    """``tailtamer launch --nproc 4`` of ``family`` in ``out``, the loopback already shaped (or not) for
    ``shaping``; predicted from the run's own ``sim_time`` (lockstep) or from :func:`simulate` (asynchronous)."""
    stem = f"{family.name.replace(' ', '-')}-{shaping}"
    cluster = None
    if shaping != "none":
        cluster = cluster_section(shaping, family.compute(calibration))
    config = out / f"{stem}.toml"
    length = CALIBRATION_LENGTH if shaping == "none" else 1
    config.write_text(dumps_toml(family.run_config(None if family.asynchronous else cluster, length)))
    argv = ["launch", str(config), "--out", str(out / stem), "--no-plot", "--nproc", str(NPROC)]
    argv += ["--threads", "1", "--timeout", "60", "--time-scale", str(TIME_SCALE)]
    if shaping == "latency":
        argv += ["--plugin", str(plugin)]
    took = _tailtamer(argv, f"tailtamer launch of {family.name} ({shaping})", _env(shaping), 300)
    measured, units = per_unit(family, out / stem, "time" if family.asynchronous else "wall_time_s")
    if cluster is None:
        predicted = measured
    elif family.asynchronous:
        predicted = simulate(family, cluster, out / f"{stem}-simulated")
    else:
        predicted = per_unit(family, out / stem, "sim_time")[0]
    return Measured(family.name, shaping, measured, predicted, units, took)


def simulate(family: Family, cluster: dict[str, Any], folder: Path) -> float:
    """Seconds per unit of ``sim_time`` of the simulator's run of ``family`` on ``cluster`` (``tailtamer run``)."""
    config = folder.with_suffix(".toml")
    config.write_text(dumps_toml(family.run_config(cluster)))
    _tailtamer(["run", str(config), "--out", str(folder), "--no-plot"], f"simulating {family.name}", _env(), 300)
    return per_unit(family, folder, "sim_time")[0]


def measure_here(out: Path, plugin: Path, families: Sequence[Family] = FAMILIES) -> Measurements:
    """Every launch of :data:`SHAPINGS` for ``families`` (call inside a fresh network namespace): the unshaped
    calibrations, the latency runs, then the shaped runs."""
    t0 = time.perf_counter()
    netns.setup_loopback()
    result = Measurements()
    netns.shape(None)
    calibration = {}
    for family in families:
        run = launch(family, "none", out, plugin)
        calibration[family.name] = run.measured
        result.runs.append(run)
    for family in families:
        result.runs.append(launch(family, "latency", out, plugin, calibration[family.name]))
    netns.shape(RATE)
    result.goodput = netns.goodput()
    for family in families:
        result.runs.append(launch(family, "bandwidth", out, plugin, calibration[family.name]))
    result.seconds = time.perf_counter() - t0
    return result


def measure(out: Path, plugin: Path, families: Sequence[Family] = FAMILIES, timeout: float = 900) -> Measurements:
    """:func:`measure_here` in a new network namespace (``unshare -rn``); what it measured."""
    out.mkdir(parents=True, exist_ok=True)
    argv = ["unshare", "-rn", sys.executable, "-m", "tailtamer.testing.cluster_check", str(out)]
    argv += ["--plugin", str(plugin)]
    argv += ["--family", *(f.name for f in families)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in [SRC, *_inherited()]), **_env()}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the measurement in a private network namespace failed:\n{done.stderr.strip()}")
    return Measurements.from_json((out / "measured.json").read_text())


# ---- reporting ----------------------------------------------------------------------------------------


def table(measured: Measurements, families: Sequence[Family] = FAMILIES) -> str:
    """The validation table in markdown: per family and shaping, milliseconds per unit."""
    lines = [
        "| family | run | per | shaping | calibration (ms) | predicted (ms) | measured (ms) | error |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for family in families:
        calibration = measured.get(family.name, "none").measured
        for shaping in ("bandwidth", "latency"):
            m = measured.get(family.name, shaping)
            what = f"tbf {RATE / 1e6:g} Mbit/s" if shaping == "bandwidth" else f"α = {ALPHA * 1e3:g} ms a message"
            lines.append(
                f"| {family.name} | {family.method} | {family.unit} | {what} | {calibration * 1e3:.1f} "
                f"| {m.predicted * 1e3:.1f} | {m.measured * 1e3:.1f} | {m.error:+.1%} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The child: measure in this (fresh) namespace and write ``OUT/measured.json``."""
    parser = argparse.ArgumentParser(description="measure every family in this network namespace")
    parser.add_argument("out", type=Path)
    parser.add_argument("--plugin", type=Path, required=True)
    parser.add_argument("--family", nargs="*", default=[f.name for f in FAMILIES])
    args = parser.parse_args(argv)
    families = [family(name) for name in args.family]
    result = measure_here(args.out, args.plugin, families)
    (args.out / "measured.json").write_text(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
