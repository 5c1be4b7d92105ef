"""Counter-based random numbers: every draw is a pure function of (seed, stream, node, step, call, coordinate).

The simulator (all nodes in one tensor), a torch.distributed run (a few rows per process), a resumed run and
a GPU run therefore draw exactly the same numbers for the same node and step. Bits come from the SplitMix64
finaliser (Steele, Lea, Flood 2014) applied to a key that mixes the counters, vectorised over nodes and
coordinates.

Two implementations give the same bits (tests/core/test_rng.py checks both against the scalar :func:`mix64`):

- the fast path, for CPU tensors: numpy ``uint64`` arithmetic (wrapping multiplication and a native logical
  shift, three ops per SplitMix64 round instead of four) over blocks of :data:`CHUNK` entries that stay in
  the CPU cache, writing each block's uniforms straight into the output (no ``[n, d]`` integer temporary).
  The finaliser's first multiplication is distributed over the sum key + coordinate·M2 (arithmetic modulo
  2⁶⁴ is a ring, so ``(k + c·M2)·γ = k·γ + c·(M2·γ)``): it is applied once per node and once per column
  instead of once per entry, the same bits for one pass fewer;
- :func:`mix64_tensor`, torch ``int64`` arithmetic (logical shifts emulated with masks), for tensors on
  another device (a GPU), where the same counters give the same numbers.

Example:
    >>> import torch
    >>> u = uniform(seed=0, stream="noise", nodes=torch.arange(3), step=5, d=4)
    >>> u.shape, bool((u > 0).all() and (u < 1).all())
    (torch.Size([3, 4]), True)
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import torch

_MASK = (1 << 64) - 1
_G = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def _signed(v: int) -> int:
    v &= _MASK
    return v - (1 << 64) if v >= 1 << 63 else v


def mix64(z: int) -> int:
    """``fmix(z·γ)``: the z-th output of SplitMix64 seeded with 0 (γ its golden-ratio increment, fmix its
    finaliser); the scalar reference of :func:`mix64_tensor`."""
    z = (z * _G) & _MASK
    z ^= z >> 30
    z = (z * _M1) & _MASK
    z ^= z >> 27
    z = (z * _M2) & _MASK
    z ^= z >> 31
    return z


def _srl(y: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 bits."""
    return (y >> k) & ((1 << (64 - k)) - 1)


