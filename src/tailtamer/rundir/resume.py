"""Checking a run folder before a run starts: fresh, resumed from a checkpoint, or already complete.

Used alike by ``tailtamer run`` (the simulator), ``tailtamer launch`` and the ``torchrun`` entry point, so a
folder means the same thing to all of them. Rules (``resume``):

* ``False``: the folder must be missing or empty; a started or finished run is never overwritten.
* ``"strict"`` (``--resume``): the folder must exist and hold the same config (keys that differ are
  named); a finished run is left untouched and reported complete; otherwise it must hold a checkpoint.
* ``True`` (sweeps, the Python API): like ``"strict"``, but a missing folder, or one without a checkpoint,
  starts afresh.

``run.checkpoint_every`` may differ on resume: it does not change any result.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..config import dumps_toml, load_toml, resolve
from ..errors import ConfigError, StorageError, TailtamerError
from .atomic import atomic_write_text, storage_error
from .checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from .folder import CONFIG, METRICS, RunWriter, read_metrics, read_summary, truncate_metrics

#: Keys of a resolved config that do not change a run's numbers (ignored when comparing on resume).
OPERATIONAL = ("run.checkpoint_every",)

Resume = bool | Literal["strict"]


@dataclass
class Start:
    """How a run begins in its folder.

    Attributes:
        kind: ``"fresh"``, ``"resume"`` (from ``checkpoint``) or ``"complete"`` (nothing to run).
        checkpoint: the file name of the checkpoint to resume from (in the folder).
        summary: the finished run's summary when ``kind == "complete"``.
    """

    kind: str
    checkpoint: str = CHECKPOINT
    summary: dict[str, Any] | None = None

    @property
    def resuming(self) -> bool:
        return self.kind == "resume"


def folder_complete(out: str | Path) -> bool:
    """Whether ``out`` holds a finished run (``summary.json`` with ``status = "finished"``)."""
    summary = read_summary(Path(out))
    return summary is not None and summary.get("status") == "finished"


def flatten(cfg: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"run": {"seed": 1}}`` → ``{"run.seed": 1}`` (inline tables stay values)."""
    out: dict[str, Any] = {}
    for k, v in cfg.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and not prefix:
            out.update(flatten(v, f"{key}."))
        else:
            out[key] = v
    return out


