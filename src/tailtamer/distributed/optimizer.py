"""A drop-in ``torch.optim.Optimizer`` that runs a registered decentralized algorithm across processes.

Each process is one node of the topology. After ``loss.backward()``, :meth:`DecentralizedOptimizer.step`
flattens the model's parameters and gradients into one ``[1, d]`` row, runs the algorithm's step — its
gossip included — over a :class:`~tailtamer.comm.distributed.DistributedComm`, and writes the new iterate
back into the parameters. The gradient oracle handed to the algorithm returns the gradient already computed
by ``backward()``, so only algorithms that take one gradient per step (the decentralized family) fit.

It behaves as a torch optimizer does:

* the hyperparameters live in ``param_groups`` (``lr``, ``beta``, ...), so every ``torch.optim.lr_scheduler``
  drives it. At step t the algorithm uses each group's current ``lr`` where its own schedule would use
  ``lr_t``; several groups may have different ``lr`` (a per-coordinate step size), the other
  hyperparameters are shared by all groups;
* ``state_dict()`` is torch's layout (``{"state": {index: {"step", "v", "y", ...}}, "param_groups": [...]}``,
  each state entry shaped like its parameter), so ``torch.save``/``load_state_dict`` and
  ``torch.distributed.checkpoint`` resume it.

Example (``torchrun --nproc-per-node 4 train.py``)::

    from tailtamer.distributed import DecentralizedOptimizer

    model = make_model()
    opt = DecentralizedOptimizer(model.parameters(), algorithm="gt-nsgdm", topology="ring", lr=0.01, beta=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
    for batch in loader:
        opt.zero_grad()
        loss_fn(model(batch.x), batch.y).backward()
        opt.step()
        sched.step()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from ..algorithms import ALGORITHMS
from ..comm.distributed import DistributedComm
from ..compression import build_compressor
from ..rng import Randomness
from ..topology import Topology, build_topology, validate_mixing
from .process_group import DEFAULT_TIMEOUT
from .training.flat import collect, evaluate, flatten, iterate_and_gradient, per_coordinate, publish, write
from .training.guard import SetupError, check_shapes, require_group
from .training.oracle import BackwardOracle

#: Algorithm arguments that a torch scheduler replaces.
SCHEDULE_ARGS = ("schedule", "warmup")


@dataclass(frozen=True)
class GroupStep:
    """The step size the algorithm sees: the param groups' current ``lr`` (a float, or a ``[1, d]`` row)."""

    value: float | torch.Tensor

    def __call__(self, t: int) -> float | torch.Tensor:
        return self.value


