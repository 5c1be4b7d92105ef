"""The ``Comm`` contract over ``torch.distributed``: neighbour exchange for ``mix``, all-reduce for ``mean``.

Each process (rank) hosts a contiguous block of nodes (:func:`block_bounds`; ``n_local ≥ 1``). The exchange
plan is computed once from W: rank s sends rank r exactly the rows of its nodes that some node of r mixes in
(one message per ordered pair of ranks that share an edge), and ``mix`` posts every send and receive of the
round at once (``batch_isend_irecv``), so no topology — directed, odd n, uneven blocks — can deadlock.
A sparse W (a large topology, :mod:`tailtamer.topology.sparse`) is never densified: the plan comes from its
non-zeros (:func:`exchange_plan`) and a rank keeps only its own rows as CSR (:func:`local_rows`), so its memory
is linear in its edges; a dense W keeps the dense product it always had (the same numbers).
Every operation runs under the process group's timeout; a failure raises
:class:`~tailtamer.comm.health.CommError` naming the peer (see :mod:`tailtamer.comm.health`).

``stats`` counts exactly what :class:`~tailtamer.comm.simulated.SimulatedComm` counts (the traffic of all n
nodes), so run summaries agree; ``wire`` counts what this rank actually put on the network.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
import torch.distributed as dist

from ..topology.sparse import Matrix, as_csr
from .backends import check_backend
from .base import CommStats
from .codec import Codec, Packet, dense_row_bytes, from_bytes, packet_row_bytes, to_bytes
from .health import DEFAULT_TIMEOUT, CommError, default_store, grace_for, mark_failed, roll_call
from .simulated import NoGraphError


def block_bounds(n: int, world: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of the contiguous node block of each rank (sizes differ by at most one)."""
    if world < 1 or n < world:
        raise ValueError(f"cannot place n = {n} nodes on {world} processes: every process needs ≥ 1 node")
    base, extra = divmod(n, world)
    out, start = [], 0
    for r in range(world):
        stop = start + base + (r < extra)
        out.append((start, stop))
        start = stop
    return out


def _owners(ids: np.ndarray, bounds: list[tuple[int, int]]) -> np.ndarray:
    """The rank hosting each node id."""
    return np.searchsorted(np.array([lo for lo, _ in bounds]), ids, side="right") - 1


def _links(W: Matrix) -> sp.coo_array:
    """The off-diagonal non-zeros ``W[i, j] ≠ 0`` (i ≠ j) of a dense or sparse W, as COO (never n × n)."""
    C = sp.coo_array(W)
    keep = (C.row != C.col) & (np.asarray(C.data) != 0)
    return sp.coo_array((np.ones(int(keep.sum()), dtype=bool), (C.row[keep], C.col[keep])), shape=C.shape)


