"""Problems (gradient oracles). All n local gradients come from one batched expression."""

from __future__ import annotations

from typing import Any

import torch

from ..comm.base import Comm
from ..registry import Registry

#: Registry of problems; factories receive ``n`` (number of nodes) from the engine.
PROBLEMS: Registry[Problem] = Registry("problem", context=("n",))


class Problem:
    """The oracle contract.

    A problem is split into ``n`` local objectives f_i. Node-stacked inputs ``x`` are ``[n_local, d]`` for
    the global node ids ``nodes``. Subclasses implement :meth:`grad`, :meth:`x0` and :meth:`metrics`.

    Attributes:
        n: number of nodes it is partitioned over.
        dim: dimension d of a node's parameter vector.
        metric_names: names :meth:`metrics` returns; the first one is the headline metric.
        grad_takes_row_seeds: :meth:`grad` reads no per-node data and draws only through :mod:`tailtamer.rng`
            with ``(seed, nodes)``: a stacked run of a stacked sweep may then pass its row ids as ``nodes`` and
            its :class:`~tailtamer.rng.RowSeeds` as ``seed``, and every member draws its standalone numbers in
            one call (:class:`~tailtamer.engine.stacked.oracle.StackedOracle`; else one call per member).
    """

    n: int
    dim: int
    metric_names: tuple[str, ...] = ()
    grad_takes_row_seeds: bool = False
    #: The layout of a model's tensors in the flat parameter vector (model problems), else None.
    layout: Any = None

    def x0(self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> torch.Tensor:
        """The common initial point, shape ``[d]``."""
        raise NotImplementedError

    def grad(self, x: torch.Tensor, nodes: torch.Tensor, seed: int, step: int, call: int = 0) -> torch.Tensor:
        """Stochastic local gradients ``[n_local, d]`` (before any injected noise).

        Randomness (minibatches) must be a pure function of ``(seed, node, step, call)``.
        """
        raise NotImplementedError

    def metrics(self, x: torch.Tensor, comm: Comm) -> dict[str, float]:
        """Evaluation metrics of the node-stacked iterate (reductions over nodes go through ``comm``)."""
        raise NotImplementedError
