"""``tailtamer sde CONFIG [--out DIR] [--set section.key=value ...]``: a discrete method and its SDE side by side."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..config import load_toml, parse_value
from ..errors import ConfigError
from ..sde import build_lab, run_lab, write


def main(args: argparse.Namespace) -> int:
    cfg = load_toml(args.config)
    for item in args.overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"--set expects section.key=value, got {item!r}")
        path, value = item.split("=", 1)
        section, key = path.strip().split(".", 1)
        cfg.setdefault(section, {})[key.strip()] = parse_value(value.strip())
    lab = build_lab(cfg)
    result = run_lab(lab, sde=False if args.no_sde else None)
    out = Path(args.out or Path("runs") / "sde" / Path(args.config).stem)
    write(result, out)
    d = result["discrete"]
    line = (f"{lab.method.name}: {lab.steps} steps of eta = {lab.eta:g}, {lab.settings.paths} paths; discrete "
            f"blow-up {d['blow_up_fraction']:.3f}, final mean f {d['mean'][-1]}")
    if "sde" in result:
        line += (f"; SDE blow-up {result['sde']['blow_up_fraction']:.3f}, final mean f {result['sde']['mean'][-1]}; "
                 f"gap {result['gap']:.4g}")
    print(line)
    print(f"wrote {out / 'sde.json'} and {out / 'sde.png'}")
    return 0
