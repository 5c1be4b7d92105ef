"""Noise models injected into gradients: ``G + ξ`` with ξ i.i.d. per coordinate, node and step.

A model stores and validates its parameters at construction and draws with :meth:`NoiseModel.sample`,
a pure function of ``(seed, nodes, step, call)`` built only on :mod:`tailtamer.rng` (no global RNG and no
``torch.Generator``), so draws for a subset of nodes equal the corresponding rows of draws for all nodes.

Example:
    >>> import torch
    >>> from tailtamer.noise import build_noise
    >>> xi = build_noise("student-t", {"df": 1.5}).sample(seed=0, nodes=torch.arange(3), step=1, d=4)
    >>> xi.shape
    torch.Size([3, 4])
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..errors import ValidationError
from ..registry import Registry
from ..threads import one_thread
from ..validation import check_range

#: Registry of noise models (``none``, ``gaussian``, ``student-t``, ``alpha-stable``, ``pareto``, ``cauchy``).
NOISES: Registry[NoiseModel] = Registry("noise")

#: The random stream noise draws from (see :mod:`tailtamer.rng`).
NOISE_STREAM = "noise"

#: Entries per block of :meth:`NoiseModel.sample` (float64 temporaries of 256 KiB each, in the CPU cache).
#: Blocks run on one thread: torch splits transcendental ops of this size across threads, and on a shared
#: machine each hand-off waits for a busy core (a 2-thread α-stable draw measured 17× slower than 1).
BLOCK = 1 << 15


class NoiseModel:
    """Base class. Subclasses implement :meth:`standard` on uniforms/normals from :mod:`tailtamer.rng`.

    ``sample`` is a pure function of ``(seed, nodes, step, call)``: the simulator and a distributed run
    draw the same numbers for the same node.

    Attributes:
        name: the registry name.
        scale: the multiplier applied to :meth:`standard` draws (1 for ``none``, which overrides ``sample``).
        draws_from_row_keys: the model reaches its randomness only through :mod:`tailtamer.rng` with the
            ``seed`` and ``nodes`` it is given (a :class:`~tailtamer.rng.RowSeeds` and row ids included), so the
            engine may draw several steps or stacked members in one call (:mod:`tailtamer.engine.noise_ahead`).
            False by default: a model that does not declare it (a third-party model reading ``nodes`` as node
            ids, or keeping state) is called one step at a time with an int seed and node ids, each stacked
            member on its own copy. Every built-in model declares it.
    """

    name: str = "base"
    scale: float = 1.0
    draws_from_row_keys: bool = False

    def standard(self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
        """Unit-scale float64 draws of shape ``[len(nodes), d]``; :meth:`sample` multiplies by ``scale``."""
        raise NotImplementedError

    def sample(
        self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        """Draws of shape ``[len(nodes), d]`` in ``dtype`` (computed in float64, rounded once at the end).

        Large draws are computed in blocks of whole rows of at most :data:`BLOCK` entries (one row when d is
        larger), written into the output: the float64 temporaries of the transform then stay in the CPU
        cache, the blocks run on one thread (:func:`tailtamer.threads.one_thread`: element-wise, so the
        values do not depend on it), and a float32 run never holds an ``[n, d]`` float64 array. Every block
        equals the rows of a draw for all nodes (the draws are a pure function of each node's counters), so
        the values are the same bit for bit.

        Precision: a float32 run gets the float64 draw rounded once to float32, the same numbers as before
        and as a float64 run's draw rounded. The transform itself is kept in float64 because in float32
        (i) a uniform within 2⁻²⁵ of 1 rounds to 1.0, so −log U = 0 and the α-stable and Pareto transforms
        divide by zero or lose their largest draws, (ii) U ~ (−π/2, π/2) can round past ±π/2 where
        cos V < 0, and (iii) 24-bit inputs would cut the heavy tails far out, the very region the
        heavy-tail methods are tested on. What holds for every dtype: each value is a pure function of
        (seed, node, step, call, coordinate), independent of the layout, the block size, the thread count
        and the process that draws it, so a distributed run draws the simulator's rows.
        """
        nodes = torch.as_tensor(nodes, dtype=torch.int64).reshape(-1)
        rows = max(1, BLOCK // max(d, 1))
        if len(nodes) <= rows:
            return self._scaled(seed, nodes, step, d, call).to(dtype)
        out = torch.empty(len(nodes), d, dtype=dtype, device=nodes.device)
        with one_thread():
            for r0 in range(0, len(nodes), rows):
                out[r0 : r0 + rows] = self._scaled(seed, nodes[r0 : r0 + rows], step, d, call)
        return out

    def _scaled(self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int) -> torch.Tensor:
        z = self.standard(seed, nodes, step, d, call)
        return z.mul_(self.scale) if self.scale != 1.0 else z

    def moments(self) -> dict[str, Any]:
        """Which moments exist: ``{"mean": bool, "variance": bool, "max_moment": p}`` (``E|ξ|^q < ∞`` for q < p)."""
        raise NotImplementedError

    def scipy(self) -> Any:
        """The same distribution as a frozen ``scipy.stats`` object (for tests), or None for ``none``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


def moments_from_tail(max_moment: float) -> dict[str, Any]:
    """The moments dict of a law with ``E|ξ|^q < ∞`` exactly for ``q < max_moment``."""
    return {"mean": max_moment > 1.0, "variance": max_moment > 2.0, "max_moment": float(max_moment)}


def check_has_mean(name: str, value: float, owner: str, allow_no_mean: bool) -> float:
    """Refuse a tail index ``value ≤ 1`` (the law has no mean, so "zero-mean noise" is meaningless, exactly
    like α-stable with α ≤ 1) unless ``allow_no_mean`` opts in, as for a stress test (see ``cauchy``)."""
    if value <= 1.0 and not allow_no_mean:
        raise ValidationError(
            f"{owner}: {name} = {value:g} ≤ 1 has no mean, so the noise cannot be zero-mean; "
            f"use {name} > 1, or set allow_no_mean = true for a stress test (like 'cauchy')"
        )
    return value


def check_finite_positive(name: str, value: float, owner: str) -> float:
    """``0 < value < ∞`` (a scale or shape parameter), else :class:`~tailtamer.errors.ValidationError`."""
    return check_range(name, value, 0.0, math.inf, lo_open=True, hi_open=True, owner=owner)
