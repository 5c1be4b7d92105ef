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

#: benchmark script → [(JSON key, what it measures, target)]
ROWS: dict[str, list[tuple[str, str, str]]] = {
    "engine.py": [
        ("e1_n20_vectorized_vs_loop", "GT-NSGDm on E1 (n = 20): vectorized engine / per-node loop, steps/s", "—"),
        ("quadratic_n1000_vectorized_vs_loop",
         "GT-NSGDm, quadratic n = 1,000, d = 1,000, ring (wrapped-diagonal mixing), float32: vectorized / per-node loop", "≥ 20×"),
        ("sampler_vs_scipy", "α-stable sampling (α 1.5, skew 0.5), 1e6 draws: tailtamer / scipy.stats.levy_stable", "≥ 5×"),
        ("sampler_vs_scipy_one_thread", "the same with torch on one thread (scipy has one)", "—"),
    ],
    "model_overhead.py": [
        ("ratio_vs_single_model", "GT-NSGDm step of 8 GPT nodes (simulator) / one model on the 8·B batch, time", "≤ 1.15×"),
        ("ratio_vs_naive", "same step, simulator / naive (8 models, per-parameter Python mixing), time", "< 1"),
    ],
    "gossip.py": [
        ("ratio_gossip_vs_allreduce", "ring gossip `mix` / all_reduce at 1e6 floats, 4 gloo processes", "≤ 1.5×"),
    ],
    "local_update.py": [
        ("round_time_ratio_adam2_over_bi2clip", "round time, Adam² / Bi²Clip (d = 1e6, 8 clients, 5 local steps)", "—"),
        ("peak_rss_ratio_adam2_over_bi2clip", "peak memory added, Adam² / Bi²Clip", "—"),
    ],
}


def run(script: str, quick: bool) -> dict:
    cmd = [sys.executable, str(ROOT / "benchmarks" / script)] + (["--quick"] if quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="", help="comma-separated scripts (default: all that exist)")
    args = p.parse_args()
    scripts = [s for s in ROWS if (ROOT / "benchmarks" / s).exists()]
    if args.only:
        scripts = [s for s in scripts if s.split(".")[0] in args.only.split(",")]
    readme = (ROOT / "README.md").read_text()
    old = readme[readme.index(START) + len(START):readme.index(END)]
    wanted = {f"`{s}`: {k}" for s, rows in ROWS.items() for k, _, _ in rows}
    kept = {line.split("|")[1].strip(): line for line in old.splitlines()
            if line.startswith("| `") and line.split("|")[1].strip() in wanted}
    for script in scripts:
        result = run(script, args.quick)
        for key, what, target in ROWS[script]:
            if key in result:
                value = result[key]
                shown = f"{value:.3g}" if isinstance(value, float) else str(value)
                kept[f"`{script}`: {key}"] = f"| `{script}`: {key} | {what} | {shown} | {target} |"
    lines = ["", f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({platform.python_version()}), "
             f"{'quick' if args.quick else 'full'} settings; medians of interleaved repeats.", "",
             "| benchmark | what | ratio | target |", "|---|---|---|---|",
             *[kept[k] for k in (f"`{s}`: {key}" for s, rows in ROWS.items() for key, _, _ in rows) if k in kept], ""]
    i, j = readme.index(START) + len(START), readme.index(END)
    (ROOT / "README.md").write_text(readme[:i] + "\n".join(lines) + readme[j:])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
