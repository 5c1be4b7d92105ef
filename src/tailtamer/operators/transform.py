"""The stateful-transform contract shared by every family (optax-style ``init`` / ``update``).

A transform turns a gradient-like input ``g`` (node-stacked rows ``[n_local, ...]``, or a server's
``[1, ...]``) into an update *direction*; the caller applies ``x ← x − step·direction``. Its state is an
explicit ``dict[str, Tensor]`` of buffers shaped like ``g``, which the caller keeps (in the algorithm's
state, hence in checkpoints) and hands back at the next update:

    state = T.init(g_like)
    direction, state = T.update(g, state, t=t, k=k, x=x)

* ``t`` — the step or round (schedules such as BiClip's growing threshold read it);
* ``k`` — how many updates this transform has made, this one included (≥ 1; an int, or a tensor that
  broadcasts against ``g`` when rows have made different numbers of updates): bias corrections read it;
* ``x`` — the iterate ``g`` was computed at (decoupled weight decay reads it).

Transforms are registered in :data:`TRANSFORMS` (the registered ones live in
:mod:`~tailtamer.operators.transforms`); the constructor's signature is the config schema, as for every registry,
and validates its arguments before any compute (scikit-learn style: a bad value fails with the parameter's name and
allowed range). Two keyword-only arguments are not part of the schema: ``owner`` and ``prefix`` name the parameters
in messages as a config writes them (``bi2clip: outer_d must be ≤ outer_u``); a composite registry entry passes them
(see :class:`tailtamer.registry.Composite`). The local-update family (inner and outer optimizers), the asynchronous
family (operators applied on arrival) and the compressed family compose the same registered transforms.
:func:`chain` applies several in order.

Example:
    >>> import torch
    >>> T = chain(Scale(2.0), Scale(0.25))
    >>> d, st = T.update(torch.ones(1, 2), T.init(torch.ones(1, 2)))
    >>> d.tolist()
    [[0.5, 0.5]]
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import torch

from ..registry import Registry

Buffers = dict[str, torch.Tensor]

#: Registry of stateful transforms (see module docstring).
TRANSFORMS: Registry[Transform] = Registry("transform", context=("owner", "prefix"))


class Transform:
    """Base of every transform: no buffers, identity update (override :meth:`update`)."""

    #: The registered name (set by :data:`TRANSFORMS` at registration).
    name: ClassVar[str] = ""
    #: Names of the state buffers (each shaped like the input); what memory accounting counts.
    buffers: tuple[str, ...] = ()
    #: Whether :meth:`update` reads ``k`` (its own update count), so callers must keep one.
    counted: ClassVar[bool] = False

    def init(self, like: torch.Tensor) -> Buffers:
        """Zero buffers shaped like ``like``."""
        return {b: torch.zeros_like(like) for b in self.buffers}

    def update(
        self, g: torch.Tensor, state: Buffers, *, t: int = 0, k: Any = 1, x: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Buffers]:
        """``(direction, new state)``; ``state`` is not modified in place."""
        return g, state

    def hyperparameters(self) -> dict[str, Any]:
        """The constructor's arguments as stored (scikit-learn's ``get_params``): what a run folder records."""
        sig = inspect.signature(type(self).__init__)
        return {
            k: getattr(self, k) for k, p in sig.parameters.items() if k != "self" and p.kind == p.POSITIONAL_OR_KEYWORD
        }


@TRANSFORMS.register("identity")
class Identity(Transform):
    """identity: the input unchanged (plain SGD on the clients; averaging at the server)"""


class Scale(Transform):
    """``direction = factor · g`` (a stateless building block)."""

    def __init__(self, factor: float = 1.0):
        self.factor = float(factor)

    def update(self, g, state, *, t=0, k=1, x=None):
        return self.factor * g, state


class Chain(Transform):
    """Transforms applied in order; transform i's buffers are stored as ``"{i}.{name}"``."""

    def __init__(self, *transforms: Transform):
        self.transforms = transforms
        self.buffers = tuple(f"{i}.{b}" for i, T in enumerate(transforms) for b in T.buffers)
        self.counted = any(T.counted for T in transforms)  # type: ignore[misc]

    def init(self, like: torch.Tensor) -> Buffers:
        return {f"{i}.{b}": v for i, T in enumerate(self.transforms) for b, v in T.init(like).items()}

    def update(self, g, state, *, t=0, k=1, x=None):
        out: Buffers = {}
        for i, T in enumerate(self.transforms):
            mine = {b: state[f"{i}.{b}"] for b in T.buffers}
            g, mine = T.update(g, mine, t=t, k=k, x=x)
            out.update({f"{i}.{b}": v for b, v in mine.items()})
        return g, out


def chain(*transforms: Transform) -> Transform:
    """One transform applying ``transforms`` in order (see :class:`Chain`)."""
    return transforms[0] if len(transforms) == 1 else Chain(*transforms)