class DecentralizedOptimizer(torch.optim.Optimizer):
    """This process is one node; ``step()`` performs one step of ``algorithm`` on the whole network.

    Args:
        params: the local model's parameters, or param groups (dicts with ``params`` and an optional ``lr``);
            one dtype and device.
        algorithm: a registered decentralized algorithm (``tailtamer list``), e.g. ``"gt-nsgdm"``.
        topology: a registered topology name (built with n = world size), a ``{"name": ..., **params}`` dict,
            or a :class:`~tailtamer.topology.Topology` with n = world size.
        steps: the horizon T (used by theory settings of the algorithm).
        timeout: seconds any exchange may wait before failing with an error naming the peer.
        sync_init: start every node from rank 0's parameters (the algorithms assume a common x₀).
        group: the process group (default: the global one; joined from torchrun's environment if needed,
            with gloo for CPU and NCCL for CUDA parameters).
        compression: for a compressing algorithm (``choco-sgd``, ``gt-nsgdm-choco``): its ``[compression]``
            section, ``{"name": "top-k", "k": 10}`` (default identity).
        seed: the seed of the counter-based randomness (random compressors), drawn per (seed, node, step).
        **hyper: the algorithm's hyperparameters (``lr``, ``beta``, ...), validated like a config section;
            ``schedule``/``warmup`` are refused: use a ``torch.optim.lr_scheduler``.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        algorithm: str = "gt-nsgdm",
        topology: str | dict[str, Any] | Topology = "ring",
        *,
        steps: int = 1000,
        timeout: float = DEFAULT_TIMEOUT,
        sync_init: bool = True,
        group: Any = None,
        compression: dict[str, Any] | None = None,
        seed: int = 0,
        **hyper: Any,
    ):
        for key in SCHEDULE_ARGS:
            if key in hyper:
                raise SetupError(
                    f"DecentralizedOptimizer takes no {key!r}: drive param_groups' lr with a "
                    f"torch.optim.lr_scheduler instead"
                )
        compresses = getattr(ALGORITHMS.get(algorithm), "compresses", False)
        extra = {"compressor": build_compressor(compression)} if compresses else {}
        if compression is not None and not extra:
            raise SetupError(f"'{algorithm}' does not compress its messages: drop compression")
        built = ALGORITHMS.build(algorithm, dict(hyper), section="algorithm", steps=steps, **extra)
        if getattr(built, "family", "decentralized") != "decentralized":
            raise SetupError(
                f"'{algorithm}' is a {built.family} algorithm; the drop-in optimizer runs "
                f"decentralized (gossip) algorithms"
            )
        self._hyper_keys = [k for k in built.hyperparameters() if k != "lr"]
        super().__init__(params, defaults=dict(built.hyperparameters()))
        self._params = [p for g in self.param_groups for p in g["params"]]
        if not self._params:
            raise SetupError("DecentralizedOptimizer got an empty parameter list")
        if len({(p.dtype, p.device) for p in self._params}) != 1:
            raise SetupError("DecentralizedOptimizer needs all parameters on one dtype and device")
        require_group(self._params[0].device, timeout)
        check_shapes(
            [
                (f"group {gi} parameter {i}", p)
                for gi, g in enumerate(self.param_groups)
                for i, p in enumerate(g["params"])
            ],
            group,
        )
        self.topology = _topology(topology, dist.get_world_size(group))
        self.algorithm_name, self.algorithm, self.seed = algorithm, built, int(seed)
        validate_mixing(self.topology.W, requires=self.algorithm.requires)
        self.comm = DistributedComm(self.topology.W, group=group, timeout=timeout, device=self._params[0].device)
        self._state: dict[str, torch.Tensor] | None = None
        if sync_init:
            with torch.no_grad():
                flat = self.flat_params()
                dist.broadcast(flat, src=0, group=group)
                write(self._params, flat)

    @property
    def t(self) -> int:
        """Steps taken (0 before the first)."""
        first = self.state.get(self._params[0], {})
        return int(first["step"]) if "step" in first else 0

    # ---- the optimizer API ----------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One step of the algorithm (with its gossip) from the gradients left by ``backward()``."""
        loss = evaluate(closure)
        x, g = iterate_and_gradient(self._params)
        state = self._state if self._state is not None else self.algorithm.init(x, self.comm)
        self._apply_groups()
        t = self.t
        oracle = BackwardOracle(g, Randomness(self.seed, self.comm.nodes, t), self.algorithm_name)
        self._state = self.algorithm.step({**state, "x": x}, oracle, self.comm, t)
        write(self._params, self._state["x"])
        self._publish(t + 1)
        return loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (torch's layout); the model's parameters come from the model's own."""
        super().load_state_dict(state_dict)
        found = collect(self.state, self._params)
        if found is None:
            self._state = None
            return
        x = self.flat_params()
        self._state = {"x": x, **{k: v.to(x.dtype) for k, v in found[0].items()}}

    # ---- helpers --------------------------------------------------------------------------------
    def flat_params(self) -> torch.Tensor:
        """This node's parameters as one ``[1, d]`` row (a copy), in the order of ``params``."""
        return flatten(self._params)

    def _apply_groups(self) -> None:
        """Hand the param groups' hyperparameters to the algorithm (``lr`` per coordinate, the rest shared)."""
        lrs = [g["lr"] for g in self.param_groups for _ in g["params"]]
        lr = per_coordinate(lrs, self._params)
        if hasattr(self.algorithm, "_lr"):
            self.algorithm._lr = GroupStep(lr)
        else:
            self.algorithm.lr = lr
        for key in self._hyper_keys:
            values = {repr(g[key]) for g in self.param_groups}
            if len(values) > 1:
                raise SetupError(f"param groups differ in {key!r}; only 'lr' may differ between groups")
            setattr(self.algorithm, key, self.param_groups[0][key])

    def _publish(self, t: int) -> None:
        """Expose the algorithm state in ``self.state``: per parameter, views shaped like it, and the step."""
        assert self._state is not None
        publish(self.state, self._params, {k: v for k, v in self._state.items() if k != "x"}, t)


def _topology(spec: str | dict[str, Any] | Topology, world: int) -> Topology:
    if isinstance(spec, Topology):
        topo = spec
    else:
        spec = {"name": spec} if isinstance(spec, str) else dict(spec)
        name = spec.pop("name")
        spec.pop("n", None)
        topo = build_topology(name, world, spec, requires="none")
    if topo.n != world:
        raise SetupError(f"topology has n = {topo.n} nodes but there are {world} processes (one node each)")
    return topo
