"""Regenerate the README's benchmark table from the benchmark scripts' JSON lines.

Runs each benchmark (``--quick`` with ``--quick``), takes the last line it prints (one JSON object), and
rewrites the table between ``<!-- benchmarks:start -->`` and ``<!-- benchmarks:end -->`` in README.md.

    python benchmarks/update_readme.py [--quick] [--only engine,gossip]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"

#: benchmark script (with its arguments, if any) → [(JSON key, what it measures, target, threads, dtype)].
#: ``threads`` is a JSON key of the script's output holding the thread count it used, or a fixed count as
#: text; ``dtype`` the precision.
ROWS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "engine.py": [
        (
            "e1_n20_vectorized_vs_loop",
            "GT-NSGDm on E1 (n = 20): vectorized engine / per-node loop, steps/s",
            "—",
            "e1_threads",
            "float64",
        ),
        (
            "quadratic_n1000_vectorized_vs_loop",
            "GT-NSGDm, quadratic n = 1,000, d = 1,000, ring (wrapped-diagonal mixing): vectorized / per-node loop",
            "—",
            "quadratic_threads",
            "float32",
        ),
        (
            "quadratic_n1000_vectorized_vs_loop_all_cores",
            ("the same with one thread per core (torch's default, the setting of the ≥ 20× target)"),
            "≥ 20×",
            "quadratic_all_cores_threads",
            "float32",
        ),
        (
            "sampler_vs_scipy",
            "α-stable sampling (α 1.5, skew 0.5), 1e6 draws: tailtamer / scipy.stats.levy_stable",
            "≥ 5×",
            "2 (torch default)",
            "float64",
        ),
        ("sampler_vs_scipy_one_thread", "the same with torch on one thread (scipy has one)", "—", "1", "float64"),
    ],
    "sampler.py": [
        (
            "sampler_cost_vs_torch_rand",
            "counter-based uniforms / `torch.rand`, 1e6 draws, time",
            "≤ 2×",
            "uniform_threads",
            "float64",
        ),
        (
            "alpha_stable_cost_vs_torch_rand",
            "α-stable draws (CMS) / `torch.rand`, 1e6 draws, time",
            "—",
            "uniform_threads",
            "float64",
        ),
    ],
    "scale.py": [
        (
            "scaling_exponent_n_ge_1e4",
            ("GT-NSGDm step time ∝ n^x on the quadratic, ring, d = 10, n = 1e4…1e6 (1 = linear; plot below)"),
            "≈ 1",
            "threads_by_n",
            "float32",
        ),
        ("largest_n_peak_rss_gb", "peak memory (GB) of that run at n = 1e6, d = 10", "≤ 24", "threads_by_n", "float32"),
        (
            "n10k_d1k_f32_steps_per_s_none",
            "GT-NSGDm steps/s, quadratic n = 10,000, d = 1,000, no noise",
            "≥ 10",
            "n10k_d1k_threads",
            "float32",
        ),
        (
            "n10k_d1k_f32_steps_per_s_alpha_stable",
            "the same with α-stable noise (α 1.5, skew 0.5)",
            "≥ 5",
            "n10k_d1k_threads",
            "float32",
        ),
    ],
    "model_overhead.py": [
        (
            "ratio_vs_single_model",
            "GT-NSGDm step of 8 GPT nodes (simulator) / one model on the 8·B batch, time",
            "≤ 1.15×",
            "threads",
            "float32",
        ),
        (
            "ratio_vs_naive",
            "same step, simulator / naive (8 models, per-parameter Python mixing), time",
            "< 1",
            "threads",
            "float32",
        ),
    ],
    "gossip.py": [
        (
            "ratio_gossip_vs_allreduce",
            "ring gossip `mix` / all_reduce at 1e6 floats, 4 gloo processes",
            "≤ 1.5×",
            "1 per process",
            "float32",
        ),
    ],
    "local_update.py": [
        (
            "round_time_ratio_adam2_over_bi2clip",
            "round time, Adam² / Bi²Clip (d = 1e6, 8 clients, 5 local steps)",
            "—",
            "threads",
            "float32",
        ),
        ("peak_rss_ratio_adam2_over_bi2clip", "peak memory added, Adam² / Bi²Clip", "—", "threads", "float32"),
    ],
    "compression.py": [
        (
            "top1_bytes_ratio",
            "bytes on the wire, top-1% / dense (1e6 floats, ring of 4 gloo processes)",
            "—",
            "threads",
            "float32",
        ),
        ("sign_bytes_ratio", "the same, sign (bits packed 8 to a byte) / dense", "1/32", "threads", "float32"),
        ("qsgd4_bytes_ratio", "the same, QSGD 4-bit (levels + norm) / dense", "—", "threads", "float32"),
        ("top1_time_ratio", "time per gossip step, top-1% / dense (encode + send + decode)", "—", "threads", "float32"),
    ],
    "sde.py": [
        (
            "sde_over_discrete_median",
            (
                "SDE path-steps/s / discrete path-steps/s, M = 10,000 paths, d = 10 "
                "(median over DSGD, DCSGD, DSignSGD × 2 noises)"
            ),
            "—",
            "threads",
            "float64",
        ),
    ],
    "sweep.py": [
        (
            "sweep_speedup",
            "E1 tuning grid (66 runs × T = 3000): today's sweep / stacked sweep, time, 2 workers",
            "≥ 8×",
            "threads",
            "float64",
        ),
    ],
    "sweep.py --grid tailopt": [
        (
            "sweep_speedup",
            (
                "TailOPT tuning grid (272 local-update runs × 200 rounds of 5 local steps): today's sweep / "
                "stacked sweep, time, 2 workers"
            ),
            "—",
            "threads",
            "float64",
        ),
    ],
    "cli_startup.py": [
        (
            "help_s",
            "`tailtamer --help`, seconds from start to exit (a fresh process; no torch imported)",
            "< 0.3",
            "threads",
            "—",
        ),
        ("list_s", "`tailtamer list`, the same (read from the registry index), piped", "< 1", "threads", "—"),
        ("list_terminal_s", "`tailtamer list` on a terminal (rich draws 1,300 table rows)", "< 1", "threads", "—"),
        ("help_over_import_torch", '`tailtamer --help` / `python -c "import torch"`, time', "—", "threads", "—"),
        (
            "help_cpu_s",
            "`tailtamer --help`, CPU seconds (user + system; less sensitive to load than wall time)",
            "—",
            "threads",
            "—",
        ),
        ("list_terminal_cpu_s", "`tailtamer list` on a terminal, CPU seconds", "—", "threads", "—"),
    ],
    "launch_startup.py": [
        (
            "startup_s_2proc",
            (
                "`tailtamer launch` start-up (and end), 2 processes, cold: launch wall time − the run's "
                "own clock, seconds (median)"
            ),
            "—",
            "threads",
            "float64",
        ),
        ("startup_s_4proc", "the same, 4 processes", "—", "threads", "float64"),
        (
            "spawn_startup_s_4proc",
            "the same, 4 processes each importing torch itself (the launcher before its forkserver)",
            "—",
            "threads",
            "float64",
        ),
    ],
    "async_engine.py": [
        (
            "events_per_lockstep_gradient",
            ("async simulator events/s / lockstep gradients/s of the same work (1,000 workers, d = 10,000)"),
            "—",
            "threads",
            "float64",
        ),
        (
            "real_over_simulated",
            (
                "real / simulated time per server update, ASGD, server + 3 workers on 4 gloo "
                "processes, d = 10,000, 0.01 s per timing unit"
            ),
            "—",
            "1 per process",
            "float64",
        ),
    ],
    "cluster_validation.py": [
        (
            "worst_error",
            (
                "cluster model vs real `launch` runs, 4 gloo processes in a namespace, 5 cases × (tbf 100 Mbit/s, "
                "α = 50 ms): worst relative error of the predicted time per unit"
            ),
            "≤ 0.15",
            "1 per process",
            "float64",
        ),
    ],
    "cluster_clock.py": [
        (
            "gossip_priced_over_ideal",
            "simulated clock's cost: steps/s on a priced network / on the ideal one, GT-NSGDm ring n = 16, d = 10",
            "—",
            "threads",
            "float64",
        ),
        (
            "compressed_priced_over_ideal",
            "the same, EF21 with top-k, n = 16, d = 50 (a compressed average per step)",
            "—",
            "threads",
            "float64",
        ),
        (
            "asynchronous_priced_over_ideal",
            "the same, ASGD on 16 workers, d = 10 (two link bookings per job)",
            "—",
            "threads",
            "float64",
        ),
    ],
}


def threads_shown(result: dict, spec: str) -> str:
    """The thread count a row used: the JSON value under ``spec`` (a dict of counts shown as their range),
    else ``spec`` itself."""
    if spec not in result:
        return spec
    value = result[spec]
    if isinstance(value, dict):
        counts = sorted(set(value.values()))
        return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    return str(value)


def run(script: str, quick: bool) -> dict:
    name, *extra = script.split()
    cmd = [sys.executable, str(ROOT / "benchmarks" / name), *extra] + (["--quick"] if quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _widen(line: str) -> str:
    """A row kept from an older table without the threads and dtype columns gets them from :data:`ROWS`."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 6:
        return line
    spec = {f"`{s}`: {k}": (t, d) for s, rows in ROWS.items() for k, _, _, t, d in rows}[cells[0]]
    threads = spec[0] if " " in spec[0] or spec[0].isdigit() else "—"
    return "| " + " | ".join(cells[:4] + [threads, spec[1]]) + " |"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="", help="comma-separated scripts (default: all that exist)")
    args = p.parse_args()
    scripts = [s for s in ROWS if (ROOT / "benchmarks" / s.split()[0]).exists()]
    if args.only:
        scripts = [s for s in scripts if s.split(".")[0] in args.only.split(",")]
    readme = (ROOT / "README.md").read_text()
    old = readme[readme.index(START) + len(START) : readme.index(END)]
    wanted = {f"`{s}`: {k}" for s, rows in ROWS.items() for k, *_ in rows}
    kept = {
        line.split("|")[1].strip(): _widen(line)
        for line in old.splitlines()
        if line.startswith("| `") and line.split("|")[1].strip() in wanted
    }
    for script in scripts:
        result = run(script, args.quick)
        print(f"{script}: {json.dumps(result)}", flush=True)
        for key, what, target, threads, dtype in ROWS[script]:
            if key in result:
                value = result[key]
                shown = f"{value:.3g}" if isinstance(value, float) else str(value)
                kept[f"`{script}`: {key}"] = (
                    f"| `{script}`: {key} | {what} | {shown} | {target} | {threads_shown(result, threads)} | {dtype} |"
                )
    lines = [
        "",
        (
            f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({platform.python_version()}), "
            f"{'quick' if args.quick else 'full'} settings; medians of interleaved repeats."
        ),
        "",
        "| benchmark | what | value | target | threads | dtype |",
        "|---|---|---|---|---|---|",
        *[kept[k] for k in (f"`{s}`: {key}" for s, rows in ROWS.items() for key, *_ in rows) if k in kept],
        "",
    ]
    i, j = readme.index(START) + len(START), readme.index(END)
    (ROOT / "README.md").write_text(readme[:i] + "\n".join(lines) + readme[j:])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
