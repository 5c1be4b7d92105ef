"""Checks for hyperparameters, raised at construction with the parameter's name and allowed range."""

from __future__ import annotations

import math

from .errors import ValidationError
from .registry import suggest


def check_range(
    name: str,
    value: float,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    owner: str = "",
) -> float:
    """Raise :class:`ValidationError` unless ``lo ≤ value ≤ hi`` (open ends when asked); return value."""
    where = f"{owner}: " if owner else ""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
        raise ValidationError(f"{where}{name} must be a number, got {value!r}")
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and (value >= hi if hi_open else value > hi)
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ValidationError(f"{where}{name} must be in {left}{lo_s}, {hi_s}{right}, got {value:g}")
    return value


def check_positive(name: str, value: float, owner: str = "") -> float:
    """``value > 0``."""
    return check_range(name, value, 0.0, None, lo_open=True, owner=owner)


def check_step_size(name: str, value: float, owner: str = "") -> float:
    """A step size: ``0 < value < inf`` (an infinite step is never meaningful)."""
    return check_range(name, value, 0.0, math.inf, lo_open=True, hi_open=True, owner=owner)


def check_nonneg(name: str, value: float, owner: str = "") -> float:
    """``value ≥ 0``."""
    return check_range(name, value, 0.0, None, owner=owner)


def check_int(name: str, value: int, lo: int, owner: str = "", note: str = "") -> int:
    """An integer ``≥ lo`` (``True``/``False`` are not integers here); ``note`` explains a special value."""
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        where = f"{owner}: " if owner else ""
        raise ValidationError(f"{where}{name} must be an integer ≥ {lo}{note}, got {value!r}")
    return value


def check_choice(name: str, value: str, choices: list[str] | tuple[str, ...], owner: str = "") -> str:
    """``value`` is one of ``choices``."""

    if value not in choices:
        where = f"{owner}: " if owner else ""
        raise ValidationError(
            f"{where}{name} must be one of {', '.join(map(repr, choices))}, got {value!r}{suggest(str(value), choices)}"
        )
    return value


def check_device(device: str) -> str:
    """``device`` names a torch device this machine has (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...)."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValidationError(f"[run] device {device!r} is not a torch device ({err}); use 'cpu' or 'cuda'") from None
    if dev.type == "cpu":
        return device
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch has no CUDA support" if torch.version.cuda is None else "torch sees no GPU"
            raise ValidationError(f"[run] device = {device!r} but {why} on this machine; use device = 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValidationError(
                f"[run] device = {device!r} but this machine has {torch.cuda.device_count()} "
                f"GPU(s) (cuda:0 … cuda:{torch.cuda.device_count() - 1})"
            )
        return device
    raise ValidationError(f"[run] device {device!r}: tailtamer runs on 'cpu' or 'cuda' devices")
