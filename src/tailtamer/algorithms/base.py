"""The algorithm contract: explicit state in, explicit state out, communication only through ``comm``.

An algorithm is a small class whose constructor stores and validates hyperparameters (nothing is computed
there) and whose :meth:`Algorithm.step` reads like the update equations of its paper. State is a
``dict[str, Tensor]`` of node-stacked tensors ``[n_local, d]`` that always holds ``"x"``; it is what a
checkpoint saves and what a torch.distributed run keeps per process.
"""
from __future__ import annotations

from typing import Callable, ClassVar

import torch

from ..comm.base import Comm
from ..registry import Registry

State = dict[str, torch.Tensor]
#: The oracle: node-stacked iterate → node-stacked stochastic gradient (may be called several times a step).
Oracle = Callable[[torch.Tensor], torch.Tensor]

#: Registry of algorithms; factories receive ``steps`` (the horizon T) from the engine.
ALGORITHMS: Registry["Algorithm"] = Registry("algorithm", context=("steps",))


class Algorithm:
    """Base class of every registered method.

    Class attributes:
        family: ``"decentralized"``, ``"local-update"``, ``"async"`` or ``"compressed"``.
        requires: the property the mixing matrix must have (``"doubly_stochastic"``, ``"row_stochastic"``
            or ``"none"``); the engine validates the topology against it before any compute.
    """

    family: ClassVar[str] = "decentralized"
    requires: ClassVar[str] = "doubly_stochastic"
    name: ClassVar[str] = ""

    def init(self, x0: torch.Tensor, comm: Comm) -> State:
        """Initial state from the node-stacked initial point ``x0`` (``[n_local, d]``)."""
        return {"x": x0.clone()}

    def step(self, s: State, grad: Oracle, comm: Comm, t: int) -> State:
        """One step t → t+1: returns the new state (the old one is not modified in place)."""
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, object]:
        """The constructor arguments as stored (for run folders and reports)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and not callable(v)}
