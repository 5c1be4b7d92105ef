"""Building a run from a config: one place where registries meet (no compute before validation ends)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import torch

from .algorithms import ALGORITHMS, Algorithm
from .comm import SimulatedComm
from . import threads
from .compression import build_compressor
from .config import resolve
from .engine import Callback, Loop
from .errors import ValidationError
from .noise import NOISES, NoiseModel
from .problems import PROBLEMS, Problem
from .topology import SERVER, Topology, build_topology
from .validation import check_device

DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass
class Components:
    """Everything a run is made of, built from a resolved config."""

    config: dict[str, Any]
    problem: Problem
    algorithm: Algorithm
    topology: Topology | None      # None for methods that never gossip (no matrix is built)
    noise: NoiseModel | None
    n: int = 0

    def topology_info(self) -> dict[str, Any]:
        """What a summary records of the topology: name, n, and ρ where there is a graph."""
        name = self.config["topology"]["name"]
        if self.topology is None:
            return {"name": name, "n": self.n, "rho": None}
        return {"name": self.topology.name, "n": self.topology.n, "rho": self.topology.rho}


def _params(section: dict[str, Any], drop: tuple[str, ...] = ("name",)) -> dict[str, Any]:
    return {k: v for k, v in section.items() if k not in drop}


def build_components(cfg: dict[str, Any], resolved: bool = False) -> Components:
    """Resolve ``cfg`` (unless already resolved) and build problem, algorithm, topology and noise.

    The topology's mixing matrix is validated against the algorithm's requirement (e.g. doubly
    stochastic for gradient tracking) before anything is computed.
    """
    cfg = cfg if resolved else resolve(cfg)
    run = cfg["run"]
    check_device(run["device"])
    topo_cfg = cfg["topology"]
    algorithm = ALGORITHMS.build(cfg["algorithm"]["name"], _params(cfg["algorithm"]), section="algorithm",
                                 steps=run["steps"], **_compression(cfg))
    if run.get("time", 0.0) > 0 and algorithm.family != "async":
        raise ValidationError(f"[run] time (a simulated-time limit) applies to asynchronous methods only; "
                              f"'{cfg['algorithm']['name']}' runs in lockstep: use [run] steps")
    topology = _topology(topo_cfg, algorithm, cfg["algorithm"]["name"])
    n = topology.n if topology is not None else topo_cfg["n"]
    problem = PROBLEMS.build(cfg["problem"]["name"], _params(cfg["problem"]), section="problem", n=n)
    noise_name = cfg["noise"]["name"]
    noise = None if noise_name == "none" else NOISES.build(noise_name, _params(cfg["noise"]), section="noise")
    return Components(cfg, problem, algorithm, topology, noise, n)


def _compression(cfg: dict[str, Any]) -> dict[str, Any]:
    """``{"compressor": ...}`` for an algorithm that compresses (``compresses = True``; no section: identity)."""
    name, section = cfg["algorithm"]["name"], cfg.get("compression")
    if not getattr(ALGORITHMS.get(name), "compresses", False):
        if section is not None:
            raise ValidationError(f"algorithm '{name}' does not compress its messages: remove [compression]")
        return {}
    compressor = build_compressor(section)
    if compressor.stateful and not getattr(ALGORITHMS.get(name), "carries_compressor_state", False):
        raise ValidationError(f"compressor '{compressor.name}' keeps state between steps, which algorithm '{name}' "
                              "does not carry; use a server method (dcsgd, ef, ef21) or another compressor")
    return {"compressor": compressor}


def _topology(topo_cfg: dict[str, Any], algorithm: Algorithm, alg_name: str) -> Topology | None:
    """The validated topology, or None for a method that never gossips (its matrix is not even built)."""
    name = topo_cfg["name"]
    if not algorithm.uses_graph():
        if name == SERVER or topo_cfg["n"] > 0:
            return None
    elif name == SERVER:
        raise ValidationError(f"algorithm '{alg_name}' gossips over a graph, and topology '{SERVER}' has none: "
                              f"choose ring, complete, exponential, torus, ...")
    return build_topology(name, topo_cfg["n"], _params(topo_cfg, ("name", "n")), requires=algorithm.requires,
                          algorithm=alg_name)


def simulated_comm(c: Components) -> SimulatedComm:
    """The in-process comm of ``c``'s topology (no graph for topology ``server``: ``comm.mean`` only)."""
    W = c.topology.W if c.topology is not None else None
    return SimulatedComm(W, kernel=c.config["run"]["mixing"], n=c.n)


def make_loop(c: Components, callbacks: Iterable[Callback] = (), comm: Any = None,
              replay: str | Path | None = None, partial_replay: bool = False) -> Loop:
    """A :class:`~tailtamer.engine.Loop` over the simulated comm (or the ``comm`` given); for an asynchronous
    method (family ``"async"``), the event engine :class:`~tailtamer.engine.events.loop.AsyncLoop`, or with
    ``replay`` (a real asynchronous run's folder) the :class:`~tailtamer.engine.events.replay.ReplayLoop` of
    its arrival log (checked complete by :func:`~tailtamer.rundir.arrivals.read_log`, unless ``partial_replay``).

    A simulated loop sets torch's threads for its size (:func:`tailtamer.threads.resolve`: the count pinned
    by ``--threads``, else one per 2**20 state entries; an event loop sizes for one worker's job); a given
    comm's process keeps its launcher's count.
    """
    run = c.config["run"]
    if c.algorithm.family == "async":
        from .engine.events.loop import make_async_loop

        if comm is not None:
            raise ValidationError(f"'{c.config['algorithm']['name']}' is asynchronous: a real run is a server and "
                                  f"workers (tailtamer launch, tailtamer.distributed.asynchronous.run), not one loop over "
                                  f"a comm; make_loop builds its simulated event engine")
        threads.apply(threads.resolve(1, c.problem.dim))     # the engine computes one worker's job at a time
        if replay is not None:
            from .engine.events.replay import ReplayLoop
            from .rundir.arrivals import read_log

            return make_async_loop(c, callbacks, ReplayLoop, rows=read_log(replay, partial_replay).rows)
        return make_async_loop(c, callbacks)
    if replay is not None:
        raise ValidationError(f"--replay replays a real asynchronous run; '{c.config['algorithm']['name']}' "
                              f"runs in lockstep")
    if comm is None:
        comm = simulated_comm(c)
        threads.apply(threads.resolve(c.n, c.problem.dim))
    return Loop(c.problem, c.algorithm, comm, noise=c.noise, seed=run["seed"], steps=run["steps"],
                eval_every=run["eval_every"], dtype=DTYPES[run["dtype"]], device=run["device"],
                callbacks=callbacks, check_finite=run["check_finite"])


def build(cfg: dict[str, Any], callbacks: Iterable[Callback] = ()) -> Loop:
    """Config dict → ready-to-run simulated :class:`~tailtamer.engine.Loop`."""
    return make_loop(build_components(cfg), callbacks)
