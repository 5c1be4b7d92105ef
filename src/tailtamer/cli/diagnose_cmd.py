"""``tailtamer diagnose RUN_DIR`` — plot and tabulate the gradient-noise measurements of a run folder;
``tailtamer diagnose --run CONFIG --out DIR --every K`` — run a config while measuring them."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import apply_overrides, load_toml, resolve
from ..diagnostics import NOISE_FILE, GradientNoise, plot_noise, read_noise
from ..errors import ConfigError, DataNotFoundError
from ..experiments.runner import run_config
from ..validation import check_int
from .render import print_markdown


def _run(args: argparse.Namespace) -> Path:
    if not args.out:
        raise ConfigError("diagnose --run needs --out DIR (the run folder to write)")
    check_int("--every", args.every, 0, note=" (0: 8 times a run)")  # before the run folder exists
    check_int("--draws", args.draws, 1)
    check_int("--large-batch", args.large_batch, 0, note=" (0: 16·B)")
    cfg = apply_overrides(load_toml(args.run), args.overrides)
    steps = resolve(cfg)["run"]["steps"]
    every = args.every or max(steps // 8, 1)

    def noise(folder: str) -> GradientNoise:
        return GradientNoise(
            folder,
            every=every,
            steps=[1],
            draws=args.draws,
            large_batch=args.large_batch or None,
        )

    run_config(cfg, args.out, callbacks=[noise])
    return Path(args.out)


def main(args: argparse.Namespace) -> int:
    folder = _run(args) if args.run else (Path(args.run_dir) if args.run_dir else None)
    if folder is None:
        raise ConfigError("give a RUN_DIR, or --run CONFIG --out DIR")
    rows = read_noise(folder)
    if not rows:
        raise DataNotFoundError(
            f"no gradient-noise measurements ({NOISE_FILE}) in {folder}; record them with "
            f"'tailtamer diagnose --run CONFIG --out DIR' or the GradientNoise callback"
        )
    lines = ["| step | α̂ Mohammadi (mean / min..max over nodes) | α̂ Hill | median ‖noise‖ |", "|---|---|---|---|"]
    for r in rows:
        norms = sorted(v for node in r["noise_norms"] for v in node)
        am, ah = r["alpha_mohammadi"], r["alpha_hill"]
        lines.append(
            f"| {r['step']} | {r['alpha_mohammadi_mean']:.3f} ({min(am):.3f}..{max(am):.3f}) | "
            f"{r['alpha_hill_mean']:.3f} ({min(ah):.3f}..{max(ah):.3f}) | {norms[len(norms) // 2]:.4g} |"
        )
    print_markdown("\n".join(lines))
    path = plot_noise(rows, args.plot or Path(folder) / "noise.png", title=str(folder))
    print(f"plot: {path}")
    return 0
