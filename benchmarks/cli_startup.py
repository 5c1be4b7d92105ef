"""CLI startup: wall time of a fresh ``tailtamer --help``, ``tailtamer run --help`` and ``tailtamer list``
(piped, and on a terminal, where rich draws its tables) against ``python -c "import torch"`` (the cost the
CLI avoids) and a bare ``python -c pass``.

    python benchmarks/cli_startup.py            # median of 11 interleaved runs each
    python benchmarks/cli_startup.py --quick    # 5 runs
    python benchmarks/cli_startup.py --src OTHER_CHECKOUT/src   # another version's code (before / after)

Each measurement starts a new interpreter running this checkout's ``src/`` (``PYTHONPATH``), as the
``tailtamer`` console script does (``from tailtamer.cli.main import main``), output to ``/dev/null`` (or to
a pseudo-terminal of 120 columns, read to the end, for ``list_terminal``); the commands are interleaved,
after one warm-up each (the files in the page cache), so load from other processes affects all alike.
Targets (issue 24): ``--help`` under 0.3 s and ``list`` under 1 s on an idle machine. The
1-minute load average before and after is printed with the figures, and beside each wall time the CPU time
of the process (user + system, ``*_cpu_s``), which a loaded machine inflates far less: on an idle machine
the two are close. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"
CLI = "import sys; from tailtamer.cli.main import main; sys.exit(main())"

#: measurement → the interpreter's arguments, and whether its output goes to a terminal.
COMMANDS: dict[str, tuple[list[str], bool]] = {
    "python": (["-c", "pass"], False),
    "import_torch": (["-c", "import torch"], False),
    "help": (["-c", CLI, "--help"], False),
    "run_help": (["-c", CLI, "run", "--help"], False),
    "list": (["-c", CLI, "list"], False),
    "list_terminal": (["-c", CLI, "list"], True),
}


def _cpu() -> float:
    """User + system seconds of the waited-for child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(argv: list[str], terminal: bool, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds from start to exit of ``python ARGV`` (stdout to /dev/null, or a terminal drained
    to EOF)."""
    t0, c0 = time.perf_counter(), _cpu()
    if terminal:
        _run_on_a_terminal(argv, env)
    else:
        subprocess.run([sys.executable, *argv], env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0, _cpu() - c0


def _run_on_a_terminal(argv: list[str], env: dict[str, str]) -> None:
    reader, writer = pty.openpty()
    proc = subprocess.Popen([sys.executable, *argv], env={**env, "COLUMNS": "120"}, stdout=writer)
    os.close(writer)
    try:
        while os.read(reader, 1 << 16):
            pass
    except OSError:  # EIO: the child exited and closed the terminal
        pass
    os.close(reader)
    if proc.wait() != 0:
        raise subprocess.CalledProcessError(proc.returncode, argv)


def run(quick: bool = False, src: Path = SRC) -> dict[str, Any]:
    """Median seconds of each command (the code of ``src``) and the ratios to ``import torch``."""
    repeats = 5 if quick else 11
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}
    load_before = os.getloadavg()[0]
    for argv, terminal in COMMANDS.values():
        _time(argv, terminal, env)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(repeats):
        for name, (argv, terminal) in COMMANDS.items():
            times[name].append(_time(argv, terminal, env))
    median = {name: statistics.median(wall for wall, _ in ts) for name, ts in times.items()}
    cpu = {name: statistics.median(c for _, c in ts) for name, ts in times.items()}
    torch_s = median["import_torch"]
    return {
        **{f"{name}_s": round(s, 4) for name, s in median.items()},
        **{f"{name}_cpu_s": round(s, 4) for name, s in cpu.items()},
        "help_over_import_torch": median["help"] / torch_s,
        "list_over_import_torch": median["list"] / torch_s,
        "repeats": repeats,
        "threads": os.environ.get("OMP_NUM_THREADS", "default"),
        "cores": os.cpu_count(),
        "load_1min_before": load_before,
        "load_1min_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="5 runs per command instead of 11")
    p.add_argument("--src", type=Path, default=SRC, help="the src/ folder whose tailtamer runs (default: this one)")
    args = p.parse_args(argv)
    result = run(args.quick, args.src)
    print(f"{'command':>14} {'median s':>9} {'/ import torch':>15} {'CPU s':>7}")
    for name in COMMANDS:
        print(
            f"{name:>14} {result[f'{name}_s']:>9.3f} {result[f'{name}_s'] / result['import_torch_s']:>15.3f} "
            f"{result[f'{name}_cpu_s']:>7.3f}"
        )
    print(
        f"load average (1 min): {result['load_1min_before']:.2f} before, {result['load_1min_after']:.2f} after; "
        f"{result['cores']} cores"
    )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
