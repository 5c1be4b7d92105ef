"""Noise drawn for several steps at once: the rows of K consecutive steps as one draw, the same bits.

Every noise draw is a pure function of (seed, stream, node, step, call) (:mod:`tailtamer.rng`), so drawing the
next K steps' noise in one call changes no number; it pays the per-call costs of a small draw (key mixing,
block bookkeeping, a dozen tensor ops) once for K steps. Used by the lockstep oracle (a standalone run's rows)
and the stacked oracle (every member's rows) where one step's draw is small (fewer than
:data:`AHEAD_ENTRIES` / 2 entries); large draws stay one step at a time.

Only for a model that declares ``draws_from_row_keys`` (:func:`row_keyed`; every built-in does): any other
model (a third-party one that reads ``nodes`` as node ids, or keeps state) is called as documented, one step
at a time with an int seed and node ids, and a stacked run's members each draw on their own copy
(:class:`MemberNoise`), so each member's numbers are its standalone run's.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch

from .. import rng
from ..errors import ContractError
from ..noise.base import NoiseModel

#: Entries of one multi-step noise draw (a few MB: small draws pay their per-call costs once per up to
#: :data:`MAX_STEPS_AHEAD` steps; draws of more than half of this take one step at a time).
AHEAD_ENTRIES = 1 << 19
MAX_STEPS_AHEAD = 64


def row_keyed(noise: NoiseModel | None) -> bool:
    """Whether ``noise`` declares that it draws from the row keys it is given (``draws_from_row_keys``), so
    that the engine may hand it multi-step or multi-member row ids with :class:`~tailtamer.rng.RowSeeds`."""
    return bool(getattr(noise, "draws_from_row_keys", False))


def sample_checked(
    noise: NoiseModel, seed: int, nodes: torch.Tensor, step: int, d: int, call: int, dtype: torch.dtype
) -> torch.Tensor:
    """``noise.sample(seed, nodes, step, d, call, dtype)`` called as documented, its result checked: a model
    that returns another shape or dtype is named with the property it broke (:class:`ContractError`)."""
    xi = noise.sample(seed, nodes, step, d, call, dtype=dtype)
    want = (len(nodes), d)
    if not isinstance(xi, torch.Tensor) or tuple(xi.shape) != want:
        got = tuple(xi.shape) if isinstance(xi, torch.Tensor) else type(xi).__name__
        raise ContractError(
            f"noise '{getattr(noise, 'name', type(noise).__name__)}' broke its contract (shape): "
            f"sample returned {got} for {len(nodes)} nodes and d = {d}, expected {want}"
        )
    if xi.dtype != dtype:
        raise ContractError(
            f"noise '{getattr(noise, 'name', type(noise).__name__)}' broke its contract (dtype): "
            f"sample returned {xi.dtype} when asked for {dtype}"
        )
    return xi


class StepRows(rng.RowSeeds):
    """The rows of ``steps`` consecutive steps as one draw: row id ``k·N + i`` (N = R·n row ids of ``seeds``)
    is row i of ``seeds`` at step ``step + k``. Every draw is a pure function of (seed, stream, node, step,
    call) and reaches its keys only through ``decode``, so one call over all ``steps·N`` ids draws, bit for
    bit, what ``steps`` calls of one step each draw (tests/engine/test_noise_ahead.py checks every registered noise
    model): the per-call costs of a small draw are paid once for ``steps`` steps."""

    def __init__(self, seeds: rng.RowSeeds, steps: int):
        super().__init__(seeds.seeds, seeds.n)
        self.steps, self.rows = int(steps), len(self.seeds) * self.n
        k, i = np.divmod(np.arange(self.steps * self.rows, dtype=np.int64), self.rows)
        member, node = np.divmod(i, self.n)
        self._flat, self._node = k * len(self.seeds) + member, node.astype(np.uint64)  # per row id

    def decode(self, rows: np.ndarray, stream: str | int, step: int, call: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        keys = self._memoised(
            ("ahead", stream, step, call),
            lambda: self.base_keys_at(  # step-major, [steps·R]
                stream, np.arange(step, step + self.steps), call
            ).reshape(-1),
        )
        if rows.size and (rows.min() < 0 or rows.max() >= self._flat.size):
            raise ValueError(f"row ids must lie in [0, {self._flat.size}) for {self.steps} steps of {self.rows} rows")
        return self._node[rows], keys[self._flat[rows]]


class NoiseAhead:
    """The noise of row ids ``ids`` at (step, call), sliced from one draw made for up to
    :data:`MAX_STEPS_AHEAD` steps (:class:`StepRows` over ``row_seeds``), or drawn alone with ``seed`` where one
    step's draw is large.

    ``seed`` is what a one-step draw is given (a run's int seed, or a stacked run's
    :class:`~tailtamer.rng.RowSeeds`) and ``row_seeds`` the same seeds as :class:`~tailtamer.rng.RowSeeds`, whose
    row ids ``ids`` are (``RowSeeds([seed], n)`` with node ids as rows for a standalone run). Drawing ahead
    changes nothing whatever the run does between steps (a resume, a jump back): a step outside the held draw
    starts a new one at that step."""

    def __init__(self, noise: NoiseModel, seed: int | rng.RowSeeds, ids: torch.Tensor, row_seeds: rng.RowSeeds):
        self.noise, self.seed, self.ids, self.row_seeds = noise, seed, ids, row_seeds
        self.space = len(row_seeds.seeds) * row_seeds.n
        self._held: dict[int, tuple[int, tuple[int, torch.dtype], torch.Tensor]] = {}
        self._step_rows: dict[int, tuple[StepRows, torch.Tensor]] = {}

    def steps_ahead(self, d: int) -> int:
        """Steps one draw covers for ``d`` entries per row (1: one step at a time)."""
        return max(1, min(MAX_STEPS_AHEAD, AHEAD_ENTRIES // max(len(self.ids) * d, 1)))

    def draw(self, step: int, call: int, d: int, dtype: torch.dtype) -> torch.Tensor:
        """``[len(ids), d]``: what ``noise.sample(seed, ids, step, d, call, dtype)`` returns, bit for bit."""
        ahead = self.steps_ahead(d)
        if ahead == 1:
            return self.noise.sample(self.seed, self.ids, step, d, call, dtype=dtype)
        held = self._held.get(call)
        if held is None or held[1] != (d, dtype) or not held[0] <= step < held[0] + len(held[2]):
            if ahead not in self._step_rows:
                rows = (torch.arange(ahead).unsqueeze(1) * self.space + self.ids.cpu().reshape(1, -1)).reshape(-1)
                self._step_rows[ahead] = StepRows(self.row_seeds, ahead), rows
            seeds, rows = self._step_rows[ahead]
            draws = self.noise.sample(seeds, rows, step, d, call, dtype=dtype)
            held = self._held[call] = (step, (d, dtype), draws.reshape(ahead, len(self.ids), d))
        return held[2][step - held[0]]


class MemberNoise:
    """The noise of a stacked run for a model that does not declare ``draws_from_row_keys``: member r's rows
    are ``copy_r.sample(seed_r, nodes, step, d, call)`` on member r's own deep copy of the model, one step at
    a time, as its standalone run calls its own instance (so a stateful model sees its standalone sequence)."""

    def __init__(self, noise: NoiseModel, seeds: Sequence[int], nodes: torch.Tensor):
        self.seeds, self.nodes = [int(s) for s in seeds], nodes
        self.models = [copy.deepcopy(noise) for _ in self.seeds]

    def draw(self, step: int, call: int, d: int, dtype: torch.dtype) -> torch.Tensor:
        """``[R·n, d]``: every member's standalone draw of (step, call), stacked in member order."""
        return torch.cat(
            [sample_checked(m, s, self.nodes, step, d, call, dtype) for m, s in zip(self.models, self.seeds)]
        )