def config_diff(here: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    """The dotted keys whose values differ between two resolved configs, as ``key: a (here) vs b (saved)``."""
    a, b = flatten(here), flatten(saved)
    out = []
    for key in sorted(set(a) | set(b)):
        if key in OPERATIONAL or a.get(key) == b.get(key):
            continue
        out.append(f"{key} = {a.get(key, '(unset)')!r} here vs {b.get(key, '(unset)')!r} in the folder")
    return out


def check_out_path(out: Path) -> None:
    """``--out`` can be a folder: neither it nor the nearest existing folder above it is a file (one line)."""
    if out.exists() and not out.is_dir():
        raise StorageError(f"--out {out} is a file, not a folder; choose a folder path")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise StorageError(f"--out {out} lies under {parent}, which is a file, not a folder")
            break


def _ensure_folder(out: Path) -> None:
    """Create ``out`` (and parents); a file in the way or an unwritable place is a one-line error."""
    check_out_path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise storage_error(err, out, "create the run folder") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise StorageError(f"cannot write the run folder {out}: permission denied")


def prepare_folder(resolved: dict[str, Any], out: str | Path, resume: Resume = False, previous: bool = False) -> Start:
    """Check the run folder ``out`` for ``resolved`` and write its ``config.toml`` (see the module docstring).

    ``previous``: resume from ``checkpoint.prev.pt`` (offered when the latest checkpoint is unreadable).
    Raises :class:`ConfigError` or :class:`StorageError` with one line saying what to do.
    """
    out = Path(out)
    strict = resume == "strict" or previous
    if out.exists() and not out.is_dir():
        raise StorageError(f"--out {out} is a file, not a folder; choose a folder path")
    started = out.is_dir() and any(out.iterdir())
    if not (resume or previous):
        if started:
            raise ConfigError(f"run folder {out} is not empty; pass --resume to continue it or choose another --out")
        _ensure_folder(out)
        atomic_write_text(out / CONFIG, dumps_toml(resolved))
        return Start("fresh")
    if strict and not out.exists():
        raise ConfigError(f"--resume: run folder {out} does not exist; run without --resume to start it")
    if strict and not started:
        raise ConfigError(
            f"--resume: run folder {out} is empty, there is nothing to resume; run without --resume to start it"
        )
    if (out / CONFIG).is_file():
        try:
            saved = resolve(load_toml(out / CONFIG))
        except TailtamerError as err:
            raise ConfigError(f"--resume: cannot read the config of {out}: {err}") from None
        diff = config_diff(resolved, saved)
        if diff:
            raise ConfigError(f"--resume: the config differs from the one in {out / CONFIG}: {'; '.join(diff)}")
    elif strict:
        raise ConfigError(f"--resume: {out} is not a run folder (it has no {CONFIG})")
    summary = read_summary(out)
    if summary is not None and summary.get("status") == "finished" and not previous:
        return Start("complete", summary=summary)
    if summary is not None and summary.get("status") == "diverged":
        raise ConfigError(
            f"--resume: the run in {out} diverged at step {summary.get('steps')} "
            "(see summary.json); resuming the same config diverges again, start a new folder"
        )
    name = PREVIOUS if previous else CHECKPOINT
    if (out / name).is_file():
        if previous and (out / CHECKPOINT).exists():  # keep the unreadable latest aside, never rotate it in
            try:
                os.replace(out / CHECKPOINT, out / f"{CHECKPOINT}.unreadable")
            except OSError as err:
                raise storage_error(err, out / CHECKPOINT, "move aside") from None
        atomic_write_text(out / CONFIG, dumps_toml(resolved))
        return Start("resume", checkpoint=name)
    if strict:
        hint = (
            f"; the previous checkpoint {out / PREVIOUS} exists: continue from it with --resume-previous"
            if not previous and (out / PREVIOUS).is_file()
            else "; remove the folder (or choose another --out) and run without --resume"
        )
        raise ConfigError(f"--resume: {out} holds no checkpoint ({name}){hint}")
    _ensure_folder(out)  # True without a checkpoint: start afresh
    atomic_write_text(out / CONFIG, dumps_toml(resolved))
    truncate_metrics(out, -1)
    return Start("fresh")


def missing_evaluations(folder: Path, step: int, eval_every: int) -> list[int]:
    """The evaluation steps (0 and the multiples of ``eval_every`` up to ``step``) that ``metrics.jsonl`` lacks."""
    have = {row.get("step") for row in read_metrics(folder)}
    return [s for s in range(0, step + 1, eval_every) if s not in have]


def record_missing_metrics(loop: Any, folder: Path, step: int) -> list[int]:
    """Name the evaluations ``metrics.jsonl`` lost before the checkpoint at ``step`` (a file cut short): one line
    on stderr, and the run's summary records them (``metrics_missing``) through its writer."""
    missing = missing_evaluations(folder, step, loop.eval_every)
    if missing:
        shown = ", ".join(map(str, missing[:8])) + (", ..." if len(missing) > 8 else "")
        print(
            f"tailtamer: note: {folder / METRICS} lacks {len(missing)} evaluation(s) before the checkpoint at "
            f"step {step} (steps {shown}); the run continues, and summary.json records them as metrics_missing",
            file=sys.stderr,
        )
        for cb in loop.callbacks:
            if isinstance(cb, RunWriter):
                cb.info["metrics_missing"] = missing
    return missing


def continue_from_checkpoint(
    loop: Any, folder: Path, name: str = CHECKPOINT, reader: Any = None, writes: bool = True
) -> Any:
    """Load checkpoint ``name`` of ``folder`` into ``loop`` and run it to its end; returns the final state.

    The metrics lines past the checkpoint are dropped first (only where this process ``writes`` the folder),
    and a run stopped after its last checkpoint but before its summary gets its final metrics evaluated
    again. ``reader``: how the file is read (:func:`~tailtamer.rundir.checkpoint.load_checkpoint`; a
    distributed run broadcasts rank 0's copy).
    """
    extra = {} if reader is None else {"reader": reader}
    state, step = load_checkpoint(folder, loop, name=name, **extra)
    if writes:
        truncate_metrics(folder, step)
        record_missing_metrics(loop, folder, step)
    if step >= loop.steps:
        loop.last_metrics = loop.evaluate(state)
    return loop.run(state, start_step=step)
