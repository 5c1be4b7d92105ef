"""A list of parameters as one ``[1, d]`` row, and back: how the training wrappers hand a model to the
node-stacked algorithms, operators and compressors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch


def flatten(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The tensors concatenated into one ``[1, d]`` row (a copy)."""
    return torch.cat([t.detach().reshape(-1) for t in tensors]).reshape(1, -1)


def write(params: Sequence[torch.Tensor], row: torch.Tensor) -> None:
    """Copy the ``[1, d]`` (or ``[d]``) ``row`` into ``params`` in order (in place, without autograd)."""
    flat, at = row.reshape(-1), 0
    with torch.no_grad():
        for p in params:
            k = p.numel()
            p.copy_(flat[at : at + k].view_as(p))
            at += k


def split(row: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Views of the ``[1, d]`` row shaped like each tensor of ``like`` (in order)."""
    flat, out, at = row.reshape(-1), [], 0
    for p in like:
        out.append(flat[at : at + p.numel()].view_as(p))
        at += p.numel()
    return out


def per_coordinate(values: Sequence[float], like: Sequence[torch.Tensor]) -> float | torch.Tensor:
    """One scalar per tensor of ``like`` spread over its coordinates: a ``[1, d]`` row, or the float itself
    when every tensor has the same value (so a one-group optimizer multiplies by exactly that float)."""
    if len(set(values)) == 1:
        return float(values[0])
    return torch.cat(
        [torch.full((p.numel(),), float(v), dtype=p.dtype, device=p.device) for v, p in zip(values, like)]
    ).reshape(1, -1)


def publish(state: dict, params: Sequence[torch.Tensor], buffers: dict[str, torch.Tensor], step: int) -> None:
    """Expose flat ``[1, d]`` ``buffers`` as a torch optimizer's per-parameter ``state``: for every parameter,
    ``{"step": tensor(step), name: view shaped like it, ...}`` (torch's layout, so ``state_dict`` and
    ``torch.distributed.checkpoint`` see ordinary optimizer state)."""
    d = sum(p.numel() for p in params)
    for k, v in buffers.items():
        if v.numel() != d:
            raise ValueError(f"optimizer state {k!r} has {v.numel()} values for {d} parameters")
    views = {k: split(v, params) for k, v in buffers.items()}
    marker = torch.tensor(float(step))
    for i, p in enumerate(params):
        state[p] = {"step": marker, **{k: vs[i] for k, vs in views.items()}}


def collect(state: dict, params: Sequence[torch.Tensor]) -> tuple[dict[str, torch.Tensor], int] | None:
    """The inverse of :func:`publish`: ``(flat [1, d] buffers, step)``, or None when the state is empty."""
    entries = [state.get(p, {}) for p in params]
    if "step" not in entries[0]:
        return None
    keys = [k for k in entries[0] if k != "step"]
    return {k: flatten([e[k] for e in entries]) for k in keys}, int(entries[0]["step"])


def evaluate(closure: Callable[[], Any] | None) -> Any:
    """A torch optimizer's ``closure()`` with gradients enabled (None without one)."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def iterate_and_gradient(params: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, g)``: the parameters and the gradients ``backward()`` left (zeros where none) as ``[1, d]`` rows."""
    x = flatten(params)
    return x, flatten([p.grad if p.grad is not None else torch.zeros_like(p) for p in params]).to(x.dtype)
