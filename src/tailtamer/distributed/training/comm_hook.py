"""Compressed data-parallel training: a ``DistributedDataParallel`` communication hook that runs a registered
server method (``ef``, ``ef21``, ``dcsgd``, ``dsignsgd``, ``dsgd-server``, ``powersgd``) on each gradient bucket,
with the project's compressors (``top-k``, ``rand-k``, ``qsgd``, ``sign``, ``scaled-sign``, ``powersgd``, ...).

Usage (``torchrun --nproc-per-node N train.py``)::

    model = DistributedDataParallel(make_model())
    state, hook = compressed_hook(model, "ef", {"name": "top-k", "k": 100}, lr=0.1)
    model.register_comm_hook(state, hook)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)     # the hook's output is the method's whole step

Per bucket and step t, the hook reads the bucket's parameters x and this rank's gradient g, runs the method's
own ``step`` (its rule, step size ``lr``·``schedule``, error-feedback memory, compressor) with ``g`` as the
gradient oracle over a :class:`~tailtamer.comm.distributed.DistributedComm` — so the packets on the wire are
the codec's, all-gathered and decoded exactly as in the simulator — and returns the displacement
``x − x_new``; an SGD optimizer with ``lr = 1`` then lands on ``x_new``. The method's memories (e, gᵢ,
PowerSGD's Q) live in :class:`CompressedHookState` per bucket and are saved by its ``state_dict``.

EF21 (``ef21``) needs ∇fᵢ at the new iterate inside its step; in DDP that gradient arrives at the next
step, so the hook runs EF21 in the equivalent pipelined order: at step t it folds the compressed difference
Cᵢ(∇fᵢ(x_t) − gᵢ) into g (with the randomness of the simulator's step t − 1) and moves x by −η_t·g. The
iterates are the simulator's.

A compressor acts on each bucket as one vector (as torch's ``powerSGD_hook`` does), its coordinates in the model's
parameter order (DDP's buckets list them in reverse); with a single bucket the run equals the simulator's server
method on the model's flat parameter vector. A bucket is known by the parameters it holds, and a bucket that DDP's
one-time rebuild (after the first step) regroups takes over its parameters' slices of the error memories and their
step count (other state, such as PowerSGD's warm-start Q, starts fresh). Random compressors draw from the counter-
based stream of (seed, rank, step), a bucket whose first parameter is the model's i-th using seed + i·1_000_003.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from ...algorithms import ALGORITHMS
from ...algorithms.base import State
from ...algorithms.server.base import ServerMethod, roundtrip
from ...comm.distributed import DistributedComm
from ...comm.health import DEFAULT_TIMEOUT
from ...compression import build_compressor
from ...rng import Randomness
from .flat import flatten
from .guard import SetupError, require_group
from .oracle import BackwardOracle

#: The server methods the hook runs.
METHODS = ("ef", "ef21", "dcsgd", "dsignsgd", "dsgd-server", "powersgd")
#: Seed offset between buckets (independent randomness per bucket).
BUCKET_SEED = 1_000_003


@dataclass(frozen=True)
class BucketSlot:
    """Where one parameter of a bucket sits in its flat vector (the layout PowerSGD plans its matrices from)."""

    offset: int
    numel: int
    shape: tuple[int, ...]


class BucketLayout:
    """The flat layout of a bucket's parameters (``slots``, ``dim``), duck-typed like a model's ParamLayout."""

    def __init__(self, params: list[torch.Tensor]):
        self.slots, at = [], 0
        for p in params:
            self.slots.append(BucketSlot(at, p.numel(), tuple(p.shape)))
            at += p.numel()
        self.dim = at


class CompressedHookState:
    """The hook's state: the server method, the comm, and per bucket its memories and step counter."""

    def __init__(
        self,
        model: torch.nn.Module,
        method: str,
        compressor: str | dict[str, Any] | None,
        *,
        steps: int,
        seed: int,
        group: Any,
        timeout: float,
        hyper: dict[str, Any],
    ):
        params = list(model.parameters())
        self._index = {id(p): i for i, p in enumerate(params)}
        if method not in METHODS:
            raise SetupError(f"compressed_hook: method must be one of {', '.join(METHODS)}, got {method!r}")
        if hyper.get("rule", "schedule") == "oracle":
            raise SetupError(
                "compressed_hook: the 'oracle' step rule reads the exact full gradient, which a "
                "training script does not have; use rule = 'schedule' or 'practical'"
            )
        cls = ALGORITHMS.get(method)
        extra: dict[str, Any] = {}
        if getattr(cls, "compresses", False):
            spec = {"name": compressor} if isinstance(compressor, str) else compressor
            extra["compressor"] = build_compressor(spec)
            if method == "ef21" and extra["compressor"].stateful:
                raise SetupError(
                    "compressed_hook: ef21 runs pipelined in a DDP hook and cannot carry a stateful "
                    "compressor (powersgd); use ef or dcsgd with powersgd, or the powersgd method"
                )
        elif compressor is not None:
            raise SetupError(f"compressed_hook: method '{method}' has its own compression; pass compressor=None")
        self.algorithm: ServerMethod = ALGORITHMS.build(method, dict(hyper), section="algorithm", steps=steps, **extra)
        self.method, self.seed = method, int(seed)
        require_group(params[0].device, timeout)
        self.comm = DistributedComm(
            None, group=group, timeout=timeout, device=params[0].device, n=dist.get_world_size(group)
        )
        self.buckets: dict[tuple[int, ...], State] = {}
        self.steps: dict[tuple[int, ...], int] = {}
        self._layouts: dict[tuple[int, ...], BucketLayout] = {}
        self._owner: dict[int, tuple[int, ...]] = {}  # parameter → the bucket now holding it

    # ---- one bucket ---------------------------------------------------------------------------------
    def update(self, grad: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
        """The method's displacement ``x − x_new`` for a bucket of ``params`` whose gradients are ``grad`` (flat,
        in the bucket's order; returned in that order)."""
        try:
            where = [self._index[id(p)] for p in params]
        except KeyError:
            raise SetupError(
                "compressed_hook: a bucket holds parameters of another model than the one given to compressed_hook"
            ) from None
        order = sorted(range(len(params)), key=lambda i: where[i])
        key = tuple(where[i] for i in order)
        canon = [params[i] for i in order]
        views = _views(grad, params)
        g = flatten([views[i] for i in order]).to(grad.dtype)
        x = flatten(canon).to(grad.dtype)
        layout = self._layouts.get(key)
        if layout is None:
            self.algorithm.check_dim(g.shape[1])  # e.g. ef with an unbiased compressor of omega >= 1: one line
            layout = self._layouts[key] = BucketLayout(canon)
        memory, t = self._memory(key, x)
        seed = self.seed + BUCKET_SEED * key[0]
        oracle = BackwardOracle(g, Randomness(seed, self.comm.nodes, t), self.method, layout)
        if self.method == "ef21":
            new = self._ef21(memory, x, oracle, Randomness(seed, self.comm.nodes, t - 1), t)
        else:
            s = self.algorithm.init(x, self.comm) if memory is None else {**memory, "x": x}
            new = self.algorithm.step(s, oracle, self.comm, t)
        self.buckets[key] = {k: v for k, v in new.items() if k != "x"}
        self.steps[key] = t + 1
        moved = _views((x - new["x"]).reshape(-1), canon)
        out = torch.empty_like(grad)
        for slot, i in zip(_views(out, params), [order.index(j) for j in range(len(params))]):
            slot.copy_(moved[i])
        return out

    def _memory(self, key: tuple[int, ...], x: torch.Tensor) -> tuple[State | None, int]:
        """``(memory, t)`` of the bucket holding parameters ``key``. A bucket DDP regrouped (its one-time rebuild
        after the first step) takes its parameters' slices of the old buckets' memories — every memory shaped
        like the bucket's row — and their step count; other state (PowerSGD's Q) starts fresh."""
        if key in self.buckets or not self.buckets:
            for param in key:
                self._owner.setdefault(param, key)
            return self.buckets.get(key), self.steps.get(key, 0)
        parts: dict[str, dict[int, torch.Tensor]] = {}
        t = None
        for old, mem in self.buckets.items():
            layout = self._layouts[old]
            for pos, param in enumerate(old):
                if param not in key:
                    continue
                t = self.steps[old] if t is None else t
                slot = layout.slots[pos]
                for name, v in mem.items():
                    if v.shape[-1] == layout.dim:
                        parts.setdefault(name, {})[param] = v[:, slot.offset : slot.offset + slot.numel]
        if t is None:
            return None, 0
        fresh = {k: v for k, v in self.algorithm.init(x, self.comm).items() if k != "x"}
        carried = {
            name: torch.cat([got[p] for p in key], dim=1) for name, got in parts.items() if all(p in got for p in key)
        }
        for param in key:
            self._owner[param] = key
        for old in [old for old in self.buckets if all(self._owner.get(p) != old for p in old)]:
            del self.buckets[old], self.steps[old], self._layouts[old]  # regrouped away entirely
        return {**fresh, **carried}, t

    def _ef21(
        self, memory: State | None, x: torch.Tensor, oracle: BackwardOracle, previous: Randomness, t: int
    ) -> State:
        """EF21 (Richtárik et al. 2021) in DDP order: g folds C(∇fᵢ(x_t) − gᵢ), then x ← x − η_t g."""
        alg, g_local = self.algorithm, oracle(x)
        if memory is None:  # g_i⁰ = ∇f_i(x⁰), sent dense once
            gi, g = g_local, self.comm.mean(g_local)
        else:
            codec = alg.compressor.codec(previous, call=0)
            diff = g_local - memory["gi"]
            gi = memory["gi"] + roundtrip(codec, diff)
            g = memory["g"] + self.comm.mean(diff, codec=codec)
        return {"x": x - alg.step_size(t, x, g, oracle, self.comm) * g, "gi": gi, "g": g}

    # ---- checkpoints --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Memories and step counters per bucket (copies), the method and the seed."""
        return {
            "method": self.method,
            "seed": self.seed,
            "steps": dict(self.steps),
            "buckets": {i: {k: v.detach().clone() for k, v in s.items()} for i, s in self.buckets.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (same method; the model's parameters come from the model's own)."""
        if state["method"] != self.method:
            raise SetupError(f"hook state of '{state['method']}' loaded into a '{self.method}' hook")
        self.seed, self.steps = int(state["seed"]), {tuple(k): int(t) for k, t in state["steps"].items()}
        self.buckets = {tuple(k): {n: v.clone() for n, v in s.items()} for k, s in state["buckets"].items()}


def _hook(state: CompressedHookState, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
    fut: torch.futures.Future[torch.Tensor] = torch.futures.Future()
    fut.set_result(state.update(bucket.buffer(), list(bucket.parameters())))
    return fut


# DDP compares the hook's annotations with the classes themselves (not the strings of postponed annotations).
_hook.__annotations__ = {
    "state": CompressedHookState,
    "bucket": dist.GradBucket,
    "return": torch.futures.Future[torch.Tensor],
}


def _views(flat: torch.Tensor, like: list[torch.Tensor]) -> list[torch.Tensor]:
    out, at = [], 0
    for p in like:
        out.append(flat[at : at + p.numel()])
        at += p.numel()
    return out


def compressed_hook(
    model: torch.nn.Module,
    method: str = "ef",
    compressor: str | dict[str, Any] | None = None,
    *,
    lr: float = 0.01,
    steps: int = 1000,
    seed: int = 0,
    group: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
    **hyper: Any,
) -> tuple[CompressedHookState, Callable[..., Any]]:
    """``(state, hook)`` for ``DistributedDataParallel.register_comm_hook``: server method ``method`` with
    ``compressor`` (a registered name or ``{"name": ..., **params}``, like ``[compression]``).

    Args:
        model: the model DDP wraps (or the DDP module): its parameter order is the flat vector's order.
        method: one of :data:`METHODS`.
        compressor: for ef, ef21, dcsgd (dsignsgd and powersgd compress by themselves: None).
        lr: the method's base step size; ``schedule``, ``warmup``, ``rule`` (``schedule`` | ``practical``) and
            the method's other hyperparameters go in ``hyper``. Pair the hook with ``SGD(lr=1.0)``.
        steps: the horizon T of the schedules.
        seed: the seed of random compressors.
        timeout: seconds a collective may wait before failing with an error naming the rank at fault.
    """
    state = CompressedHookState(
        model, method, compressor, steps=steps, seed=seed, group=group, timeout=timeout, hyper={"lr": lr, **hyper}
    )
    return state, _hook