def mix64_tensor(y: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """SplitMix64 finaliser on an int64 tensor (bitwise equal to :func:`mix64` modulo 2**64).

    Works in place (on a copy unless ``inplace``) with one scratch buffer: the allocations, not the
    arithmetic, dominate an out-of-place form.
    """
    y = y if inplace else y.clone()
    tmp = torch.empty_like(y)
    for mult, shift in ((_G, 30), (_M1, 27), (_M2, 31)):
        y.mul_(_signed(mult))
        torch.bitwise_right_shift(y, shift, out=tmp)
        tmp.bitwise_and_((1 << (64 - shift)) - 1)
        y.bitwise_xor_(tmp)
    return y


#: Entries per block of the fast path (256 KiB of uint64: the block and its scratch stay in L2).
CHUNK = 32768
_ROUNDS_NP = tuple((np.uint64(m), np.uint64(s)) for m, s in ((_G, 30), (_M1, 27), (_M2, 31)))
_G_NP, _M2_NP, _SHIFT_53 = np.uint64(_G), np.uint64(_M2), np.uint64(11)
_M2G_NP = np.uint64((_M2 * _G) & _MASK)


def _mix_np(y: np.ndarray, tmp: np.ndarray, premultiplied: bool = False) -> np.ndarray:
    """SplitMix64 finaliser in place on a uint64 array (``tmp``: scratch of the same shape);
    ``premultiplied``: ``y`` already holds the input times γ (the first multiplication is skipped)."""
    for i, (mult, shift) in enumerate(_ROUNDS_NP):
        if i or not premultiplied:
            np.multiply(y, mult, out=y)
        np.right_shift(y, shift, out=tmp)
        np.bitwise_xor(y, tmp, out=y)
    return y


def _node_keys_np(seed: int, stream: str | int, nodes: np.ndarray, step: int, call: int) -> np.ndarray:
    if isinstance(seed, RowSeeds):
        node, base = seed.decode(nodes, stream, step, call)
        k = node * _G_NP + base
    else:
        k = nodes.astype(np.uint64) * _G_NP + np.uint64(base_key(seed, stream, step, call))
    return _mix_np(k, np.empty_like(k))


def _unit_np(b: np.ndarray, out: np.ndarray) -> None:
    """Top 53 bits of ``b`` (overwritten) → uniforms ``(k + ½)·2⁻⁵³`` in ``out`` (float64, exact)."""
    np.right_shift(b, _SHIFT_53, out=b)
    np.add(b, 0.5, out=out, casting="unsafe")  # k < 2**53 converts exactly; + ½ rounds as torch's add does
    out *= 2.0**-53


def _fill_np(
    seed: int,
    stream: str | int,
    nodes: torch.Tensor,
    step: int,
    d: int,
    call: int,
    out: np.ndarray,
    finish: Callable[[np.ndarray, np.ndarray], None],
) -> None:
    """Bits of the ``[len(nodes), d]`` grid block by block; ``finish(bits, out_block)`` writes each block."""
    keys = _node_keys_np(seed, stream, nodes.numpy().reshape(-1), step, call) * _G_NP  # (k + c·M2)·γ
    coords = np.arange(d, dtype=np.uint64) * _M2G_NP  # = k·γ + c·(M2·γ)
    n, flat = len(keys), out.reshape(-1)
    buf = np.empty(min(CHUNK, max(n * d, 1)) if d <= CHUNK else CHUNK, dtype=np.uint64)
    tmp = np.empty_like(buf)
    if d <= CHUNK:  # blocks of whole rows
        rows = max(1, CHUNK // max(d, 1))
        # the outer sum by torch's int64 add (the same bits modulo 2**64; numpy's broadcast loop is 2x slower)
        tkeys, tcoords = torch.from_numpy(keys.view(np.int64)), torch.from_numpy(coords.view(np.int64))[None, :]
        tbuf = torch.from_numpy(buf.view(np.int64))
        for r0 in range(0, n, rows):
            r1 = min(n, r0 + rows)
            m = (r1 - r0) * d
            b = buf[:m]
            torch.add(tcoords, tkeys[r0:r1, None], out=tbuf[:m].view(r1 - r0, d))
            finish(_mix_np(b, tmp[:m], premultiplied=True), flat[r0 * d : r1 * d])
    else:  # blocks within a row
        for r in range(n):
            for c0 in range(0, d, CHUNK):
                m = min(CHUNK, d - c0)
                b = buf[:m]
                np.add(coords[c0 : c0 + m], keys[r], out=b)
                finish(_mix_np(b, tmp[:m], premultiplied=True), flat[r * d + c0 : r * d + c0 + m])


def _copy_bits(b: np.ndarray, out: np.ndarray) -> None:
    out[...] = b


def _fast(t: torch.Tensor) -> bool:
    return t.device.type == "cpu"


def stream_id(stream: str | int) -> int:
    """A stable integer for a stream name (independent of Python's hash seed)."""
    return stream if isinstance(stream, int) else zlib.crc32(stream.encode())


def base_key(seed: int, stream: str | int, step: int, call: int = 0) -> int:
    """Scalar key of (seed, stream, step, call)."""
    k = mix64(seed & _MASK)
    for part in (stream_id(stream), step, call):
        k = mix64(k ^ (part & _MASK))
    return k


def _keys(seed: int, stream: str | int, node_ids: torch.Tensor, step: int, call: int) -> torch.Tensor:
    if isinstance(seed, RowSeeds):
        ids = torch.as_tensor(node_ids, dtype=torch.int64)
        keys = _node_keys_np(seed, stream, ids.cpu().numpy().reshape(-1), step, call)
        return torch.from_numpy(keys.view(np.int64)).reshape(ids.shape).to(ids.device)
    key = _signed(base_key(seed, stream, step, call))
    return mix64_tensor(torch.as_tensor(node_ids, dtype=torch.int64) * _signed(_G) + key, inplace=True)


def bits(seed: int, stream: str | int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
    """Random int64 bits of shape ``[len(nodes), d]`` for global node ids ``nodes``."""
    nodes = torch.as_tensor(nodes, dtype=torch.int64)
    if _fast(nodes):
        out = np.empty((nodes.numel(), d), dtype=np.uint64)
        _fill_np(seed, stream, nodes, step, d, call, out, _copy_bits)
        return torch.from_numpy(out.view(np.int64))
    return bits_reference(seed, stream, nodes, step, d, call)


def bits_reference(seed: int, stream: str | int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
    """:func:`bits` by torch int64 arithmetic (:func:`mix64_tensor`) on ``nodes``' device: the path for
    non-CPU tensors, and the reference the fast path is tested against."""
    nodes = torch.as_tensor(nodes, dtype=torch.int64)
    node_key = _keys(seed, stream, nodes.reshape(-1, 1), step, call)
    coords = torch.arange(d, dtype=torch.int64, device=nodes.device).reshape(1, -1)
    return mix64_tensor(node_key + coords * _signed(_M2), inplace=True)


def bits_at(
    seed: int, stream: str | int, node_ids: torch.Tensor, coords: torch.Tensor, step: int, call: int = 0
) -> torch.Tensor:
    """The bits :func:`bits` gives at the pairs ``(node_ids[i], coords[i])`` (1-D tensors of one length):
    lets a rejection sampler redraw single entries without drawing whole rows."""
    node_ids, coords = torch.as_tensor(node_ids, dtype=torch.int64), torch.as_tensor(coords, dtype=torch.int64)
    if _fast(node_ids) and _fast(coords):
        b = _node_keys_np(seed, stream, node_ids.numpy().reshape(-1), step, call)
        b += coords.numpy().reshape(-1).astype(np.uint64) * _M2_NP
        return torch.from_numpy(_mix_np(b, np.empty_like(b)).view(np.int64))
    node_key = _keys(seed, stream, node_ids, step, call)
    return mix64_tensor(node_key + torch.as_tensor(coords, dtype=torch.int64) * _signed(_M2), inplace=True)


def to_unit(b: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Random int64 bits → uniforms on (0, 1) from their top 53 bits."""
    u = torch.bitwise_right_shift(b, 11).bitwise_and_((1 << 53) - 1).to(torch.float64)
    return u.add_(0.5).mul_(2.0**-53).to(dtype)


def uniform(
    seed: int,
    stream: str | int,
    nodes: torch.Tensor,
    step: int,
    d: int,
    call: int = 0,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Uniform draws on the open interval (0, 1), 53 random bits each, shape ``[len(nodes), d]``
    (computed in float64, then rounded once to ``dtype``)."""
    nodes = torch.as_tensor(nodes, dtype=torch.int64)
    if not _fast(nodes):
        return to_unit(bits_reference(seed, stream, nodes, step, d, call), dtype)
    out = np.empty((nodes.numel(), d), dtype=np.float64)
    _fill_np(seed, stream, nodes, step, d, call, out, _unit_np)
    u = torch.from_numpy(out)
    return u if dtype == torch.float64 else u.to(dtype)


def uniform_at(
    seed: int, stream: str | int, node_ids: torch.Tensor, coords: torch.Tensor, step: int, call: int = 0
) -> torch.Tensor:
    """:func:`uniform` at the pairs ``(node_ids[i], coords[i])`` only (equal entry by entry)."""
    return to_unit(bits_at(seed, stream, node_ids, coords, step, call))


def normal(
    seed: int,
    stream: str | int,
    nodes: torch.Tensor,
    step: int,
    d: int,
    call: int = 0,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Standard normal draws by the Box–Muller transform of two independent uniform streams."""
    s = stream_id(stream)
    u1 = uniform(seed, s, nodes, step, d, call)
    u2 = uniform(seed, s ^ 0x5A5A5A5A, nodes, step, d, call)
    return (torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * torch.pi * u2)).to(dtype)


def seed_for(seed: int, stream: str | int, *counters: int) -> int:
    """A 63-bit seed for a ``torch.Generator`` derived from counters (for draws that are not per node)."""
    k = mix64(seed & _MASK) ^ stream_id(stream)
    for c in counters:
        k = mix64(k ^ (c & _MASK))
    return k & ((1 << 63) - 1)


class Randomness:
    """The randomness handle of one step: every draw is a pure function of (seed, stream, node, step, call).

    The engine hands one to every algorithm step (``grad.rng``, see :class:`tailtamer.algorithms.base.Oracle`);
    methods that draw (client sampling, random compressors, random delays) use it instead of any global
    generator, so the simulator, a torch.distributed run hosting some of the rows, and a resumed run draw
    the same numbers. ``stream`` names what is drawn (``"clients"``, ``"compress"``, ...): two streams of
    one step are independent, and so are two ``call`` values of one stream.

    Args:
        seed: the run's seed.
        nodes: global ids of the rows this process hosts (``comm.nodes``).
        step: the step t (a round or a server update).

    Example:
        >>> r = Randomness(seed=0, nodes=torch.arange(2), step=3)
        >>> r.uniform("compress", 4).shape
        torch.Size([2, 4])
        >>> bool((r.uniform("clients", 1, nodes=torch.arange(5))[:2] == r.uniform("clients", 1)).all())
        True
    """

    __slots__ = ("seed", "nodes", "step")

    def __init__(self, seed: int, nodes: torch.Tensor, step: int):
        self.seed, self.nodes, self.step = int(seed), torch.as_tensor(nodes, dtype=torch.int64), int(step)

    def _ids(self, nodes: torch.Tensor | None) -> torch.Tensor:
        return self.nodes if nodes is None else torch.as_tensor(nodes, dtype=torch.int64)

    def bits(self, stream: str | int, d: int, call: int = 0, nodes: torch.Tensor | None = None) -> torch.Tensor:
        """Random int64 bits ``[len(nodes), d]`` (``nodes``: the local rows unless given, e.g. all n ids)."""
        return bits(self.seed, stream, self._ids(nodes), self.step, d, call)

    def uniform(
        self,
        stream: str | int,
        d: int,
        call: int = 0,
        nodes: torch.Tensor | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> torch.Tensor:
        """Uniforms on (0, 1), ``[len(nodes), d]``; equal to :func:`uniform` with this step's counters."""
        return uniform(self.seed, stream, self._ids(nodes), self.step, d, call, dtype)

    def normal(
        self,
        stream: str | int,
        d: int,
        call: int = 0,
        nodes: torch.Tensor | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> torch.Tensor:
        """Standard normals, ``[len(nodes), d]`` (:func:`normal` with this step's counters)."""
        return normal(self.seed, stream, self._ids(nodes), self.step, d, call, dtype)

    def uniform_per_id(self, stream: str | int, n: int, call: int = 0) -> torch.Tensor:
        """One uniform for every node id ``0..n−1`` of the run, ``[1, n]`` (one row per run: a stacked run's
        :class:`~tailtamer.engine.stacked.oracle.MemberRandomness` gives ``[R, n]``, each member's own), the
        same on every process whatever rows it hosts: what a choice among all nodes (client sampling) draws."""
        return self.uniform(stream, 1, call, nodes=torch.arange(n))[:, 0].reshape(1, n)

    def at_rows(self, per_id: torch.Tensor) -> torch.Tensor:
        """``per_id`` (``[1, n]``: a value per node id, as :meth:`uniform_per_id` gives) at this process's rows,
        ``[n_local, ...]``."""
        return per_id[0][self.nodes.cpu()]

    def generator(self, stream: str | int, call: int = 0, device: str | torch.device = "cpu") -> torch.Generator:
        """A ``torch.Generator`` seeded from (seed, stream, step, call), for draws that belong to no node
        (a server's choice); every process seeds it identically."""
        g = torch.Generator(device=device)
        g.manual_seed(seed_for(self.seed, stream, self.step, call))
        return g

    def __repr__(self) -> str:
        return f"Randomness(seed={self.seed}, nodes={self.nodes.tolist()}, step={self.step})"


def _mix_array(z: np.ndarray) -> np.ndarray:
    """:func:`mix64` element-wise on a uint64 array (a new array)."""
    z = z * _G_NP
    for mult, shift in ((_M1, 30), (_M2, 27), (None, 31)):
        z ^= z >> np.uint64(shift)
        if mult is not None:
            z *= np.uint64(mult)
    return z


class RowSeeds:
    """Per-member seeds of a stacked run (:mod:`tailtamer.engine.stacked.loop`), passed where a seed is expected.

    R runs of n nodes share one tensor of ``R·n`` rows; a row id ``k`` stands for node ``k mod n`` of member
    ``k // n``, whose seed is ``seeds[k // n]``. Every function of this module given a ``RowSeeds`` as its
    seed and row ids as its nodes draws, for row k, exactly what it draws for node ``k mod n`` with seed
    ``seeds[k // n]`` (the same 64-bit keys, so the same bits), so a member of a stacked run draws its
    standalone run's numbers, in one vectorised call for all members. Subsets of rows work alike (a rejection
    sampler's redraws).

    Example:
        >>> s = RowSeeds([3, 7], n=2)
        >>> a = uniform(s, "noise", torch.arange(4), step=5, d=3)
        >>> bool((a[2:] == uniform(7, "noise", torch.arange(2), step=5, d=3)).all())
        True
    """

    def __init__(self, seeds: list[int] | tuple[int, ...], n: int):
        if n < 1 or not len(seeds):
            raise ValueError(f"RowSeeds needs at least one seed and n ≥ 1, got {len(seeds)} seeds, n = {n}")
        self.seeds, self.n = [int(s) for s in seeds], int(n)
        self._mixed = np.array([mix64(s & _MASK) for s in self.seeds], dtype=np.uint64)
        self._memo: dict[tuple, np.ndarray] = {}

    def _memoised(self, key: tuple, make: Callable[[], np.ndarray]) -> np.ndarray:
        """``make()``, kept for the next call with the same ``key``: a draw fills its rows block by block, and
        every block of one (stream, step, call) decodes with the same members' base keys (a few entries kept;
        the arrays never leave this object, only copies indexed from them)."""
        hit = self._memo.get(key)
        if hit is None:
            if len(self._memo) >= 8:
                self._memo.clear()
            hit = self._memo[key] = make()
        return hit

    def base_keys(self, stream: str | int, step: int, call: int) -> np.ndarray:
        """:func:`base_key` of every member's seed (uint64, ``[R]``)."""
        return self.base_keys_at(stream, np.array([step], dtype=np.int64), call)[0]

    def keys(self, stream: str | int, step: int, call: int) -> np.ndarray:
        """:meth:`base_keys`, kept for the next blocks of the same draw (:meth:`_memoised`)."""
        return self._memoised((stream, step, call), lambda: self.base_keys(stream, step, call))

    def base_keys_at(self, stream: str | int, steps: np.ndarray, call: int) -> np.ndarray:
        """:meth:`base_keys` at each of ``steps`` (uint64, ``[len(steps), R]``): the stream, step and call mixed
        into each member's seed in that order, as :func:`base_key` does."""
        k = _mix_array(self._mixed ^ np.uint64(stream_id(stream) & _MASK))
        at = np.asarray(steps, dtype=np.int64).astype(np.uint64) & np.uint64(_MASK)
        k = _mix_array(at[:, None] ^ k[None, :])
        k ^= np.uint64(call & _MASK)
        return _mix_array(k)

    def decode(self, rows: np.ndarray, stream: str | int, step: int, call: int) -> tuple[np.ndarray, np.ndarray]:
        """``(node ids, base key of each row's member)`` of row ids ``rows`` (uint64 arrays)."""
        rows = np.asarray(rows, dtype=np.int64)
        member, node = np.divmod(rows, self.n)
        if rows.size and (member.min() < 0 or member.max() >= len(self.seeds)):
            raise ValueError(
                f"row ids must lie in [0, {len(self.seeds) * self.n}) for {len(self.seeds)} members of {self.n} nodes"
            )
        return node.astype(np.uint64), self.keys(stream, step, call)[member]

    def __repr__(self) -> str:
        return f"RowSeeds({self.seeds}, n={self.n})"
