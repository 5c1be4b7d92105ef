"""Many small runs as ONE stacked run: R members of one problem, topology and n as ``[R·n, ...]`` rows.

Member r owns rows ``r·n … r·n + n − 1``. Its hyperparameters are per-row tensors where they differ from the
other members' (:mod:`.stacking`), its gossip and averages stay within its rows
(:class:`~tailtamer.comm.stacked.StackedComm`), and it draws exactly what its standalone run draws: the
gradient oracle and randomness of :mod:`.stacked_oracle` draw every member's rows with that member's seed (every draw is
a pure function of (seed, stream, node, step, call), :mod:`tailtamer.rng`). So each member's metrics are its
standalone run's (tests/engine/test_stacked.py checks every decentralized method within 1e-12 in float64).

A member whose gradient or iterate holds NaN/Inf is diverged exactly where its standalone run would have
stopped (same step, node and quantity): it is reported through ``on_diverged`` and frozen (its rows keep the
state from before that step); the others go on. Metrics of all members are one vectorised call where the
problem offers ``stacked_metrics`` (synthetic problems; else one ``metrics`` call per member), and each
member's callbacks (its run folder's writer and checkpointer) see a :class:`MemberView` of the loop and, at a
checkpoint, a compact copy of its own rows (:meth:`StackedLoop.member_state`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from ...algorithms.base import Algorithm, State
from ...cluster import Clock, default_cluster
from ...comm.base import CommStats
from ...comm.stacked import StackedComm
from ...errors import NonFiniteError
from ...noise.base import NoiseModel
from ...problems.base import Problem
from ..callbacks import Callback
from .oracle import StackedOracle, bad_members


class MemberView:
    """What a member's callbacks read of the loop (``RunWriter``, ``Checkpointer``): its own algorithm,
    metrics and step, the shared wall time split evenly, and a comm whose counters are one member's."""

    def __init__(self, loop: StackedLoop, r: int, algorithm: Algorithm):
        self._loop, self.r, self.algorithm = loop, r, algorithm
        self.comm = _MemberComm(loop.comm)
        self.last_metrics: dict[str, float] = {}
        self.step = 0

    @property
    def steps(self) -> int:
        return self._loop.steps

    @property
    def device(self) -> torch.device:
        return self._loop.device

    @property
    def wall_time(self) -> float:
        """The member's share of the batch's time (the batch's wall time / R)."""
        return self._loop.wall_time / self._loop.members

    @property
    def problem(self) -> Problem:
        return self._loop.problem

    @property
    def sim_time(self) -> float:
        """The member's simulated seconds (its own clock: its cluster, its seed's compute times)."""
        return self._loop.clocks[self.r].now

    @sim_time.setter
    def sim_time(self, value: float) -> None:
        self._loop.clocks[self.r].now = float(value)


class _MemberComm:
    """One member's side of a :class:`StackedComm` (counters, n, identity gather) for its callbacks."""

    def __init__(self, stacked: StackedComm):
        self._stacked = stacked
        self.n, self.nodes = stacked.n, stacked.member.nodes
        self.rank = 0

    @property
    def stats(self) -> CommStats:
        return self._stacked.stats

    @property
    def n_local(self) -> int:
        return self.n

    def gather(self, z: torch.Tensor) -> torch.Tensor:
        return z


