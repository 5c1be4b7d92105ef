"""Lab runs in run folders, for studies: one folder per lab config, ``config.toml`` + ``sde.json``.

A folder holding ``sde.json`` of the same config is finished (a study that stops resumes at the next cell); a
finished folder of another config is a ConfigError, raised before anything runs (never overwritten, never
taken for the job's result). ``sde.json`` is what ``tailtamer sde --out`` writes (without the plot: a study
draws its own).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import threads
from ..config import dumps_toml, load_toml
from ..errors import ConfigError
from ..rundir.atomic import atomic_write_json, atomic_write_text
from .lab import build_lab, run_lab

RESULT, CONFIG = "sde.json", "config.toml"
Job = tuple[Path, dict[str, Any]]


def finished(folder: Path, cfg: dict[str, Any]) -> bool:
    """Whether ``folder`` holds the result of ``cfg`` (ConfigError if it holds another config's)."""
    folder = Path(folder)
    if not (folder / RESULT).exists():
        return False
    if (folder / CONFIG).exists() and load_toml(folder / CONFIG) == json.loads(json.dumps(cfg)):
        return True
    raise ConfigError(
        f"{folder} holds a finished lab run of a different config than this study's cell; "
        "remove it or run the study into another folder"
    )


def pending(jobs: Sequence[Job]) -> list[Job]:
    """The jobs whose folder holds no finished run yet."""
    return [(Path(f), c) for f, c in jobs if not finished(Path(f), c)]


def read(folder: Path) -> dict[str, Any] | None:
    """A finished folder's ``sde.json`` (None while it is not run)."""
    path = Path(folder) / RESULT
    return json.loads(path.read_text()) if path.exists() else None


def run_folder(folder: str | Path, cfg: dict[str, Any]) -> str:
    """Run one lab config into ``folder`` (config first, result last, both atomically)."""
    threads.fix(1)
    folder = Path(folder)
    lab = build_lab(cfg)  # every validation error before the folder exists
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / CONFIG, dumps_toml(cfg))
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_lab(lab)
    result["seconds"], result["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
    atomic_write_json(folder / RESULT, result)
    return str(folder)
