"""Run a config into a run folder (fresh or resumed)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..api import build_components, make_loop
from ..config import dumps_toml, load_toml, resolve
from ..engine import Callback, Checkpointer, ProgressBar, RunWriter, load_checkpoint
from ..engine.checkpoint import CHECKPOINT
from ..engine.run_dir import SUMMARY, atomic_write_text, truncate_metrics
from ..engine.run_dir import atomic_write_json
from ..errors import ConfigError, NonFiniteError

CONFIG = "config.toml"


def run_info(c: Any) -> dict[str, Any]:
    """The fields a summary records about what ran."""
    cfg, topo = c.config, c.topology_info()
    return {"algorithm": cfg["algorithm"]["name"], "problem": cfg["problem"]["name"],
            "noise": cfg["noise"]["name"], "seed": cfg["run"]["seed"],
            "topology": topo,
            "title": f"{cfg['algorithm']['name']} on {cfg['problem']['name']} ({topo['name']}, n={topo['n']}, "
                     f"noise {cfg['noise']['name']}, seed {cfg['run']['seed']})"}


def write_diverged(out: Path, err: NonFiniteError, last_metrics: dict[str, float], info: dict[str, Any],
                   wall_time: float | None = None) -> None:
    """The ``summary.json`` of a run stopped by NaN/Inf: ``status = "diverged"``, where and what, and the
    metrics of its last evaluation (``metrics`` stays empty: there is no final value)."""
    atomic_write_json(Path(out) / SUMMARY, {
        "status": "diverged", "error": str(err), "metrics": {}, "last_metrics": last_metrics, "steps": err.step,
        "diverged": {"step": err.step, "node": err.node, "what": err.what}, "wall_time_s": wall_time, **info})


def prepare_folder(resolved: dict[str, Any], out: Path, resume: bool) -> bool:
    """Check the run folder and write the resolved ``config.toml``; returns whether a checkpoint is resumed.

    A non-empty folder is an error unless ``resume``; resuming needs the same resolved config as the saved
    one; ``resume`` on a folder without a checkpoint starts afresh (dropping its metrics lines).
    """
    out = Path(out)
    has_checkpoint = (out / CHECKPOINT).exists()
    if resume and has_checkpoint:
        if resolve(load_toml(out / CONFIG)) != resolved:
            raise ConfigError(f"--resume: the config differs from the one in {out / CONFIG}")
    elif out.exists() and any(out.iterdir()) and not resume:
        raise ConfigError(f"run folder {out} is not empty; pass --resume to continue it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / CONFIG, dumps_toml(resolved))
    if resume and not has_checkpoint:
        truncate_metrics(out, -1)
    return resume and has_checkpoint


def run_config(cfg: dict[str, Any], out: str | Path, resume: bool = False, progress: bool = True,
               plot: bool = True, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run ``cfg`` writing the run folder ``out``; returns the summary.

    ``callbacks``: extra :class:`~tailtamer.engine.Callback` objects, or functions ``folder -> Callback``
    (e.g. a gradient-noise recorder writing into the run folder), run after the built-in ones.

    With ``resume``, a folder holding a checkpoint continues from it (the config must be the same);
    without it, a folder that already holds a finished or started run is an error rather than overwritten.
    """
    resolved = resolve(cfg)
    out = Path(out)
    c = build_components(resolved, resolved=True)   # every validation error is raised before the folder exists
    resuming = prepare_folder(resolved, out, resume)
    writers: list[Callback] = [RunWriter(out, run_info(c), plot=plot),
                               Checkpointer(out, resolved["run"]["checkpoint_every"])]
    if progress:
        writers.append(ProgressBar())
    writers += [cb if isinstance(cb, Callback) else cb(out) for cb in callbacks]
    loop = make_loop(c, writers)
    try:
        if resuming:
            state, step = load_checkpoint(out, loop)
            truncate_metrics(out, step)
            loop.run(state, start_step=step)
        else:
            loop.run()
    except NonFiniteError as err:
        write_diverged(out, err, loop.last_metrics, run_info(c), loop.wall_time)
        raise
    return json.loads((out / SUMMARY).read_text())