def _grouped(peer: np.ndarray, ids: np.ndarray, n: int) -> dict[int, np.ndarray]:
    """``{p: ascending unique ids[peer == p]}`` for every p present."""
    key = np.unique(peer.astype(np.int64) * n + ids)
    peers, first = np.unique(key // n, return_index=True)
    return {int(p): part % n for p, part in zip(peers, np.split(key, first[1:]))}


def exchange_plan(
    W: Matrix, bounds: list[tuple[int, int]], rank: int
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Global node ids this rank sends to / receives from every peer rank (ascending, non-empty only).

    Works on the non-zeros of W (dense or scipy sparse): time and memory linear in the edges.
    """
    L = _links(W)
    n = int(L.shape[0])
    row, col = L.row.astype(np.int64), L.col.astype(np.int64)
    owner_row, owner_col = _owners(row, bounds), _owners(col, bounds)
    out = (owner_col == rank) & (owner_row != rank)  # my node j, mixed in by a node of another rank
    inn = (owner_row == rank) & (owner_col != rank)  # a node of mine mixes in another rank's node j
    return _grouped(owner_row[out], col[out], n), _grouped(owner_col[inn], col[inn], n)


def local_rows(W: Matrix, lo: int, hi: int, cols: np.ndarray) -> np.ndarray | sp.csr_array:
    """Rows ``lo:hi`` of W over the columns ``cols`` (``[my nodes, received nodes]``): dense when W is dense,
    CSR (only my rows' non-zeros) when W is sparse."""
    if not sp.issparse(W):
        return np.asarray(W, dtype=np.float64)[lo:hi][:, cols]
    R = sp.coo_array(as_csr(W)[lo:hi])
    position = np.full(int(W.shape[0]), -1, dtype=np.int64)  # O(n) ints, not O(n²)
    position[cols] = np.arange(len(cols))
    at = position[R.col]
    if (at < 0).any():
        raise ValueError("a non-zero of W lies outside the columns of the exchange plan")
    return as_csr(sp.coo_array((R.data, (R.row, at)), shape=(hi - lo, len(cols))))


class DistributedComm:
    """A :class:`~tailtamer.comm.base.Comm` over an initialised ``torch.distributed`` process group.

    Args:
        W: the ``[n, n]`` mixing matrix (the same on every rank); ``n ≥`` world size.
        group: the process group (default: the global one).
        timeout: seconds before a receive fails (default: the process group's timeout, else 300 s).
        device: where received buffers live (default: CPU for gloo, the current CUDA device for NCCL).

    Constructing it waits for every rank of the group (a barrier), so a run timed from then on does not count
    the start-up of a slower rank.

    Example (inside a process group, e.g. under ``torchrun``)::

        comm = DistributedComm(topology.W)
        y = comm.mix(x)        # x: [comm.n_local, d] rows of the nodes comm.nodes
    """

    def __init__(
        self,
        W: np.ndarray | None,
        group: Any = None,
        timeout: float | None = None,
        device: str | torch.device | None = None,
        n: int | None = None,
    ):
        if not dist.is_initialized():
            raise RuntimeError("DistributedComm needs an initialised torch.distributed process group")
        self.group = group
        self.rank = dist.get_rank(group)
        self.world = dist.get_world_size(group)
        if W is None:  # a server or federated method: no graph, only ``mean``
            if n is None:
                raise ValueError("DistributedComm without a mixing matrix needs n, the number of nodes")
            self.n, self.edges = int(n), 0
        else:  # dense, or scipy sparse for a big topology (kept sparse: memory linear in the edges)
            W = W if sp.issparse(W) else np.asarray(W, dtype=np.float64)
            self.n = int(W.shape[0])
            self.edges = int(_links(W).nnz)
        self.bounds = block_bounds(self.n, self.world)
        lo, hi = self.bounds[self.rank]
        self.nodes = torch.arange(lo, hi)
        self.stats = CommStats()
        self.wire = CommStats()
        self.timeout = float(timeout if timeout is not None else _group_timeout(group) or DEFAULT_TIMEOUT)
        self.backend = dist.get_backend(group)
        if device is None:
            device = f"cuda:{torch.cuda.current_device()}" if self.backend == "nccl" else "cpu"
        self.device = torch.device(device)
        check_backend(self.backend, self.device)
        self._graph = W is not None
        if self._graph:
            self._send, self._recv = exchange_plan(W, self.bounds, self.rank)
            # W restricted to my rows, columns ordered [my nodes, then received rows peer by peer].
            self._cols = np.concatenate([np.arange(lo, hi)] + [self._recv[p] for p in sorted(self._recv)])
            self._Wloc = local_rows(W, lo, hi, self._cols)
        else:
            self._send, self._recv, self._cols, self._Wloc = {}, {}, np.arange(lo, hi), None
        self._peers_out = sorted(self._send)
        self._peers_in = sorted(self._recv)
        self._send_rows = {p: torch.as_tensor(self._send[p] - lo, device=self.device) for p in self._peers_out}
        self._whole = {p: bool(len(self._send[p]) == hi - lo) for p in self._peers_out}
        self._cache: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, torch.Tensor]] = {}
        self._buffers: dict[tuple[int, torch.dtype, torch.device], torch.Tensor] = {}
        self._store = default_store()
        self.ops = 0
        self.barrier()  # every rank is ready: a run's clock starts after this, not at the slowest rank's start

    # ---- the Comm contract ----------------------------------------------------------------------
    @property
    def n_local(self) -> int:
        return len(self.nodes)

    def matrix(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """My rows of W split by columns, ``(over my nodes, over the received rows)``, cached per dtype and
        device: dense tensors for a dense W, sparse CSR tensors (my rows' non-zeros only) for a sparse W."""
        key = (dtype, device)
        if key not in self._cache:
            m = self.n_local
            if sp.issparse(self._Wloc):
                self._cache[key] = (
                    _torch_csr(self._Wloc[:, :m], dtype, device),
                    _torch_csr(self._Wloc[:, m:], dtype, device),
                )
            else:
                w = torch.as_tensor(self._Wloc, dtype=dtype, device=device)
                self._cache[key] = (w[:, :m], w[:, m:])
        return self._cache[key]

    def mix(self, z: torch.Tensor, codec: Codec | None = None) -> torch.Tensor:
        """Row i becomes ``Σ_r w_ir z_r``: one message per peer rank each way, all posted at once.

        With a ``codec`` the packet travels instead of the rows, and every row (local ones included) is
        used decoded, exactly as :meth:`SimulatedComm.mix <tailtamer.comm.simulated.SimulatedComm.mix>` does.
        """
        if not self._graph:
            raise NoGraphError("this run has no graph (topology 'server'): its algorithm may only use comm.mean")
        self.ops += 1
        row = z[0].numel()
        flat = z.reshape(self.n_local, row)
        if codec is None:
            self.stats.add(self.edges, self.edges * dense_row_bytes(z), "mix")
            recv, at = self._exchange((flat,), [self._recv_buffer(row, z.dtype, z.device)])
            own, got = flat, recv[0]
        else:
            packet = tuple(t.contiguous() for t in codec.encode(flat))
            self.stats.add(self.edges, self.edges * packet_row_bytes(packet), "mix", dense_row_bytes(z))
            k = len(self._cols) - self.n_local
            bufs = [torch.empty((k, *t.shape[1:]), dtype=t.dtype, device=t.device) for t in packet]
            recv, at = self._exchange(packet, bufs)
            own = codec.decode(packet, flat)
            got = codec.decode(tuple(recv), flat.new_empty((k, row))) if at else flat[:0]  # unused when at = 0
        w_own, w_got = self.matrix(z.dtype, z.device)
        if w_own.layout == torch.sparse_csr:
            out = torch.sparse.mm(w_own, own)
            if at:
                out.add_(torch.sparse.mm(w_got, got))
        else:
            out = w_own @ own
            if at:
                out.addmm_(w_got, got)
        return out.reshape(z.shape)

    def _exchange(self, parts: Packet, bufs: list[torch.Tensor]) -> tuple[list[torch.Tensor], int]:
        """Send each peer the rows it mixes in (every tensor of ``parts``) and receive into ``bufs``
        (``[rows received, ...]`` each, peer by peer); returns ``(bufs, rows received)``."""
        ops, recvs, at = [], [], 0
        for p in self._peers_in:
            k = len(self._recv[p])
            for buf in bufs:
                ops.append(dist.P2POp(dist.irecv, buf[at : at + k], p, self.group))
                recvs.append(p)
            at += k
        sent = 0
        for p in self._peers_out:
            for part in parts:
                t = part if self._whole[p] else part.index_select(0, self._send_rows[p].to(part.device))
                ops.append(dist.P2POp(dist.isend, t.contiguous(), p, self.group))
                sent += t.numel() * t.element_size()
        self.wire.add(len(self._peers_out), sent, "mix")
        if ops:
            self._wait_p2p(dist.batch_isend_irecv(ops), recvs, len(parts))
        return bufs, at

    def _recv_buffer(self, row: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """Receive buffer ``[rows received, row]``, kept between calls (no fresh pages every round)."""
        key = (row, dtype, device)
        buf = self._buffers.get(key)
        if buf is None:
            if len(self._buffers) >= 8:
                self._buffers.clear()
            buf = self._buffers[key] = torch.empty(len(self._cols) - self.n_local, row, dtype=dtype, device=device)
        return buf

    def mean(self, z: torch.Tensor, codec: Codec | None = None) -> torch.Tensor:
        """The exact average over all n nodes, ``[1, ...]`` on every rank (one all-reduce).

        With a ``codec`` the packets are all-gathered (compressed rows cannot be summed on the wire), decoded
        and averaged in node order, as the simulator averages them.
        """
        if codec is not None:
            return self._mean_packets(z, codec)
        self.ops += 1
        self.stats.add(self.n, self.n * dense_row_bytes(z), "mean")
        total = z.sum(0, keepdim=True).contiguous()
        self.wire.add(1, total.numel() * total.element_size(), "mean")
        self._collective("mean", lambda: dist.all_reduce(total, op=dist.ReduceOp.SUM, group=self.group, async_op=True))
        return total / self.n

    def _mean_packets(self, z: torch.Tensor, codec: Codec) -> torch.Tensor:
        flat = z.reshape(self.n_local, -1)
        packet = tuple(t.contiguous() for t in codec.encode(flat))
        nbytes = packet_row_bytes(packet)
        self.stats.add(self.n, self.n * nbytes, "mean", dense_row_bytes(z))
        self.wire.add(1, self.n_local * nbytes, "mean")
        buf, layout = to_bytes(packet)
        with self.stats.paused(), self.wire.paused():
            rows = from_bytes(self.gather(buf), layout)  # one all-gather: one message per hop, not one per tensor
        full = codec.decode(rows, flat.new_empty((self.n, flat.shape[1])))
        return full.mean(0, keepdim=True).reshape((1, *z.shape[1:]))

    def gather(self, z: torch.Tensor) -> torch.Tensor:
        """All n rows in node order on every rank (for metrics and checkpoints; blocks are padded)."""
        self.ops += 1
        width = max(hi - lo for lo, hi in self.bounds)
        pad = torch.zeros((width, *z.shape[1:]), dtype=z.dtype, device=z.device)
        pad[: self.n_local] = z
        parts = [torch.empty_like(pad) for _ in range(self.world)]
        self._collective("gather", lambda: dist.all_gather(parts, pad, group=self.group, async_op=True))
        return torch.cat([parts[r][: hi - lo] for r, (lo, hi) in enumerate(self.bounds)], dim=0)

    # ---- helpers --------------------------------------------------------------------------------
    def barrier(self) -> None:
        """Wait for every rank (under the timeout)."""
        self.ops += 1
        self._collective("barrier", lambda: dist.barrier(group=self.group, async_op=True))

    def broadcast_object(self, obj: Any = None, src: int = 0) -> Any:
        """``obj`` of rank ``src`` on every rank (pickled; for small control data and checkpoints)."""
        self.ops += 1
        box = [obj]
        try:
            dist.broadcast_object_list(box, src=src, group=self.group)
        except RuntimeError as err:
            self._fail("broadcast", err, None)
        return box[0]

    def _wait_p2p(self, works: list[Any], recvs: list[int], parts: int = 1) -> None:
        nrecv = len(recvs)
        for i, w in enumerate(works):
            peer = recvs[i] if i < nrecv else self._peers_out[(i - nrecv) // parts]
            try:
                w.wait(timedelta(seconds=self.timeout))
            except RuntimeError as err:
                what = "receiving from" if i < nrecv else "sending to"
                mark_failed(self._store, self.rank, self.ops)
                raise CommError(
                    f"rank {self.rank}: mix #{self.ops} failed {what} rank {peer} "
                    f"(nodes {self._node_range(peer)}) within the {self.timeout:g} s timeout: rank {peer} died, "
                    f"stalled or is unreachable [{_short(err)}]",
                    self.rank,
                    [peer],
                    f"mix#{self.ops}",
                ) from None

    def _collective(self, op: str, start: Any) -> None:
        try:
            work = start()
            work.wait(timedelta(seconds=self.timeout))
        except RuntimeError as err:
            self._fail(op, err, None)

    def _fail(self, op: str, err: Exception, peers: list[int] | None) -> None:
        missing = roll_call(self._store, self.rank, self.world, self.ops, grace_for(self.timeout))
        if missing:
            who = ", ".join(f"rank {r} (nodes {self._node_range(r)})" for r in missing)
            why = f"{who} did not answer (died or stalled)"
        elif missing is None:
            who, why = "", "the rendezvous store is unreachable (its host died)"
        else:
            who, why = "", "every rank reported the failure"
        raise CommError(
            f"rank {self.rank}: {op} #{self.ops} failed within the {self.timeout:g} s timeout; {why} [{_short(err)}]",
            self.rank,
            missing or [],
            f"{op}#{self.ops}",
        ) from None

    def _node_range(self, rank: int) -> str:
        lo, hi = self.bounds[rank]
        return str(lo) if hi - lo == 1 else f"{lo}-{hi - 1}"


def _torch_csr(C: sp.csr_array, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    C = as_csr(C)
    with warnings.catch_warnings():  # "sparse CSR support is in beta": only mm is used
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.as_tensor(C.indptr, dtype=torch.int64),
            torch.as_tensor(C.indices, dtype=torch.int64),
            torch.as_tensor(C.data, dtype=dtype),
            size=C.shape,
            device=device,
        )


def _group_timeout(group: Any) -> float | None:
    try:
        from torch.distributed import distributed_c10d

        pg = group or distributed_c10d._get_default_group()
        opts = getattr(pg, "options", None) or getattr(pg, "_options", None)
        t = getattr(opts, "_timeout", None) or getattr(opts, "timeout", None)
        return t.total_seconds() if t is not None else None
    except Exception:  # pragma: no cover - private API  # noqa: BLE001
        return None


def _short(err: Exception, limit: int = 200) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