class StackedLoop:
    """Runs R members (``algorithms[r]`` with ``seeds[r]``) as one stacked run over ``comm``.

    Args:
        problem: the members' common problem (one n, one topology).
        algorithm: the stacked algorithm (:func:`~tailtamer.engine.stacked.rows.stack_objects` of ``algorithms``).
        algorithms: each member's own algorithm (its summary's hyperparameters and accounting).
        comm: the :class:`StackedComm` of the members' topology.
        seeds: each member's seed.
        callbacks: each member's callbacks (its run folder), called with its :class:`MemberView`.
        on_diverged: ``(r, error, view)`` when member r diverges (its folder's diverged summary).
        clocks: each member's simulated clock (:class:`~tailtamer.cluster.clock.Clock`; default: the ``ideal``
            cluster's); all members send the same messages, so each clock prices the shared counters' calls.
    """

    def __init__(
        self,
        problem: Problem,
        algorithm: Algorithm,
        algorithms: Sequence[Algorithm],
        comm: StackedComm,
        seeds: Sequence[int],
        *,
        noise: NoiseModel | None = None,
        steps: int = 1000,
        eval_every: int = 100,
        dtype: torch.dtype = torch.float64,
        device: str | torch.device = "cpu",
        callbacks: Sequence[Sequence[Callback]] = (),
        check_finite: bool = True,
        on_diverged: Callable[[int, NonFiniteError, MemberView], None] | None = None,
        clocks: Sequence[Clock] | None = None,
    ):
        self.problem, self.algorithm, self.comm, self.noise = problem, algorithm, comm, noise
        self.members = comm.members
        if len(seeds) != self.members or len(algorithms) != self.members:
            raise ValueError(f"{self.members} members need {self.members} seeds and algorithms")
        self.steps, self.eval_every = steps, max(int(eval_every), 1)
        self.dtype, self.device = dtype, torch.device(device)
        self.check = check_finite
        self.clocks = (
            list(clocks)
            if clocks is not None
            else [
                Clock(default_cluster(comm.n, seed), per_step=a.computations_per_step)
                for seed, a in zip(seeds, algorithms, strict=True)
            ]
        )
        if len(self.clocks) != self.members:
            raise ValueError(f"{self.members} members need {self.members} clocks")
        for clock in self.clocks:
            clock.listen(comm.stats)
        self.oracle = StackedOracle(problem, noise, comm.member.nodes, seeds, check=check_finite)
        self.views = [MemberView(self, r, a) for r, a in enumerate(algorithms)]
        self.callbacks = [list(cbs) for cbs in callbacks] or [[] for _ in range(self.members)]
        self.on_diverged = on_diverged
        self.diverged: dict[int, NonFiniteError] = {}
        #: rows of the diverged members (kept at their last finite values by :meth:`_freeze`)
        self._frozen = torch.zeros(self.comm.n_local, dtype=torch.bool, device=self.device)
        self.wall_time = 0.0
        self.step = 0
        self._period: int | None = None

    @property
    def n(self) -> int:
        return self.comm.n

    def rows(self, r: int) -> slice:
        return slice(r * self.n, (r + 1) * self.n)

    def initial_state(self) -> State:
        x0 = self.problem.x0(self.dtype, self.device)
        x = x0.unsqueeze(0).expand(self.comm.n_local, *x0.shape).clone()
        return self.algorithm.init(x, self.comm)

    def member_rows(self, v: torch.Tensor, r: int) -> torch.Tensor | None:
        """Member r's part of a stacked tensor: its n rows of ``[R·n, ...]``, its row of a server's ``[R, ...]``
        (:mod:`tailtamer.comm.server`; with n = 1 the two coincide), or None for a tensor shared by all."""
        if v.dim() and v.shape[0] == self.comm.n_local:
            return v[self.rows(r)]
        if v.dim() and v.shape[0] == self.members:
            return v[r : r + 1]
        return None

    def member_state(self, state: State, r: int) -> State:
        """Member r's state as its standalone run holds it: its rows of every stacked tensor (:meth:`member_rows`),
        each a compact copy (a slice would share the stacked storage, and ``torch.save`` writes a tensor's whole
        storage: every member's checkpoint would hold all R members)."""
        out = {}
        for k, v in state.items():
            mine = self.member_rows(v, r)
            out[k] = v if mine is None else mine.clone()
        return out

    def _live(self) -> list[int]:
        return [r for r in range(self.members) if r not in self.diverged]

    def _metrics(self, x: torch.Tensor, live: list[int]) -> dict[int, dict[str, float]]:
        """Each live member's metrics: one vectorised call for all members where the problem offers
        ``stacked_metrics`` (synthetic problems), else ``problem.metrics`` per member."""
        stacked = getattr(self.problem, "stacked_metrics", None)
        every = stacked(x, self.members, self.comm.nodes) if stacked is not None else None
        if every is not None:
            return {r: every[r] for r in live}
        return {r: self.problem.metrics(x[self.rows(r)], self.comm.member) for r in live}

    def _emit_eval(self, step: int, state: State) -> None:
        live = self._live()
        with self.comm.stats.paused():
            metrics = self._metrics(state["x"], live)
            for r in live:
                view = self.views[r]
                view.last_metrics = metrics[r]
                for cb in self.callbacks[r]:
                    cb.on_eval(view, step, view.last_metrics)

    def _diverge(self, errors: dict[int, NonFiniteError]) -> None:
        for r, err in sorted(errors.items()):
            if r in self.diverged:
                continue
            self.diverged[r] = err
            self._frozen[self.rows(r)] = True
            self.oracle.live[r] = False
            if self.on_diverged is not None:
                self.on_diverged(r, err, self.views[r])

    def _freeze(self, new: State, old: State) -> State:
        """Diverged members keep their rows of ``old`` (client rows and server rows alike); every other row
        comes from ``new``."""
        masks = {self.comm.n_local: self._frozen, self.members: self._frozen[:: self.n]}
        out = {}
        for k, v in new.items():
            mask = masks.get(v.shape[0]) if v.dim() else None
            if mask is not None and k in old and old[k].shape == v.shape:
                out[k] = torch.where(mask.reshape((-1,) + (1,) * (v.dim() - 1)), old[k], v)
            else:
                out[k] = v
        return out

    def run(self) -> State:
        """Run every member from the common initial point to ``steps`` (members that diverge stop early)."""
        state = self.initial_state()
        for r in range(self.members):
            for cb in self.callbacks[r]:
                cb.on_start(self.views[r])
        self._period = self._step_period()
        self._emit_eval(0, state)
        t0 = time.perf_counter()
        for t in range(self.steps):
            if not self._live():
                break
            self.oracle.begin(t)
            new = self.algorithm.step(state, self.oracle, self.comm, t)
            failed = dict(self.oracle.failed)
            if self.check:
                live = [r not in self.diverged and r not in failed for r in range(self.members)]
                failed.update(bad_members(new["x"], live, self.n, t, "iterate x"))
            if failed:
                self.wall_time += time.perf_counter() - t0
                self._diverge(failed)
                t0 = time.perf_counter()
            state = self._freeze(new, state) if self.diverged else new
            for clock in self.clocks:
                clock.tick(t)
            self.step = t + 1
            for r in self._live():
                self.views[r].step = self.step
            if self.step % self.eval_every == 0 or self.step == self.steps:
                self.wall_time += time.perf_counter() - t0
                self._emit_eval(self.step, state)
                t0 = time.perf_counter()
            self._on_step(state)
        self.wall_time += time.perf_counter() - t0
        for r in self._live():
            for cb in self.callbacks[r]:
                cb.on_end(self.views[r], self.member_state(state, r))
        return state

    def _on_step(self, state: State) -> None:
        """Per-step callbacks; a member's state is sliced only for callbacks that act this step (a step where
        no member's callback acts costs one check per distinct callback period, not one per member)."""
        if self._period is not None and (self._period == 0 or self.step % self._period):
            return
        for r in self._live():
            cbs = self.callbacks[r]
            if not cbs:
                continue
            due = [cb for cb in cbs if _acts(cb, self.step, self.steps)]
            if due:
                mine = self.member_state(state, r)
                for cb in due:
                    cb.on_step(self.views[r], self.step, mine)

    def _step_period(self) -> int | None:
        """``p`` when the only callbacks acting in ``on_step`` are checkpointers of one period p (a step that is
        not a multiple of p needs no look at the members; 0: no callback acts in ``on_step``), else None (look
        every step)."""
        periods = set()
        for cbs in self.callbacks:
            for cb in cbs:
                period = cb.step_period()
                if period is None:
                    return None
                if period:
                    periods.add(period)
        if not periods:
            return 0
        return next(iter(periods)) if len(periods) == 1 else None


def _acts(cb: Callback, step: int, steps: int) -> bool:
    """Whether ``cb.on_step`` does anything at ``step`` (:meth:`~tailtamer.engine.callbacks.Callback.step_period`:
    a checkpointer only on its period; callbacks that do not override ``on_step`` never)."""
    period = cb.step_period()
    if period is None:
        return True
    return bool(period) and step % period == 0 and step < steps
