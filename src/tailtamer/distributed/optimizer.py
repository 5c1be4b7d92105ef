"""A drop-in ``torch.optim.Optimizer`` that runs a registered decentralized algorithm across processes.

Each process is one node of the topology. After ``loss.backward()``, :meth:`DecentralizedOptimizer.step`
flattens the model's parameters and gradients into one ``[1, d]`` row, runs the algorithm's step — its
gossip included — over a :class:`~tailtamer.comm.distributed.DistributedComm`, and writes the new iterate
back into the parameters. The gradient oracle handed to the algorithm returns the gradient already computed
by ``backward()``, so only algorithms that take one gradient per step (the decentralized family) fit.

Example (``torchrun --nproc-per-node 4 train.py``)::

    import torch.distributed as dist
    from tailtamer.distributed import DecentralizedOptimizer

    dist.init_process_group("gloo")
    model = make_model()
    opt = DecentralizedOptimizer(model.parameters(), algorithm="gt-nsgdm", topology="ring", lr=0.01, beta=0.9)
    for batch in loader:
        opt.zero_grad()
        loss_fn(model(batch.x), batch.y).backward()
        opt.step()
"""
from __future__ import annotations

from typing import Any
from collections.abc import Callable, Iterable

import torch
import torch.distributed as dist

from ..algorithms import ALGORITHMS
from ..comm.backends import backend_for
from ..comm.distributed import DistributedComm
from ..topology import Topology, build_topology, validate_mixing
from .process_group import DEFAULT_TIMEOUT, init_from_env


class DecentralizedOptimizer(torch.optim.Optimizer):
    """This process is one node; ``step()`` performs one step of ``algorithm`` on the whole network.

    Args:
        params: the local model's parameters (one dtype and device).
        algorithm: a registered decentralized algorithm (``tailtamer list``), e.g. ``"gt-nsgdm"``.
        topology: a registered topology name (built with n = world size), a ``{"name": ..., **params}`` dict,
            or a :class:`~tailtamer.topology.Topology` with n = world size.
        steps: the horizon T (used by schedules and theory settings of the algorithm).
        timeout: seconds any exchange may wait before failing with an error naming the peer.
        sync_init: start every node from rank 0's parameters (the algorithms assume a common x₀).
        group: the process group (default: the global one; initialised from torchrun's environment if needed,
            with the backend that moves the parameters' device: gloo for CPU, NCCL for CUDA).
        **hyper: the algorithm's hyperparameters (``lr``, ``beta``, ...), validated like a config section.
    """

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict[str, Any]], algorithm: str = "gt-nsgdm",
                 topology: str | dict[str, Any] | Topology = "ring", *, steps: int = 1000,
                 timeout: float = DEFAULT_TIMEOUT, sync_init: bool = True, group: Any = None, **hyper: Any):
        super().__init__(params, defaults={})
        self._params = [p for g in self.param_groups for p in g["params"]]
        if not self._params:
            raise ValueError("DecentralizedOptimizer got an empty parameter list")
        if len({(p.dtype, p.device) for p in self._params}) != 1:
            raise ValueError("DecentralizedOptimizer needs all parameters on one dtype and device")
        if not dist.is_initialized():
            init_from_env(backend_for(self._params[0].device), timeout=timeout)
        world = dist.get_world_size(group)
        self.topology = _topology(topology, world)
        self.algorithm_name = algorithm
        self.algorithm = ALGORITHMS.build(algorithm, dict(hyper), section="algorithm", steps=steps)
        if getattr(self.algorithm, "family", "decentralized") != "decentralized":
            raise ValueError(f"'{algorithm}' is a {self.algorithm.family} algorithm; the drop-in optimizer runs "
                             f"decentralized (gossip) algorithms")
        validate_mixing(self.topology.W, requires=self.algorithm.requires)
        self.comm = DistributedComm(self.topology.W, group=group, timeout=timeout, device=self._params[0].device)
        if self.comm.n_local != 1:  # pragma: no cover - n = world by construction
            raise ValueError("the drop-in optimizer hosts exactly one node per process")
        self.t = 0
        self._state: dict[str, torch.Tensor] | None = None
        if sync_init:
            with torch.no_grad():
                flat = self.flat_params()
                dist.broadcast(flat, src=0, group=group)
                self._write(flat)

    # ---- the optimizer API ----------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One step of the algorithm (with its gossip) from the gradients left by ``backward()``."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        x = self.flat_params()
        g = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in self._params])
        g = g.reshape(1, -1).to(x.dtype)
        if self._state is None:
            self._state = self.algorithm.init(x, self.comm)
        calls = 0

        def oracle(_: torch.Tensor) -> torch.Tensor:
            nonlocal calls
            calls += 1
            if calls > 1:
                raise RuntimeError(f"'{self.algorithm_name}' asks for several gradients per step; the drop-in "
                                   f"optimizer has only the one computed by backward()")
            return g

        self._state = self.algorithm.step({**self._state, "x": x}, oracle, self.comm, self.t)
        self.t += 1
        self._write(self._state["x"])
        return loss

    def state_dict(self) -> dict[str, Any]:
        """This node's algorithm state (copies), step counter, and what it was built with."""
        state = None if self._state is None else {k: v.detach().clone() for k, v in self._state.items()}
        return {"algorithm": self.algorithm_name, "hyperparameters": self.algorithm.hyperparameters(),
                "topology": self.topology.name, "node": int(self.comm.nodes[0]), "t": self.t, "state": state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the model's parameters are restored by the model's own state dict)."""
        if state_dict["algorithm"] != self.algorithm_name:
            raise ValueError(f"state dict of '{state_dict['algorithm']}' loaded into '{self.algorithm_name}'")
        if state_dict["node"] != int(self.comm.nodes[0]):
            raise ValueError(f"state dict of node {state_dict['node']} loaded on node {int(self.comm.nodes[0])}")
        like = self._params[0]
        self.t = int(state_dict["t"])
        st = state_dict["state"]
        self._state = None if st is None else {k: v.to(dtype=like.dtype, device=like.device).clone()
                                               for k, v in st.items()}

    # ---- helpers --------------------------------------------------------------------------------
    def flat_params(self) -> torch.Tensor:
        """This node's parameters as one ``[1, d]`` row (a copy), in the order of ``params``."""
        return torch.cat([p.detach().reshape(-1) for p in self._params]).reshape(1, -1)

    def _write(self, flat: torch.Tensor) -> None:
        at = 0
        row = flat.reshape(-1)
        for p in self._params:
            k = p.numel()
            p.copy_(row[at: at + k].view_as(p))
            at += k


def _topology(spec: str | dict[str, Any] | Topology, world: int) -> Topology:
    if isinstance(spec, Topology):
        topo = spec
    else:
        spec = {"name": spec} if isinstance(spec, str) else dict(spec)
        name = spec.pop("name")
        spec.pop("n", None)
        topo = build_topology(name, world, spec, requires="none")
    if topo.n != world:
        raise ValueError(f"topology has n = {topo.n} nodes but there are {world} processes (one node each)")
    return topo
