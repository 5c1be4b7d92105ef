"""What ``tailtamer sde`` does once its arguments are parsed: check the output folder before computing (the
run-folder rule: never overwrite a folder that holds something), run with progress, write, and say what came out.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from ..errors import ConfigError
from ..rundir.progress import Ticker
from ..rundir.resume import check_out_path
from .lab import Lab, run_lab, write


def check_out(out: Path) -> None:
    """``out`` must be a new or empty folder (nothing written yet): one line otherwise."""
    check_out_path(out)
    if out.is_dir() and any(out.iterdir()):
        raise ConfigError(f"output folder {out} is not empty (an earlier lab run?); choose another --out or remove it")


def run_shown(lab: Lab, sde: bool | None, stream: TextIO | None = None, tty: bool | None = None) -> dict[str, Any]:
    """:func:`run_lab` with a progress bar on a terminal (a line every few seconds off one; ``tty`` overrides the
    detection)."""
    both = lab.settings.compare if sde is None else sde
    ticker = Ticker(lab.steps * (2 if both else 1), "steps", "sde", stream or sys.stderr, tty=tty, final_line=False)
    ticker.start()
    try:
        return run_lab(lab, sde=sde, tick=ticker.update)
    finally:
        ticker.finish()


def _final(r: dict[str, Any]) -> str:
    """The blow-up fraction and final mean f of one side (no mean when every path blew up)."""
    mean = r["mean"][-1]
    value = "none: every path blew up" if mean is None else f"{mean}"
    return f"blow-up {r['blow_up_fraction']:.3f}, final mean f {value}"


def headline(lab: Lab, result: dict[str, Any]) -> str:
    """The line ``tailtamer sde`` prints about a finished lab run."""
    line = (
        f"{lab.method.name}: {lab.steps} steps of eta = {lab.eta:g}, {lab.settings.paths} paths; discrete "
        f"{_final(result['discrete'])}"
    )
    if "sde" in result:
        gap = result["gap"]
        line += f"; SDE {_final(result['sde'])}; gap {'n/a' if gap is None else format(gap, '.4g')}"
    return line


def run_command(lab: Lab, out: Path, sde: bool | None) -> list[str]:
    """Check ``out``, run, write ``sde.json`` and ``sde.png`` there; the lines to print."""
    check_out(out)
    result = run_shown(lab, sde)
    write(result, out)
    return [headline(lab, result), f"wrote {out / 'sde.json'} and {out / 'sde.png'}"]
