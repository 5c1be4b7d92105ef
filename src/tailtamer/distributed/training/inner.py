"""tailtamer's inner transforms (BiClip, coordinate clipping, Adam, ...) as a ``torch.optim.Optimizer``.

``TransformOptimizer(params, "biclip", lr=0.01, u=1.0, d=0.01)`` steps ``x ← x − lr · T(g)`` with the registered
transform T (:mod:`tailtamer.operators.transforms`) on the flat ``[1, d]`` row of the parameters, its buffers
kept in torch's optimizer state (``state_dict`` in torch's layout). The transform reads ``t`` (the step, or
the round under :class:`~tailtamer.distributed.training.local_update.LocalUpdate`, which sets it) and ``k``
(its own update count, ≥ 1), exactly as TailOPT's inner loop calls it; ``lr`` lives in ``param_groups`` (one
per group), so torch's schedulers drive it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from ...operators import TRANSFORMS, Transform
from .flat import collect, evaluate, iterate_and_gradient, per_coordinate, publish, write


class TransformOptimizer(torch.optim.Optimizer):
    """``x ← x − lr · T(g)`` with a registered transform ``T`` (module docstring).

    Args:
        params: parameters or param groups (one dtype and device).
        transform: a registered transform name, or a built :class:`~tailtamer.operators.Transform`.
        lr: the step size (``param_groups``' ``lr``).
        **hyper: the transform's parameters (``u``, ``d``, ``beta1``, ...), validated like a config section.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        transform: str | Transform = "biclip",
        lr: float = 0.01,
        **hyper: Any,
    ):
        self.transform: Transform = (
            transform if isinstance(transform, Transform) else TRANSFORMS.build(transform, hyper, section="inner")
        )
        super().__init__(params, defaults={"lr": lr})
        self._params = [p for g in self.param_groups for p in g["params"]]
        self.round: int | None = None  # t handed to the transform; None: the step count

    def reset(self, round_: int) -> None:
        """Start a round: the transform sees ``t = round_`` and fresh zero buffers, ``k`` restarts at 1."""
        self.round = round_
        self.state.clear()

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One step from the gradients left by ``backward()``."""
        loss = evaluate(closure)
        x, g = iterate_and_gradient(self._params)
        found = collect(self.state, self._params)
        buffers = self.transform.init(x) if found is None else {k: v.to(x.dtype) for k, v in found[0].items()}
        steps = 0 if found is None else found[1]  # updates since the last reset
        t = steps if self.round is None else self.round
        direction, buffers = self.transform.update(g, buffers, t=t, k=steps + 1, x=x)
        lr = per_coordinate([grp["lr"] for grp in self.param_groups for _ in grp["params"]], self._params)
        write(self._params, x - lr * direction)
        publish(self.state, self._params, buffers, steps + 1)
        return loss
