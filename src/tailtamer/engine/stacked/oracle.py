"""The gradient oracle and randomness of a stacked run (:mod:`tailtamer.engine.stacked.loop`): every member
draws with its own seed.

Member r of R owns rows ``r·n … r·n + n − 1``; every draw of those rows is the draw its standalone run makes
(the same (seed, stream, node, step, call) counters, :class:`tailtamer.rng.RowSeeds`), all members in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ... import rng
from ...errors import NonFiniteError
from ...noise.base import NoiseModel
from ...problems.base import Problem
from ...problems.synthetic import SyntheticProblem
from ..noise_ahead import MemberNoise, NoiseAhead, row_keyed
from ..oracle import first_bad_row


class StackedSeeds(rng.RowSeeds):
    """:class:`tailtamer.rng.RowSeeds` of one stacked run: the row → (node, member) split of the run's own
    rows (all of them, in order: what every noise draw asks for) is computed once, not at every draw; other
    row ids are decoded as :class:`~tailtamer.rng.RowSeeds` decodes them. Same keys, so the same numbers."""

    def __init__(self, seeds: Sequence[int], n: int):
        super().__init__(list(seeds), n)
        self._all = np.arange(len(self.seeds) * self.n, dtype=np.int64)
        self._member, node = np.divmod(self._all, self.n)
        self._node = node.astype(np.uint64)

    def decode(self, rows: np.ndarray, stream: str | int, step: int, call: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows)
        if rows.shape == self._all.shape and np.array_equal(rows, self._all):
            return self._node.copy(), self.keys(stream, step, call)[self._member]
        return super().decode(rows, stream, step, call)


class MemberRandomness:
    """:class:`tailtamer.rng.Randomness` of a stacked step: member r's rows drawn with member r's seed, all
    members in one vectorised call (:class:`tailtamer.rng.RowSeeds`).

    ``nodes`` given explicitly (draws for ids other than the local rows) and ``generator`` (draws that belong to
    no node) have no per-member meaning in a stacked run and are refused (:class:`NotImplementedError`): such
    methods run their members one by one.
    """

    __slots__ = ("seeds", "rows", "nodes", "step")

    def __init__(self, seeds: rng.RowSeeds, rows: torch.Tensor, nodes: torch.Tensor, step: int):
        self.seeds, self.rows, self.nodes, self.step = seeds, rows, nodes, int(step)

    def _rows(self, nodes: torch.Tensor | None) -> torch.Tensor:
        if nodes is not None:
            raise NotImplementedError("draws for explicit node ids have no per-member meaning in a stacked run")
        return self.rows

    def bits(self, stream: str | int, d: int, call: int = 0, nodes: torch.Tensor | None = None) -> torch.Tensor:
        return rng.bits(self.seeds, stream, self._rows(nodes), self.step, d, call)

    def uniform(
        self,
        stream: str | int,
        d: int,
        call: int = 0,
        nodes: torch.Tensor | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> torch.Tensor:
        return rng.uniform(self.seeds, stream, self._rows(nodes), self.step, d, call, dtype)

    def normal(
        self,
        stream: str | int,
        d: int,
        call: int = 0,
        nodes: torch.Tensor | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> torch.Tensor:
        return rng.normal(self.seeds, stream, self._rows(nodes), self.step, d, call, dtype)

    def uniform_per_id(self, stream: str | int, n: int, call: int = 0) -> torch.Tensor:
        """``[R, n]``: row r is what member r's standalone :meth:`tailtamer.rng.Randomness.uniform_per_id` draws
        (its n rows are its node ids ``0..n−1``, drawn with its seed)."""
        if n * len(self.seeds.seeds) != len(self.rows):
            raise NotImplementedError(f"a draw for {n} node ids per member in a stacked run of {len(self.rows)} rows")
        return self.uniform(stream, 1, call)[:, 0].reshape(-1, n)

    def at_rows(self, per_id: torch.Tensor) -> torch.Tensor:
        """``per_id`` (``[R, n]``, a value per member and node id) at every row of the stacked run."""
        return per_id.reshape(-1)[self.rows]

    def generator(self, stream: str | int, call: int = 0, device: str | torch.device = "cpu") -> torch.Generator:
        raise NotImplementedError("a generator for draws of no node has no per-member meaning in a stacked run")


class StackedOracle:
    """The gradient oracle of a stacked step: member r's rows get ``problem.grad`` and noise with seed r.

    The noise of all members is one call (:class:`tailtamer.rng.RowSeeds`; one per member for a noise model
    that does not declare ``draws_from_row_keys``); a problem whose gradient draws
    nothing (:func:`deterministic_grad`) is one call over all rows (its ``stacked_grad(x)`` where it has
    one: all members without copying the data per member), and so is one whose gradient draws by row
    (``grad_takes_row_seeds``: least squares' minibatches, given the row ids and the members' RowSeeds);
    else one call per member with its seed.
    A non-finite gradient of a live member is recorded (``failed``: member → NonFiniteError naming the step,
    the member's node and ``"gradient"``, as its standalone oracle raises) instead of stopping the others.
    """

    def __init__(
        self,
        problem: Problem,
        noise: NoiseModel | None,
        member_nodes: torch.Tensor,
        seeds: Sequence[int],
        check: bool = True,
    ):
        self.problem, self.noise, self.member_nodes = problem, noise, member_nodes
        self.seeds, self.check = [int(s) for s in seeds], check
        self.n = len(member_nodes)
        self.row_seeds = StackedSeeds(self.seeds, self.n)
        self.rows = torch.arange(len(self.seeds) * self.n)
        self.nodes = member_nodes.repeat(len(self.seeds))
        self.one_call = deterministic_grad(problem)
        self.by_row = getattr(problem, "grad_takes_row_seeds", False)
        #: a problem's own gradient of all members at once (``stacked_grad(x)``, optional), else None
        self.stacked = getattr(problem, "stacked_grad", None) if self.one_call else None
        self.step, self.calls = 0, 0
        self.live: list[bool] = [True] * len(self.seeds)
        self.failed: dict[int, NonFiniteError] = {}
        self._rng: MemberRandomness | None = None
        #: the noise of all rows, drawn for several steps at once where a step's draw is small (a model that
        #: declares ``draws_from_row_keys``), else one step and one member at a time on the member's own copy
        self._ahead: NoiseAhead | MemberNoise | None = (
            None
            if noise is None
            else NoiseAhead(noise, self.row_seeds, self.rows, self.row_seeds)
            if row_keyed(noise)
            else MemberNoise(noise, self.seeds, member_nodes)
        )

    def begin(self, step: int) -> None:
        self.step, self.calls, self._rng = step, 0, None

    @property
    def rng(self) -> MemberRandomness:
        if self._rng is None:
            self._rng = MemberRandomness(self.row_seeds, self.rows, self.nodes, self.step)
        return self._rng

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n, step, call = self.n, self.step, self.calls
        if self.stacked is not None:
            g = self.stacked(x)
        elif self.one_call:
            g = self.problem.grad(x, self.nodes, self.seeds[0], step, call)
        elif self.by_row:
            g = self.problem.grad(x, self.rows, self.row_seeds, step, call)
        else:
            g = torch.cat(
                [
                    self.problem.grad(x[r * n : (r + 1) * n], self.member_nodes, s, step, call)
                    for r, s in enumerate(self.seeds)
                ]
            )
        if self.noise is not None:
            xi = self._ahead.draw(step, call, g[0].numel(), g.dtype)
            g = g + xi.to(g.device).reshape(g.shape)
        self.calls += 1
        if self.check:
            self.failed.update(bad_members(g, self.live, n, step, "gradient", self.failed))
        return g


def deterministic_grad(problem: Problem) -> bool:
    """Whether ``problem.grad`` ignores the seed (the exact local gradients of a synthetic problem)."""
    return type(problem).grad is SyntheticProblem.grad


def bad_members(
    z: torch.Tensor, live: Sequence[bool], n: int, step: int, what: str, known: dict[int, NonFiniteError] | None = None
) -> dict[int, NonFiniteError]:
    """The live members (not yet in ``known``) with a non-finite row of ``z``, each with the error its
    standalone check raises (the first bad node of the member)."""
    if bool(torch.isfinite(z.sum())):
        return {}
    out = {}
    for r, alive in enumerate(live):
        if alive and (known is None or r not in known):
            row = first_bad_row(z[r * n : (r + 1) * n])
            if row is not None:
                out[r] = NonFiniteError(step, row, what)
    return out
