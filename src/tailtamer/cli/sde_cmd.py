"""``tailtamer sde CONFIG [--out DIR] [--set section.key=value ...]``: a discrete method and its SDE side by side."""
from __future__ import annotations

import argparse
from pathlib import Path

NAME = "sde"
HELP = ("run DSGD / DCSGD / DSignSGD and their SDE (Euler-Maruyama) on M paths; write mean and quantiles of f "
        "against t = k*eta, a plot and the gap")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="lab config: [problem], [method], [noise], [sde] (see tailtamer.sde.lab)")
    p.add_argument("--out", default=None, help="output folder (default runs/sde/<config name>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (repeatable), e.g. method.lr=0.005")
    p.add_argument("--no-sde", action="store_true", help="the discrete method only (e.g. for ν ≤ 2)")


def main(args: argparse.Namespace) -> int:
    from ..config import load_toml, parse_value
    from ..errors import ConfigError
    from ..sde import build_lab
    from ..sde.command import run_command

    cfg = load_toml(args.config)
    for item in args.overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"--set expects section.key=value, got {item!r}")
        path, value = item.split("=", 1)
        section, key = path.strip().split(".", 1)
        cfg.setdefault(section, {})[key.strip()] = parse_value(value.strip())
    lab = build_lab(cfg)
    out = Path(args.out or Path("runs") / "sde" / Path(args.config).stem)
    for line in run_command(lab, out, sde=False if args.no_sde else None):
        print(line)
    return 0
