"""Start-up of ``tailtamer launch``: how long N processes take before (and after) a run, on a cold start.

    python benchmarks/launch_startup.py            # 2 and 4 processes, 3 repeats each (and 4 with spawn)
    python benchmarks/launch_startup.py --quick    # 1 repeat

Each repeat is a fresh Python process (as a user's ``tailtamer launch`` is) that imports tailtamer, then launches
a tiny run (DSGD on a 4-node ring, 20 steps, d = 10, 1 torch thread per process) and reports

* ``startup`` = the launch's wall time minus the run's own clock (``wall_time_s`` of its summary): starting the
  ranks (the forkserver's one import of torch and tailtamer, forking, gloo rendezvous, building each rank's
  components) and ending them;
* ``run`` = the run's own clock, which starts when every rank is ready.

``--method spawn`` starts every rank as a fresh interpreter that imports torch and tailtamer itself (the launcher
before the forkserver), for comparison. The median over repeats is reported. The last line printed is one JSON
object: ``startup_s_2proc``, ``startup_s_4proc``, ``spawn_startup_s_4proc`` and ``threads``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CONFIG = {
    "problem": {"name": "quadratic", "dim": 10},
    "algorithm": {"name": "dsgd", "lr": 0.05},
    "topology": {"name": "ring", "n": 4},
    "run": {"steps": 20, "eval_every": 10},
}
THREADS = 1


def one(nproc: int, method: str) -> dict:
    """One cold launch in this (fresh) process: its start-up and run seconds."""
    t0 = time.perf_counter()
    from tailtamer import forkserver
    from tailtamer.distributed.run import launch

    imported = time.perf_counter() - t0
    if method == "spawn":
        import multiprocessing as mp

        forkserver.context = lambda modules=(): mp.get_context("spawn")  # the launcher before the forkserver
    out = Path(tempfile.mkdtemp(prefix="tailtamer-startup-")) / "run"
    t1 = time.perf_counter()
    summary = launch(CONFIG, out, nproc, plot=False, threads=THREADS)
    total = time.perf_counter() - t1
    return {
        "nproc": nproc,
        "method": method,
        "import_s": imported,
        "launch_s": total,
        "run_s": summary["wall_time_s"],
        "startup_s": total - summary["wall_time_s"],
    }


def measure(nproc: int, method: str, repeats: int) -> dict:
    """Median start-up of ``repeats`` cold launches (each in its own process)."""
    runs = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(nproc), "--method", method],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise SystemExit(f"launch of {nproc} processes failed:\n{done.stderr[-2000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in ("import_s", "launch_s", "run_s", "startup_s")}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="one repeat each")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--method", default="forkserver", choices=("forkserver", "spawn"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.method)))
        return
    repeats = 1 if args.quick else args.repeats
    result: dict = {"threads": f"{THREADS} per process", "repeats": repeats}
    for nproc, method in ((2, "forkserver"), (4, "forkserver"), (4, "spawn")):
        m = measure(nproc, method, repeats)
        prefix = "" if method == "forkserver" else "spawn_"
        result[f"{prefix}startup_s_{nproc}proc"] = round(m["startup_s"], 2)
        result[f"{prefix}detail_{nproc}proc"] = {k: round(v, 3) for k, v in m.items()}
        print(
            f"{nproc} processes ({method}): start-up {m['startup_s']:.2f} s, run {m['run_s']:.2f} s, "
            f"parent imports {m['import_s']:.2f} s (median of {repeats})",
            file=sys.stderr,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
