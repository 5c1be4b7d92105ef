"""Shared parts of the server methods: N workers, one server, the model replicated on every row."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ...comm.base import Comm
from ...compression import Compressor
from ...compression.sparse import Identity
from ..base import Algorithm, Oracle, State
from .step_rules import StepRule, exact_gradient_norm


class ServerMethod(Algorithm):
    """Base of the ``compressed`` family: ``requires = "none"`` (topology ``server``), a step rule.

    The iterate ``x`` is ``[n_local, d]`` with every row equal to the server model; each step every row
    moves by the same server update, so the rows stay equal. The constructor is every method's schema (the
    step rule's keys; ``compressor`` is supplied by the engine from ``[compression]`` when ``compresses``).

    Every method's state and step go through :meth:`init` and :meth:`step`, which carry the compressor's state:
    a method defines :meth:`init_server` and :meth:`update`, and :meth:`update` receives the compressor to
    encode with. A stateful compressor (``powersgd``: a warm-start Q per node) keeps its state in the method's
    state under :data:`COMPRESSOR_STATE`, node-stacked like everything else, so checkpoints and resumes are
    bitwise: :meth:`step` binds the rows' state to a :class:`BoundState` (with the problem's layout, read from
    the oracle), hands it to :meth:`update`, and stores the state after the step's encoding back. State goes in
    and comes out; nothing is kept on the method between steps. A stateless compressor adds nothing to the state.
    """

    family: ClassVar[str] = "compressed"
    requires: ClassVar[str] = "none"
    compresses: ClassVar[bool] = True
    carries_compressor_state: ClassVar[bool] = True
    stackable: ClassVar[bool] = False  # run one by one in a sweep (their packets are per run)

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        rule: str = "schedule",
        L0: float = 0.0,
        L1: float = 0.0,
        a: float = 1.0,
        b: float = 0.0,
        alpha: float = 1.0,
        compressor: Compressor | None = None,
    ):
        self.lr, self.schedule, self.warmup, self.rule = lr, schedule, warmup, rule
        self.L0, self.L1, self.a, self.b, self.alpha = L0, L1, a, b, alpha
        self._step = StepRule(self.name, steps, lr, schedule, warmup, rule, L0, L1, a, b, alpha)
        self._compressor: Compressor = compressor if compressor is not None else Identity()

    @property
    def compressor(self) -> Compressor:
        """The compressor of ``[compression]`` (stateless; a stateful one's state is in the method's state)."""
        return self._compressor

    def init(self, x0: torch.Tensor, comm: Comm) -> State:
        """The method's state (:meth:`init_server`) and, for a stateful compressor, its state."""
        s = self.init_server(x0, comm)
        if self.compressor.stateful:
            s[COMPRESSOR_STATE] = self.compressor.init_state(x0)
        return s

    def step(self, s: State, grad: Oracle, comm: Comm, t: int) -> State:
        """:meth:`update` with the compressor bound to the rows' state; the state after encoding is kept."""
        if not self.compressor.stateful:
            return self.update(s, grad, comm, t, self.compressor)
        bound = BoundState(self.compressor, s[COMPRESSOR_STATE], grad.layout)
        out = self.update({k: v for k, v in s.items() if k != COMPRESSOR_STATE}, grad, comm, t, bound)
        return {**out, COMPRESSOR_STATE: bound.state}

    def init_server(self, x0: torch.Tensor, comm: Comm) -> State:
        """The method's own state (the model ``x`` replicated on every row, and its memories)."""
        return {"x": x0.clone()}

    def update(self, s: State, grad: Oracle, comm: Comm, t: int, compressor: Any) -> State:
        """One step of the method, encoding with ``compressor`` (``compressor.codec(rng, call)``)."""
        raise NotImplementedError

    def step_size(self, t: int, x: torch.Tensor, ghat: torch.Tensor | None, grad: Oracle, comm) -> float:
        """η_t by the rule: the oracle reads ‖∇f(x)‖, the practical rule ‖ĝ‖ (the aggregated direction)."""
        if self._step.needs_exact_gradient:
            return self._step(t, exact_gradient_norm(grad, x, comm))
        if self._step.rule == "practical":
            assert ghat is not None, "the practical rule reads the aggregated direction"
            return self._step(t, ghat.norm())
        return self._step(t)


#: The state key of a stateful compressor's node-stacked state.
COMPRESSOR_STATE = "compressor"


class BoundState:
    """A stateful compressor with one step's node rows' state bound: ``codec(rng, call)`` like any compressor;
    ``state`` is the state after the last encoding (the input state while nothing was encoded)."""

    def __init__(self, compressor: Compressor, state: torch.Tensor, layout: Any):
        self.compressor, self.state, self.layout = compressor, state, layout

    def codec(self, rng: Any = None, call: int = 0) -> _Tracked:
        return _Tracked(self, self.compressor.codec(rng, call, state=self.state, layout=self.layout))  # type: ignore[call-arg]  # stateful: powersgd

    def __getattr__(self, name: str) -> Any:  # name, unbiased, omega, delta, bits, describe, ...
        if name == "compressor":
            raise AttributeError(name)
        return getattr(self.compressor, name)


class _Tracked:
    """A codec whose state after encoding is written back to its :class:`BoundState`."""

    def __init__(self, owner: BoundState, codec: Any):
        self.owner, self.codec = owner, codec

    def encode(self, z: torch.Tensor) -> Any:
        packet = self.codec.encode(z)
        self.owner.state = self.codec.state
        return packet

    def decode(self, packet: Any, like: torch.Tensor) -> torch.Tensor:
        return self.codec.decode(packet, like)


def roundtrip(codec: Any, z: torch.Tensor) -> torch.Tensor:
    """What the receivers decode from ``z`` (the sender keeps the same rows, e.g. for error feedback)."""
    return codec.decode(codec.encode(z), z)
