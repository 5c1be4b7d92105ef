"""Local updates in real training, in the style of torchft's DiLoCo: each worker runs H steps of an inner
optimizer, then the pseudo-gradients are averaged and a registered TailOPT outer transform moves the model,
identically on every worker (Lee, Zaheer, Li, ICML 2025, arXiv 2502.04164; Douillard et al. 2023, DiLoCo).

One round t, as :class:`tailtamer.algorithms.local_update.tailopt.LocalUpdate` writes it::

    x_{i,0} = x_t;   x_{i,r+1} = x_{i,r} − η_ℓ·Inner(g_{i,r})  r = 0 … H−1   (the inner optimizer, H = sync_every)
    Δ_t = mean_i (x_t − x_{i,H})                                             (one all-reduce, or the codec's packets)
    x_{t+1} = x_t − η·Outer(Δ_t)                                             (the method's outer transform)

Usage (``torchrun --nproc-per-node N train.py``)::

    lu = LocalUpdate(model, "bi2clip", sync_every=5)        # inner: the method's own (BiClip) as a torch optimizer
    for x, y in loader:
        lu.inner.zero_grad()
        loss_fn(model(x), y).backward()
        lu.inner.step()                                     # every 5th step also synchronises

``inner`` may instead be any torch optimizer over the model's parameters (``SGD``, ``AdamW``, ...). With
``reset_inner`` (the method's default, true) the inner optimizer's state is cleared at every round, as in the
simulator. ``compression`` (a ``[compression]``-style spec) sends the pseudo-gradients as the codec's packets.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from ...algorithms import ALGORITHMS
from ...algorithms.local_update.tailopt import LocalUpdate as TailOPT
from ...comm.distributed import DistributedComm
from ...comm.health import DEFAULT_TIMEOUT
from ...compression import build_compressor
from ...rng import Randomness
from .flat import flatten, write
from .guard import SetupError, check_shapes, require_group
from .inner import TransformOptimizer


class LocalUpdate:
    """A TailOPT method (``bi2clip``, ``diloco``, ``adam2``, ``fedavg``, any ``{outer}-{inner}`` pair) driving a
    model under torchrun (module docstring).

    Args:
        model: this worker's model (its parameters are synchronised from rank 0's at construction).
        method: a registered local-update method; its ``outer`` transform and ``outer_lr`` are used, and its
            inner transform and ``lr`` when ``inner`` is None.
        inner: a torch optimizer over ``model``'s parameters, or None for the method's inner transform as a
            :class:`~tailtamer.distributed.training.inner.TransformOptimizer`.
        sync_every: H, inner steps per round (default: the method's ``local_steps``).
        compression: a compressor spec for the averaging (``{"name": "top-k", "k": 100}``); None: dense.
        steps: the horizon T in rounds (the schedules').
        seed: the seed of random compressors.
        **hyper: the method's hyperparameters (``outer_lr``, ``u``, ``outer_d``, ``reset_inner``, ...).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        method: str = "bi2clip",
        inner: torch.optim.Optimizer | None = None,
        *,
        sync_every: int | None = None,
        compression: str | dict[str, Any] | None = None,
        steps: int = 1000,
        seed: int = 0,
        group: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        **hyper: Any,
    ):
        if "clients" in hyper:
            raise SetupError(
                "LocalUpdate: every worker takes part in every round; client sampling is the "
                "simulator's (drop 'clients')"
            )
        if sync_every is not None:
            hyper["local_steps"] = sync_every
        algorithm = ALGORITHMS.build(method, dict(hyper), section="algorithm", steps=steps)
        if not isinstance(algorithm, TailOPT):
            raise SetupError(f"LocalUpdate: '{method}' is not a local-update (TailOPT) method")
        self.params = list(model.parameters())
        require_group(self.params[0].device, timeout)
        check_shapes(list(model.named_parameters()), group)
        self.algorithm, self.method = algorithm, method
        self.sync_every, self.reset_inner = algorithm.local_steps, algorithm.reset_inner
        self._own_inner = inner is None  # then lr follows the method's schedule over rounds
        self.inner = (
            inner if inner is not None else TransformOptimizer(self.params, algorithm.inner, lr=algorithm._lr(0))
        )
        self.comm = DistributedComm(
            None, group=group, timeout=timeout, device=self.params[0].device, n=dist.get_world_size(group)
        )
        self.compressor = (
            None
            if compression is None
            else build_compressor({"name": compression} if isinstance(compression, str) else compression)
        )
        if self.compressor is not None and self.compressor.stateful:
            raise SetupError(
                "LocalUpdate: a stateful compressor (powersgd) needs a server method to carry its "
                "state; choose top-k, rand-k, qsgd, sign or scaled-sign"
            )
        self.seed, self.round, self.count = int(seed), 0, 0
        with torch.no_grad():
            x0 = flatten(self.params)
            dist.broadcast(x0, src=0, group=group)
            write(self.params, x0)
        self.anchor = x0  # x_t, the model at the start of the round
        self.outer_state = algorithm.outer.init(x0)
        self._begin_round()
        self.inner.register_step_post_hook(lambda *_: self._after_inner_step())

    def _begin_round(self) -> None:
        if self._own_inner:
            for group in self.inner.param_groups:
                group["lr"] = self.algorithm._lr(self.round)
        if isinstance(self.inner, TransformOptimizer):
            if self.reset_inner:
                self.inner.reset(self.round)
            else:
                self.inner.round = self.round
        elif self.reset_inner:
            self.inner.state.clear()

    def _after_inner_step(self) -> None:
        self.count += 1
        if self.count == self.sync_every:
            self.sync()

    @torch.no_grad()
    def sync(self) -> None:
        """End the round: average the pseudo-gradients, apply the outer transform, start the next round."""
        t, x = self.round, self.anchor
        local = flatten(self.params).to(x.dtype)
        if self.compressor is None:
            delta = self.comm.mean(x - local)
        else:
            codec = self.compressor.codec(Randomness(self.seed, self.comm.nodes, t), call=0)
            delta = self.comm.mean(x - local, codec=codec)
        direction, self.outer_state = self.algorithm.outer.update(delta, self.outer_state, t=t, k=t + 1, x=x)
        self.anchor = x - self.algorithm._outer_lr(t) * direction
        write(self.params, self.anchor)
        self.round, self.count = t + 1, 0
        self._begin_round()

    def state_dict(self) -> dict[str, Any]:
        """The round, the inner step within it, x_t and the outer buffers (the inner optimizer saves its own)."""
        return {
            "method": self.method,
            "round": self.round,
            "count": self.count,
            "anchor": self.anchor.clone(),
            "outer": {k: v.clone() for k, v in self.outer_state.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; then restore the inner optimizer's own state dict."""
        if state["method"] != self.method:
            raise SetupError(f"LocalUpdate state of '{state['method']}' loaded into '{self.method}'")
        self.round, self.count = int(state["round"]), int(state["count"])
        self.anchor = state["anchor"].clone()
        self.outer_state = {k: v.clone() for k, v in state["outer"].items()}
        if isinstance(self.inner, TransformOptimizer):
            self.inner.round = self.round
