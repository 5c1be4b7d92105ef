"""Building a run from a config: the one place where the registries meet (no compute before validation ends).

:func:`build_components` resolves a config and builds everything a run is made of, once: the algorithm, the
timing model of an event-driven scheme, the topology, the problem and the noise model. Every validation error
is raised here, before a run folder exists, and the memory estimate (:mod:`tailtamer.rundir.footprint`) is made
before the mixing matrix and before the ``[n, d]`` state are allocated. :func:`make_loop` picks the loop from
what the method *is*: an :class:`~tailtamer.algorithms.base.Algorithm` runs in lockstep, an
:class:`~tailtamer.algorithms.asynchronous.base.AsyncScheme` on the event engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import threads
from .algorithms import ALGORITHMS
from .algorithms.asynchronous.base import AsyncScheme
from .algorithms.base import Algorithm
from .cluster import Clock, Cluster, build_section, default_cluster
from .comm import SimulatedComm
from .compression import build_compressor
from .config import resolve
from .dtypes import DTYPES
from .engine import Callback, Loop
from .engine.events.loop import AsyncLoop
from .engine.events.replay import ReplayLoop
from .errors import ValidationError
from .noise import NOISES, NoiseModel
from .problems import PROBLEMS, Problem
from .rundir.arrivals import read_log
from .rundir.footprint import check_memory
from .timing import TIMINGS, TimingModel
from .topology import SERVER, Topology, build_topology
from .validation import check_device

__all__ = [
    "DTYPES",
    "Components",
    "build",
    "build_components",
    "make_async_loop",
    "make_loop",
    "problem_size",
    "simulated_comm",
]


@dataclass
class Components:
    """Everything a run is made of, built once from a resolved config."""

    config: dict[str, Any]
    problem: Problem
    algorithm: Algorithm | AsyncScheme
    topology: Topology | None  # None for methods that never gossip (no matrix is built)
    noise: NoiseModel | None
    n: int = 0
    timing: TimingModel | None = None  # the workers' compute times of an event-driven scheme
    cluster: Cluster | None = None  # the simulated cluster the run is timed on (sim_time)

    @property
    def event_driven(self) -> bool:
        """Whether the method runs on the event engine (an :class:`AsyncScheme`) rather than in lockstep."""
        return isinstance(self.algorithm, AsyncScheme)

    def topology_info(self) -> dict[str, Any]:
        """What a summary records of the topology: name, n, and ρ where there is a graph."""
        name = self.config["topology"]["name"]
        if self.topology is None:
            return {"name": name, "n": self.n, "rho": None}
        return {"name": self.topology.name, "n": self.topology.n, "rho": self.topology.rho}


def _params(section: dict[str, Any], drop: tuple[str, ...] = ("name",)) -> dict[str, Any]:
    return {k: v for k, v in section.items() if k not in drop}


def build_components(cfg: dict[str, Any], resolved: bool = False, processes: int = 1, check: bool = True) -> Components:
    """Resolve ``cfg`` (unless already resolved) and build algorithm, timing model, topology, problem and noise.

    The topology's mixing matrix is validated against the algorithm's requirement (e.g. doubly stochastic for
    gradient tracking) before anything is computed. With ``check`` the memory estimate runs twice: before the
    mixing matrix is built (its stored bytes, for ``processes`` processes building it) and before the state is
    (the problem's dimension known); a run that cannot fit raises :class:`~tailtamer.errors.ResourceError`.
    """
    cfg = cfg if resolved else resolve(cfg)
    run = cfg["run"]
    check_device(run["device"])
    topo_cfg = cfg["topology"]
    algorithm = ALGORITHMS.build(
        cfg["algorithm"]["name"],
        _params(cfg["algorithm"]),
        section="algorithm",
        steps=run["steps"],
        **_compression(cfg),
    )
    event_driven = isinstance(algorithm, AsyncScheme)
    if run.get("time", 0.0) > 0 and not event_driven:
        raise ValidationError(
            f"[run] time (a simulated-time limit) applies to asynchronous methods only; "
            f"'{cfg['algorithm']['name']}' runs in lockstep: use [run] steps"
        )
    graph = _needs_graph(topo_cfg, algorithm, cfg["algorithm"]["name"])
    if check:
        check_memory(cfg, algorithm, processes=processes, graph=graph)  # before W or the problem data exist
    topology = _topology(topo_cfg, algorithm, cfg["algorithm"]["name"]) if graph else None
    n = topology.n if topology is not None else topo_cfg["n"]
    timing = None
    if "cluster" in cfg:
        cluster = build_section(cfg["cluster"], n, run["seed"])
        timing = cluster.compute if event_driven else None
    else:
        if event_driven:
            timing_cfg = dict(cfg["timing"])
            timing = TIMINGS.build(timing_cfg.pop("name"), timing_cfg, section="timing", n=n, seed=run["seed"])
        cluster = default_cluster(n, run["seed"], timing)
    problem = PROBLEMS.build(cfg["problem"]["name"], _params(cfg["problem"]), section="problem", n=n)
    algorithm.check_dim(problem.dim)
    noise_name = cfg["noise"]["name"]
    noise = None if noise_name == "none" else NOISES.build(noise_name, _params(cfg["noise"]), section="noise")
    if check:
        check_memory(cfg, algorithm, dim=problem.dim, processes=processes, graph=graph)  # before the state
    return Components(cfg, problem, algorithm, topology, noise, n, timing, cluster)


def _compression(cfg: dict[str, Any]) -> dict[str, Any]:
    """``{"compressor": ...}`` for an algorithm that compresses (``compresses = True``; no section: identity)."""
    name, section = cfg["algorithm"]["name"], cfg.get("compression")
    entry = ALGORITHMS.get(name)
    if not getattr(entry, "compresses", False):
        if section is not None:
            raise ValidationError(f"algorithm '{name}' does not compress its messages: remove [compression]")
        return {}
    compressor = build_compressor(section)
    if compressor.stateful and not getattr(entry, "carries_compressor_state", False):
        raise ValidationError(
            f"compressor '{compressor.name}' keeps state between steps, which algorithm '{name}' "
            "does not carry; use a server method (dcsgd, ef, ef21) or another compressor"
        )
    return {"compressor": compressor}


def _needs_graph(topo_cfg: dict[str, Any], algorithm: Algorithm | AsyncScheme, alg_name: str) -> bool:
    """Whether the run builds a mixing matrix (a method that never gossips gets none, not even built)."""
    name = topo_cfg["name"]
    if not algorithm.uses_graph():
        return not (name == SERVER or topo_cfg["n"] > 0)
    if name == SERVER:
        raise ValidationError(
            f"algorithm '{alg_name}' gossips over a graph, and topology '{SERVER}' has none: "
            f"choose ring, complete, exponential, torus, ..."
        )
    return True


def _topology(topo_cfg: dict[str, Any], algorithm: Algorithm | AsyncScheme, alg_name: str) -> Topology:
    """The validated topology of the config."""
    return build_topology(
        topo_cfg["name"],
        topo_cfg["n"],
        _params(topo_cfg, ("name", "n")),
        requires=algorithm.requires,
        algorithm=alg_name,
    )


def problem_size(cfg: dict[str, Any]) -> tuple[int, int]:
    """``(n, d)`` of a config's run: its nodes and its problem's dimension (builds its components)."""
    c = build_components(cfg)
    return c.n, c.problem.dim


def simulated_comm(c: Components) -> SimulatedComm:
    """The in-process comm of ``c``'s topology (no graph for topology ``server``: ``comm.mean`` only)."""
    W = c.topology.W if c.topology is not None else None
    return SimulatedComm(W, kernel=c.config["run"]["mixing"], n=c.n)


def make_async_loop(
    c: Components, callbacks: Iterable[Callback] = (), loop_class: type[AsyncLoop] = AsyncLoop, **kwargs: Any
) -> AsyncLoop:
    """The event loop of built components ``c`` with their timing model (``loop_class``: a subclass taking the
    arrival order from outside, such as a replay or a real server, with its extra ``kwargs``)."""
    if not isinstance(c.algorithm, AsyncScheme) or c.timing is None:
        raise ValidationError(f"'{c.config['algorithm']['name']}' runs in lockstep, not on the event engine")
    run = c.config["run"]
    return loop_class(
        c.problem,
        c.algorithm,
        c.n,
        c.timing,
        noise=c.noise,
        seed=run["seed"],
        steps=run["steps"],
        eval_every=run["eval_every"],
        time_limit=run["time"],
        dtype=DTYPES[run["dtype"]],
        device=run["device"],
        callbacks=callbacks,
        check_finite=run["check_finite"],
        cluster=c.cluster,
        **kwargs,
    )


def make_loop(
    c: Components,
    callbacks: Iterable[Callback] = (),
    comm: Any = None,
    replay: str | Path | None = None,
    partial_replay: bool = False,
) -> Loop | AsyncLoop:
    """The loop that runs ``c``: for a lockstep :class:`~tailtamer.algorithms.base.Algorithm` a
    :class:`~tailtamer.engine.Loop` over the simulated comm (or the ``comm`` given); for an event-driven
    :class:`~tailtamer.algorithms.asynchronous.base.AsyncScheme` the event engine
    :class:`~tailtamer.engine.events.loop.AsyncLoop`, or with ``replay`` (a real asynchronous run's folder)
    the :class:`~tailtamer.engine.events.replay.ReplayLoop` of its arrival log (checked complete by
    :func:`~tailtamer.rundir.arrivals.read_log`, unless ``partial_replay``).

    A simulated loop sets torch's threads for its size (:func:`tailtamer.threads.resolve`: the count pinned
    by ``--threads``, else one per 2**20 state entries; an event loop sizes for one worker's job); a given
    comm's process keeps its launcher's count.
    """
    run = c.config["run"]
    if isinstance(c.algorithm, AsyncScheme):
        if comm is not None:
            raise ValidationError(
                f"'{c.config['algorithm']['name']}' is asynchronous: a real run is a server and "
                f"workers (tailtamer launch, tailtamer.distributed.asynchronous.run), not one "
                f"loop over a comm; make_loop builds its simulated event engine"
            )
        threads.apply(threads.resolve(1, c.problem.dim))  # the engine computes one worker's job at a time
        if replay is not None:
            return make_async_loop(c, callbacks, ReplayLoop, rows=read_log(replay, partial_replay).rows)
        return make_async_loop(c, callbacks)
    if replay is not None:
        raise ValidationError(
            f"--replay replays a real asynchronous run; '{c.config['algorithm']['name']}' runs in lockstep"
        )
    if comm is None:
        comm = simulated_comm(c)
        threads.apply(threads.resolve(c.n, c.problem.dim))
    return Loop(
        c.problem,
        c.algorithm,
        comm,
        noise=c.noise,
        seed=run["seed"],
        steps=run["steps"],
        eval_every=run["eval_every"],
        dtype=DTYPES[run["dtype"]],
        device=run["device"],
        callbacks=callbacks,
        check_finite=run["check_finite"],
        clock=clock(c),
    )


def clock(c: Components) -> Clock:
    """The simulated clock of a lockstep run of ``c`` on its cluster (``[cluster]``, or the ``ideal`` one)."""
    cluster = c.cluster or default_cluster(c.n, c.config["run"]["seed"])
    degrees = c.topology.degrees()[::-1] if c.topology is not None else None  # (in, out) → (out, in)
    return Clock(cluster, degrees, per_step=c.algorithm.computations_per_step)


def build(cfg: dict[str, Any], callbacks: Iterable[Callback] = ()) -> Loop | AsyncLoop:
    """Config dict → the ready-to-run simulated loop."""
    return make_loop(build_components(cfg), callbacks)
