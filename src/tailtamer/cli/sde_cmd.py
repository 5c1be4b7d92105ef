"""``tailtamer sde CONFIG [--out DIR] [--set section.key=value ...]``: a discrete method and its SDE side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import load_toml, parse_value
from ..errors import ConfigError
from ..sde import build_lab
from ..sde.command import run_command


def main(args: argparse.Namespace) -> int:
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
