"""DistributedComm keeps a sparse W sparse: the exchange plan and each rank's rows come from the non-zeros
(memory linear in the edges), and a gossip round equals the simulator's."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from tailtamer.comm.distributed import DistributedComm, block_bounds, exchange_plan, local_rows
from tailtamer.distributed.launcher import spawn
from tailtamer.topology import TOPOLOGIES
from tailtamer.topology.sparse import DENSE_MAX_N


@pytest.mark.parametrize("name,n", [("ring", 7), ("exponential", 8), ("star", 5), ("erdos-renyi", 9), ("torus", 16)])
def test_sparse_plan_and_rows_equal_the_dense_ones(name, n):
    """The plan and the local rows of the CSR form of W equal those of the dense W, on every rank."""
    W = TOPOLOGIES.build(name, {}, n=n).W
    bounds = block_bounds(n, 4)
    for rank, (lo, hi) in enumerate(bounds):
        (send, recv), (send_s, recv_s) = exchange_plan(W, bounds, rank), exchange_plan(sp.csr_array(W), bounds, rank)
        assert {p: v.tolist() for p, v in send.items()} == {p: v.tolist() for p, v in send_s.items()}
        assert {p: v.tolist() for p, v in recv.items()} == {p: v.tolist() for p, v in recv_s.items()}
        cols = np.concatenate([np.arange(lo, hi)] + [recv[p] for p in sorted(recv)])
        dense, csr = local_rows(W, lo, hi, cols), local_rows(sp.csr_array(W), lo, hi, cols)
        assert sp.issparse(csr) and not sp.issparse(dense)
        assert np.array_equal(dense, csr.toarray())
        assert csr.nnz == np.count_nonzero(W[lo:hi])  # only my rows' non-zeros are kept


def _round_body(rank: int, world: int, n: int) -> dict:
    W = TOPOLOGIES.build("ring", {}, n=n).W
    comm = DistributedComm(W, timeout=60)
    w_own, w_got = comm.matrix(torch.float64, torch.device("cpu"))
    z = torch.arange(n * 3, dtype=torch.float64).reshape(n, 3).sin()
    y = comm.mix(z[comm.nodes])
    return {
        "nodes": comm.nodes.tolist(),
        "y": y,
        "edges": comm.edges,
        "layouts": (w_own.layout, w_got.layout),
        "nnz": int(w_own._nnz() + w_got._nnz()),
        "sent": sorted(comm._send),
    }


@pytest.mark.multiprocess
def test_a_sparse_ring_mixes_like_the_simulator_on_two_ranks():
    """A ring above DENSE_MAX_N (a CSR W): 2 gloo ranks hold CSR rows with 3 non-zeros per node, exchange
    one row each way with their single peer, and one mix equals W @ z within 1e-12."""
    n = DENSE_MAX_N + 6
    W = TOPOLOGIES.build("ring", {}, n=n).W
    assert sp.issparse(W)
    z = torch.arange(n * 3, dtype=torch.float64).reshape(n, 3).sin()
    expect = torch.as_tensor(W @ z.numpy())
    for res in spawn(_round_body, 2, (n,), timeout=60):
        assert res["layouts"] == (torch.sparse_csr, torch.sparse_csr)
        assert res["nnz"] == 3 * len(res["nodes"]) and res["edges"] == 2 * n
        assert res["sent"] == [1 - res["nodes"][0] // (n // 2)]
        assert (res["y"] - expect[res["nodes"]]).abs().max().item() <= 1e-12
