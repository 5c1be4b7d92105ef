"""The state-layout part of the algorithm contract, checked at run time: a step returns a dict of tensors with
the keys and dtypes it was given (docs/extending.md; shapes are checked by ``tailtamer check``, as a state may
fill an empty placeholder at its first step: PowerSGD's warm-start Q). The lockstep loop checks the first step
of every run (cheap, and where a plugin's mistake shows), naming the algorithm and the property it broke."""

from __future__ import annotations

from typing import Any

import torch

from ..errors import ContractError

Layout = dict[str, tuple[tuple[int, ...] | None, torch.dtype]]


def layout(state: dict[str, torch.Tensor]) -> Layout:
    """Keys, shapes and dtypes of a state. The event engine's own bookkeeping (``engine.*``: job clock, events
    in flight, a delay histogram that grows with the largest delay seen) keeps its keys and dtypes only."""
    return {k: ((None if k.startswith("engine.") else tuple(v.shape)), v.dtype) for k, v in state.items()}


def check_step_layout(name: str, before: Layout, after: Any, t: int) -> None:
    """Raise :class:`ContractError` unless ``after`` (what step ``t`` returned) is a state laid out as ``before``."""
    where = f"algorithm '{name}' broke its contract (state layout): step {t}"
    if not isinstance(after, dict) or not all(isinstance(v, torch.Tensor) for v in after.values()):
        raise ContractError(f"{where} returned {type(after).__name__}, not a dict of tensors")
    if "x" not in after:
        raise ContractError(f"{where} returned no 'x'")
    if set(after) != set(before):
        k = sorted(set(after) ^ set(before))[0]
        raise ContractError(f"{where} {'dropped' if k in before else 'added'} the state key {k!r}")
    cast = [k for k, v in after.items() if v.dtype != before[k][1]]
    if cast:
        raise ContractError(f"{where} changed {cast[0]!r} from {before[cast[0]][1]} to {after[cast[0]].dtype}")
