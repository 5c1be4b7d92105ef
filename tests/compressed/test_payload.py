"""Core v2 contracts the server, compressed and asynchronous families build on: payload-aware
communication (a codec's packet is what travels and what is counted), graph-free runs (topology 'server'),
and the step's randomness handle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailtamer.api import build, build_components, make_loop
from tailtamer.comm import NoGraphError, SimulatedComm, packet_row_bytes
from tailtamer.comm.distributed import DistributedComm
from tailtamer.distributed.launcher import spawn
from tailtamer.errors import ValidationError
from tailtamer.rng import Randomness, uniform
from tailtamer.topology import TOPOLOGIES


class TopK:
    """Keeps each row's k largest-magnitude entries: int32 indices + values on the wire (a test codec)."""

    def __init__(self, k: int):
        self.k = k

    def encode(self, z):
        idx = z.abs().topk(self.k, dim=1).indices
        return idx.to(torch.int32), z.gather(1, idx)

    def decode(self, packet, like):
        idx, val = packet
        return torch.zeros_like(like).scatter_(1, idx.long(), val.to(like.dtype))


def test_mix_with_a_codec_mixes_the_decoded_rows_and_counts_the_packet():
    W = TOPOLOGIES.build("ring", {}, n=6).W
    z = torch.randn(6, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    codec = TopK(5)
    comm = SimulatedComm(W)
    out = comm.mix(z, codec=codec)
    expected = torch.as_tensor(W) @ codec.decode(codec.encode(z), z)
    assert torch.allclose(out, expected, rtol=0, atol=1e-14)
    edges = int(np.count_nonzero(W) - np.count_nonzero(np.diag(W)))
    per_message = 5 * 4 + 5 * 8  # int32 indices + float64 values, not the dense 50 * 8
    assert packet_row_bytes(codec.encode(z)) == per_message
    assert comm.stats.as_dict() == {"messages": edges, "bytes": edges * per_message, "mixes": 1, "means": 0}
    dense = SimulatedComm(W)
    dense.mix(z)
    assert dense.stats.bytes == edges * 50 * 8  # dense methods count exactly what they counted before


def test_mean_with_a_codec_averages_the_decoded_rows():
    z = torch.randn(4, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    comm = SimulatedComm(None, n=4)
    m = comm.mean(z, codec=TopK(3))
    assert torch.equal(m, TopK(3).decode(TopK(3).encode(z), z).mean(0, keepdim=True))
    assert comm.stats.bytes == 4 * (3 * 4 + 3 * 8)


def test_a_comm_without_graph_refuses_mix():
    comm = SimulatedComm(None, n=3)
    assert comm.n == 3 and comm.nodes.tolist() == [0, 1, 2]
    with pytest.raises(NoGraphError, match="comm.mean"):
        comm.mix(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="needs n ≥ 1 nodes"):
        SimulatedComm(None)


def _fedavg(topology: str) -> dict:
    return {
        "problem": {"name": "quadratic", "dim": 5},
        "algorithm": {"name": "fedavg", "clients": 0.5},
        "topology": {"name": topology, "n": 6},
        "noise": {"name": "student-t", "df": 2.5},
        "run": {"steps": 15, "seed": 3, "eval_every": 5},
    }


def test_server_methods_build_no_matrix_and_give_the_same_iterates():
    c = build_components(_fedavg("server"))
    assert c.topology is None and c.n == 6 and c.topology_info() == {"name": "server", "n": 6, "rho": None}
    x_server = make_loop(c).run()["x"]
    x_graph = build(_fedavg("complete")).run()["x"]  # the graph is ignored by a method that never gossips
    assert torch.equal(x_server, x_graph)


def test_a_gossip_method_refuses_the_server_topology():
    cfg = _fedavg("server")
    cfg["algorithm"] = {"name": "gt-nsgdm"}
    with pytest.raises(ValidationError, match="gossips over a graph"):
        build_components(cfg)


def test_randomness_handle_is_the_counter_based_stream():
    r = Randomness(seed=5, nodes=torch.tensor([2, 7]), step=11)
    assert torch.equal(r.uniform("compress", 4, call=2), uniform(5, "compress", torch.tensor([2, 7]), 11, 4, 2))
    assert torch.equal(r.uniform("clients", 1, nodes=torch.arange(8))[[2, 7]], r.uniform("clients", 1))
    assert not torch.equal(r.uniform("a", 4), r.uniform("b", 4))  # streams are independent
    assert not torch.equal(r.uniform("a", 4), r.uniform("a", 4, call=1))  # and so are calls
    g1, g2 = r.generator("delays"), Randomness(5, torch.tensor([0]), 11).generator("delays")
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))  # not tied to the rows


def test_the_oracle_hands_each_step_its_randomness():
    loop = build(
        {
            "problem": {"name": "quadratic", "dim": 3},
            "algorithm": {"name": "dsgd"},
            "topology": {"name": "ring", "n": 5},
            "run": {"steps": 1, "seed": 9},
        }
    )
    loop.oracle.begin(4)
    r = loop.oracle.rng
    assert (r.seed, r.step, r.nodes.tolist()) == (9, 4, [0, 1, 2, 3, 4])
    loop.oracle.begin(5)
    assert loop.oracle.rng.step == 5


def _codec_body(rank: int, world: int) -> dict:
    W = TOPOLOGIES.build("exponential", {}, n=7).W
    z = torch.randn(7, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    comm = DistributedComm(W, timeout=60)
    mixed = comm.mix(z[comm.nodes], codec=TopK(4))
    dense = DistributedComm(W, timeout=60)
    dense.mix(z[dense.nodes])
    server = DistributedComm(None, n=7, timeout=60)
    mean = server.mean(z[server.nodes], codec=TopK(4))
    return {
        "nodes": comm.nodes.tolist(),
        "mix": mixed,
        "mean": mean,
        "stats": comm.stats.as_dict(),
        "wire": comm.wire.as_dict(),
        "dense_wire": dense.wire.as_dict(),
        "mean_stats": server.stats.as_dict(),
    }


@pytest.mark.multiprocess
def test_compressed_messages_travel_compressed_on_gloo():
    """4 processes: a codec's packets (indices and values) are what is sent; results equal the simulator's."""
    W = TOPOLOGIES.build("exponential", {}, n=7).W
    z = torch.randn(7, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    sim = SimulatedComm(W)
    want = sim.mix(z, codec=TopK(4))
    srv = SimulatedComm(None, n=7)
    want_mean = srv.mean(z, codec=TopK(4))
    results = spawn(_codec_body, 4, timeout=60)
    per_message = 4 * 4 + 4 * 8
    for res in results:
        assert torch.allclose(res["mix"], want[res["nodes"]], rtol=0, atol=1e-12)
        assert torch.allclose(res["mean"], want_mean, rtol=0, atol=1e-12)
        assert res["stats"] == sim.stats.as_dict() and res["mean_stats"] == srv.stats.as_dict()
        # what this rank put on the wire: the same rows as a dense round, each a packet instead of 40 floats
        assert res["wire"]["bytes"] * (40 * 8) == res["dense_wire"]["bytes"] * per_message > 0
