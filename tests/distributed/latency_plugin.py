"""Test plugin: every message of a real run is delivered α seconds late (the latency term of the cluster model).

Loaded by ``tailtamer launch --plugin tests/distributed/latency_plugin.py`` in every process of the run
(:mod:`tailtamer.plugins`); α is ``float(os.environ["TAILTAMER_TEST_LATENCY"])`` seconds (0 or unset: the plugin
changes nothing). Used by ``tests/distributed/test_cluster_validation.py`` and ``benchmarks/cluster_validation.py``
only; no product code knows of it.

What "a message" is, per transport:

* ``comm.mix`` (``batch_isend_irecv`` of every neighbour message at once): the round completes, then α passes —
  the messages travel in parallel, so one α per gossip round.
* ``comm.mean`` (``all_reduce``): gloo's collective is replaced by the ring it runs — a reduce-scatter then an
  all-gather, n − 1 hops each, every rank sending 1/n of the buffer to its right neighbour per hop, so the
  bytes per rank are gloo's 2(n − 1)/n · b — made of point-to-point messages, each delivered α late:
  2(n − 1) α per all-reduce.
* ``all_gather`` (a compressed ``comm.mean``: one per packet tensor): the ring of n − 1 hops gloo runs, each
  rank passing on one block per hop, each hop α late.
* the asynchronous transport (server listeners and worker listeners, ``dist.irecv``): each received message
  is handed over α after it arrived, so a job's download and its upload are each α late, while the
  server's main loop and the other workers go on (a receiver-side delay never blocks a sender).

The rings are sequential point-to-point hops, like gloo's (whose ring pipelines segments of large buffers:
the hop count here is the textbook ring's, the one the cluster model's ``ring_allreduce`` and ``all_gather``
charge α for). Only the training traffic is delayed, the calls ``comm.stats`` counts: evaluations and
checkpoints (uncounted, and outside both the measured time and ``sim_time``) keep gloo's own collectives, so
the test does not wait for them.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist

import tailtamer.comm.distributed as lockstep
import tailtamer.distributed.asynchronous.server as async_server
import tailtamer.distributed.asynchronous.worker as async_worker

#: The environment variable holding α (seconds per message).
ENV = "TAILTAMER_TEST_LATENCY"
ALPHA = float(os.environ.get(ENV, "0") or 0.0)

#: Whether the comm call in progress is training traffic (counted by ``comm.stats``): only that is delayed.
_training = False


class _Done:
    """A finished request (what ``async_op=True`` returns; ``wait`` returns at once)."""

    def wait(self, timeout: Any = None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True


class _Late:
    """A receive whose ``wait`` returns α after the message arrived."""

    def __init__(self, work: Any):
        self.work = work

    def wait(self, timeout: Any = None) -> bool:
        done = self.work.wait(timeout) if timeout is not None else self.work.wait()
        time.sleep(ALPHA)
        return done


def _hop(send: torch.Tensor, recv: torch.Tensor, group: Any) -> None:
    """One ring hop: send ``send`` to the right neighbour, receive ``recv`` from the left one, then α."""
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    ops = [
        dist.P2POp(dist.isend, send, (rank + 1) % world, group),
        dist.P2POp(dist.irecv, recv, (rank - 1) % world, group),
    ]
    for work in dist.batch_isend_irecv(ops):
        work.wait()
    time.sleep(ALPHA)


def _counted(method: Callable[..., Any]) -> Callable[..., Any]:
    """``DistributedComm.mix``/``mean`` marking their traffic as training traffic unless the counters are paused."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        global _training
        _training = not self.stats._paused
        try:
            return method(self, *args, **kwargs)
        finally:
            _training = False

    return wrapper


class LockstepDist:
    """``torch.distributed`` as :mod:`tailtamer.comm.distributed` sees it, with α per message of training."""

    def __getattr__(self, name: str) -> Any:
        return getattr(dist, name)

    def batch_isend_irecv(self, ops: list[Any]) -> list[Any]:
        if not _training:
            return dist.batch_isend_irecv(ops)
        for work in dist.batch_isend_irecv(ops):
            work.wait()
        time.sleep(ALPHA)
        return [_Done() for _ in ops]

    def all_reduce(self, tensor: torch.Tensor, op: Any = None, group: Any = None, async_op: bool = False) -> Any:
        """Ring all-reduce (sum) of point-to-point hops: reduce-scatter, then all-gather."""
        if not _training:
            return dist.all_reduce(tensor, op=op or dist.ReduceOp.SUM, group=group, async_op=async_op)
        if op not in (None, dist.ReduceOp.SUM):
            raise NotImplementedError("the latency plugin's all_reduce sums only (DistributedComm's one use)")
        rank, world = dist.get_rank(group), dist.get_world_size(group)
        chunks = list(torch.tensor_split(tensor.view(-1), world))
        for s in range(world - 1):  # after it, rank r holds the full sum of chunk r + 1
            into = chunks[(rank - s - 1) % world]
            buf = torch.empty_like(into)
            _hop(chunks[(rank - s) % world].clone(), buf, group)
            into.add_(buf)
        for s in range(world - 1):
            _hop(chunks[(rank - s + 1) % world].clone(), chunks[(rank - s) % world], group)
        return _Done()

    def all_gather(self, parts: list[torch.Tensor], tensor: torch.Tensor, group: Any = None, async_op: bool = False):
        """Ring all-gather of point-to-point hops: each rank passes on the block it received last."""
        if not _training:
            return dist.all_gather(parts, tensor, group=group, async_op=async_op)
        rank, world = dist.get_rank(group), dist.get_world_size(group)
        parts[rank].copy_(tensor)
        for s in range(world - 1):
            _hop(parts[(rank - s) % world].contiguous(), parts[(rank - s - 1) % world], group)
        return _Done()


class AsyncDist:
    """``torch.distributed`` as the asynchronous server and workers see it: receives α late."""

    def __getattr__(self, name: str) -> Any:
        return getattr(dist, name)

    def irecv(self, *args: Any, **kwargs: Any) -> _Late:
        return _Late(dist.irecv(*args, **kwargs))


if ALPHA > 0:
    lockstep.DistributedComm.mix = _counted(lockstep.DistributedComm.mix)  # type: ignore[method-assign]
    lockstep.DistributedComm.mean = _counted(lockstep.DistributedComm.mean)  # type: ignore[method-assign]
    lockstep.dist = LockstepDist()  # type: ignore[assignment]
    async_server.dist = async_worker.dist = AsyncDist()  # type: ignore[assignment]
