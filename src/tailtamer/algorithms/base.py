"""The algorithm contract: explicit state in, explicit state out, communication only through ``comm``.

An algorithm is a small class whose constructor stores and validates hyperparameters (nothing is computed
there) and whose :meth:`Algorithm.step` reads like the update equations of its paper. State is a
``dict[str, Tensor]`` of node-stacked tensors ``[n_local, d]`` that always holds ``"x"``; it is what a
checkpoint saves and what a torch.distributed run keeps per process.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import torch

from ..comm.base import Comm
from ..registry import Registry
from ..rng import Randomness

State = dict[str, torch.Tensor]


class Oracle(Protocol):
    """What a step receives as ``grad``: the stochastic-gradient oracle of step t, and its randomness.

    ``grad(x)`` maps a node-stacked iterate ``[n_local, d]`` to node-stacked stochastic gradients; it may be
    called several times in a step (local steps), each call drawing fresh noise. ``grad.rng`` is the step's
    :class:`~tailtamer.rng.Randomness` (counter-based, from the run's seed, a named stream, node, step and
    call) for methods that draw: client sampling, random compressors, random delays. The engine's
    implementation is :class:`tailtamer.engine.oracle.GradientOracle`.
    """

    @property
    def rng(self) -> Randomness: ...

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...

    @property
    def layout(self) -> Any:
        """The problem's parameter layout (a model's tensors in its flat vector,
        :class:`~tailtamer.problems.models.problem.ParamLayout`), or None for a flat problem: what a method
        that reshapes by tensor reads (PowerSGD)."""
        ...

    def exact_grad(self, x: torch.Tensor) -> torch.Tensor:
        """The noiseless local gradients ∇f_i(x) of the oracle's nodes (a problem with closed-form gradients;
        raises :class:`~tailtamer.errors.ValidationError` otherwise): what the oracle step rules read."""
        ...


#: Registry of methods, lockstep (:class:`Algorithm`) and event-driven
#: (:class:`~tailtamer.algorithms.asynchronous.base.AsyncScheme`); factories receive ``steps`` (the horizon T)
#: from the engine, those with ``compresses = True`` the ``compressor`` built from ``[compression]``, and
#: composites their registered ``name`` (one class, several names: presets and pairs). What an entry *is*
#: (its class, :meth:`~tailtamer.registry.Registry.entry_class`) decides which loop runs it.
ALGORITHMS: Registry[Method] = Registry("algorithm", context=("steps", "compressor", "name"))


class Method:
    """What every registered method has, lockstep or event-driven: a name, what it needs of the graph, its
    hyperparameters. A method is one of two protocols: :class:`Algorithm` (the lockstep loop calls ``step``
    once per round) or :class:`~tailtamer.algorithms.asynchronous.base.AsyncScheme` (the event engine calls
    ``arrive`` once per finished job).

    Attributes:
        family: a label for reports and documentation (``"decentralized"``, ``"local-update"``, ``"async"`` or
            ``"compressed"``); nothing dispatches on it.
        requires: the property the mixing matrix must have (``"doubly_stochastic"``, ``"row_stochastic"``
            or ``"none"``); the engine validates the topology against it before any compute. ``"none"``
            means the method never gossips (server, federated, asynchronous methods): no mixing matrix is
            built for it, ``[topology]`` only gives ``n`` (topology ``server``), and ``comm.mix`` is refused.
        stackable: whether R runs of it can be stacked as rows of one run (:mod:`tailtamer.engine.stacked`):
            its step is row-wise in the nodes and reads the run's server rows through :mod:`tailtamer.comm.server`.
        name: the registered name, set by :data:`ALGORITHMS` when the class is registered (write it only in
            the decorator; validation messages use ``self.name``).
    """

    family: ClassVar[str] = "decentralized"
    requires: ClassVar[str] = "doubly_stochastic"
    stackable: ClassVar[bool] = False
    name: ClassVar[str] = ""

    @classmethod
    def uses_graph(cls) -> bool:
        """Whether the method gossips over a mixing matrix (``comm.mix``)."""
        return cls.requires != "none"

    @property
    def computations_per_step(self) -> int:
        """Gradient computations a node makes per step (1; a local-update round makes its H local steps): what a
        simulated cluster's clock charges each worker's compute time for (:mod:`tailtamer.cluster.clock`)."""
        return 1

    def hyperparameters(self) -> dict[str, object]:
        """The constructor arguments as stored (for run folders and reports)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and not callable(v)}

    def check_dim(self, d: int) -> None:
        """Refuse a problem of dimension ``d`` with a :class:`~tailtamer.errors.ValidationError` before anything
        runs (default: every d; error feedback refuses a compressor that does not contract at d)."""


class Algorithm(Method):
    """A lockstep method: :meth:`step` maps the state of round t to the state of round t+1 (base class of every
    decentralized, local-update and server method). Decentralized and local-update steps are row-wise in the
    nodes, so R runs of them stack (``stackable``); server methods say otherwise."""

    stackable: ClassVar[bool] = True

    def init(self, x0: torch.Tensor, comm: Comm) -> State:
        """Initial state from the node-stacked initial point ``x0`` (``[n_local, d]``)."""
        return {"x": x0.clone()}

    def step(self, s: State, grad: Oracle, comm: Comm, t: int) -> State:
        """One step t → t+1: returns the new state (the old one is not modified in place)."""
        raise NotImplementedError
