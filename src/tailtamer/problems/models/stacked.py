"""n node models whose parameters are views into the rows of one node-stacked ``[n, d]`` tensor.

A :class:`ParamLayout` lays a module's parameters out in one flat vector of length d (in
``named_parameters`` order). Two ways compute the n local gradients of a loss, both writing straight into
the rows of a stacked gradient ``G [n, d]`` with no copy of parameters or gradients:

* :class:`StackedModels` (``backend = "loop"``): n module replicas. :meth:`StackedModels.bind` makes each
  replica's parameters aliases of the rows of ``X`` and their ``.grad`` aliases of the rows of ``G``; a
  per-node forward/backward then accumulates into ``G`` in place (autograd adds into an existing ``.grad``).
* :func:`vmap_backward` (``backend = "vmap"``): one module called through ``torch.func.functional_call`` and
  ``torch.func.vmap`` over the node axis, with parameters given as ``[n, *shape]`` views of ``X`` (leaves whose
  ``.grad`` are views of ``G``) — the n forward/backward passes become batched matrix products.

Example:
    >>> import torch, torch.nn as nn
    >>> layout = ParamLayout(nn.Linear(3, 2))
    >>> layout.dim, [s.name for s in layout.slots]
    (8, ['weight', 'bias'])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, vmap

#: loss(module outputs, targets) → scalar mean loss over the batch.
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Slot:
    """Where parameter ``name`` (owned by submodule ``owner`` as attribute ``attr``) sits in the flat vector."""

    name: str
    owner: str
    attr: str
    offset: int
    numel: int
    shape: tuple[int, ...]

    def row(self, x: torch.Tensor) -> torch.Tensor:
        """This parameter as a view of a flat vector ``x [d]``."""
        return x[self.offset : self.offset + self.numel].view(self.shape)

    def rows(self, X: torch.Tensor) -> torch.Tensor:
        """This parameter for every node, ``[n, *shape]``, as a view of ``X [n, d]``."""
        return X[:, self.offset : self.offset + self.numel].view(X.shape[0], *self.shape)


class ParamLayout:
    """The flat layout of a module's parameters (``dim`` = total number of parameters)."""

    def __init__(self, module: nn.Module):
        self.slots: list[Slot] = []
        offset = 0
        for name, p in module.named_parameters():
            owner, _, attr = name.rpartition(".")
            self.slots.append(Slot(name, owner, attr, offset, p.numel(), tuple(p.shape)))
            offset += p.numel()
        self.dim = offset

    def flatten(self, module: nn.Module) -> torch.Tensor:
        """The module's parameters as one flat vector ``[d]`` (a copy)."""
        return torch.cat([p.detach().reshape(-1) for p in module.parameters()])

    def params(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{name: view}`` of a flat vector ``x [d]`` (for ``functional_call``)."""
        return {s.name: s.row(x) for s in self.slots}


def _contiguous_rows(X: torch.Tensor) -> torch.Tensor:
    return X if X.is_contiguous() else X.contiguous()


class StackedModels:
    """``n_local`` replicas of ``factory()`` in ``dtype``/``device`` whose parameters can alias rows of X.

    Args:
        factory: builds the module (called ``n_local + 1`` times; the initial values do not matter here).
        n_local: number of replicas (rows of X).
    """

    def __init__(self, factory: Callable[[], nn.Module], n_local: int, dtype: torch.dtype, device: torch.device | str):
        self.models = [factory().to(dtype=dtype, device=device) for _ in range(n_local)]
        self.layout = ParamLayout(self.models[0])
        self._owners = [[(m.get_submodule(s.owner), s) for s in self.layout.slots] for m in self.models]

    def bind(self, X: torch.Tensor, G: torch.Tensor | None = None) -> None:
        """Point replica i's parameters at row i of ``X`` and (when given) their ``.grad`` at row i of ``G``.

        No data moves: every parameter becomes an alias of its slice of ``X`` (``requires_grad`` only when
        ``G`` is given), so a backward pass adds the gradient into ``G`` in place.
        """
        for i, owners in enumerate(self._owners):
            x, g = X[i], None if G is None else G[i]
            for module, slot in owners:
                p = nn.Parameter(slot.row(x), requires_grad=g is not None)
                if g is not None:
                    p.grad = slot.row(g)
                module._parameters[slot.attr] = p

    def backward(
        self, X: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor, loss_fn: LossFn, G: torch.Tensor
    ) -> torch.Tensor:
        """Per-node forward/backward: adds ``∇ loss_fn(model(inputs[i]), targets[i])`` at ``X[i]`` into ``G[i]``.

        Returns the n local losses ``[n_local]`` (detached).
        """
        self.bind(_contiguous_rows(X), G)
        losses = []
        for i, model in enumerate(self.models):
            loss = loss_fn(model(inputs[i]), targets[i])
            loss.backward()
            losses.append(loss.detach())
        self.bind(X.detach())  # drop the grad aliases (no graph kept)
        return torch.stack(losses)


def vmap_backward(
    module: nn.Module,
    layout: ParamLayout,
    X: torch.Tensor,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: LossFn,
    G: torch.Tensor,
) -> torch.Tensor:
    """All n local forward/backward passes in one ``vmap`` over the node axis; gradients go into ``G``.

    ``module`` supplies the architecture (and buffers); its own parameter values are not used.
    Returns the n local losses ``[n_local]``.
    """
    X = _contiguous_rows(X)
    leaves = {}
    for s in layout.slots:
        leaf = s.rows(X).detach().requires_grad_(True)
        leaf.grad = s.rows(G)
        leaves[s.name] = leaf

    def local_loss(params: dict[str, torch.Tensor], inp: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        return loss_fn(functional_call(module, params, (inp,)), tgt)

    losses = vmap(local_loss)(leaves, inputs, targets)
    with warnings.catch_warnings():  # row-slice gradients have the strides of G's rows, by design
        warnings.filterwarnings("ignore", message=".*gradient layout contract.*")
        losses.sum().backward()
    return losses.detach()
