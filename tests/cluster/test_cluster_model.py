"""The cluster model (issue 28, item 1): the cost rules of each pattern, the presets, and bad input.

The cost rules are checked against their closed forms (docs/crossfamily.md; ring all-reduce as in Patarasuk &
Yuan 2009: 2(n−1)/n · b · β + 2(n−1) α), the server link's calendar against its definition (no two transfers
overlap, each takes the earliest gap), and every value that cannot describe a cluster against one clear line.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest

from helpers import SMALL, one_line_error
from tailtamer.cli.main import main
from tailtamer.cluster import CLUSTERS, Link, build_section, resolve_section
from tailtamer.cluster.link import DOWN, UP
from tailtamer.config import resolve
from tailtamer.errors import ConfigError


def cluster(n: int = 8, **keys):
    return build_section(resolve_section(keys), n, 0)


def test_ring_allreduce_is_the_closed_form_on_a_switched_fabric():
    c = cluster(8, name="custom", latency=1e-3, bandwidth=8e9)  # β = 1 ns per byte
    b = 1_000_000
    assert c.fabric.ring_allreduce(b) == pytest.approx(2 * 7 / 8 * b * 1e-9 + 2 * 7 * 1e-3, rel=1e-15)
    assert c.mean_cost(b, b, compressed=False) == c.fabric.ring_allreduce(b)  # reduce = ring, the default


def test_a_shared_medium_carries_every_byte_in_turn():
    c = cluster(4, name="custom", latency=0.0, bandwidth=8e6, fabric="shared")  # 1 µs per byte
    b = 1000
    assert c.fabric.ring_allreduce(b) == pytest.approx(2 * 3 * b * 1e-6)  # every rank sends 2(n−1)/n·b
    assert c.fabric.all_gather(b) == pytest.approx(4 * 3 * b * 1e-6)
    assert c.fabric.gossip(b, [2] * 4, [2] * 4) == pytest.approx(8 * b * 1e-6)  # a ring: 8 directed messages


def test_gossip_waits_for_the_busiest_link():
    c = cluster(4, name="custom", latency=0.5, bandwidth=8e9, link_bandwidth=[8e9, 8e9, 8e9, 8e8])
    # a star: node 0 talks to three nodes, the others to one; node 3's link is 10x slower
    out, inn = [3, 1, 1, 1], [3, 1, 1, 1]
    b = 10_000
    assert c.fabric.gossip(b, out, inn) == pytest.approx(0.5 + max(3 * b * 1e-9, 1 * b * 1e-8))


def test_a_parameter_server_shares_its_link_and_replies_with_the_cheaper_of_dense_and_packets():
    c = cluster(10, name="custom", latency=0.0, bandwidth=8e9, reduce="server")
    dense, packet = 4000, 120
    assert c.mean_cost(dense, dense, compressed=False) == pytest.approx(2 * 10 * dense * 1e-9)
    assert c.mean_cost(packet, dense, compressed=True) == pytest.approx(10 * packet * 1e-9 + 10 * 10 * packet * 1e-9)
    big = 1000  # ten packets of 1000 bytes are more than one dense reply of 4000
    assert c.mean_cost(big, dense, compressed=True) == pytest.approx(10 * big * 1e-9 + 10 * dense * 1e-9)


def test_the_ideal_cluster_is_free_and_charges_one_second_per_gradient():
    c = build_section(resolve_section({}), 5, 0)
    assert c.name == "ideal" and c.free
    assert c.step_compute(range(8)) == 8.0
    assert c.fabric.ring_allreduce(10**6) == 0.0 and Link(c).job(0, 3.0, 1.5, 10**6) == 1.5


@pytest.mark.parametrize("preset", ["datacenter", "cross-region", "edge"])
def test_presets_have_their_documented_orders_of_magnitude(preset):
    c = cluster(16, name=preset)
    latency, bandwidth = {"datacenter": (1e-5, 100e9), "cross-region": (0.05, 1e9), "edge": (0.02, 100e6)}[preset]
    assert c.network.latency == latency and set(c.network.links) == {bandwidth}
    times = [c.compute.duration(i, 0) for i in range(16)]
    if preset == "edge":  # heterogeneous: one straggler 10x slower
        assert max(times) == pytest.approx(10 * min(times)) and times.count(max(times)) == 1
    else:
        assert len(set(times)) == 1


def _booked(link: Link) -> set[tuple[int, float, float]]:
    return {(int(d), a, b) for d, a, b in link.tensor().tolist()}


def test_the_link_calendar_never_overlaps_transfers_and_never_idles_while_one_waits():
    for fabric in ("switched", "shared"):
        link = Link(cluster(6, name="custom", latency=0.01, bandwidth=8e6, fabric=fabric))
        rng = random.Random(1)
        clock = 0.0
        for _ in range(300):
            clock += rng.expovariate(5.0)
            ready = clock + rng.random() * 0.3
            length = rng.random() * 0.05
            direction = rng.choice((DOWN, UP))
            before = _booked(link)
            end = link.reserve(direction, ready, length, clock)
            after = _booked(link)
            queue = direction if fabric == "switched" else DOWN
            mine = sorted((a, b) for d, a, b in after - before)
            others = sorted((a, b) for d, a, b in after & before if d == queue)
            assert sum(b - a for a, b in mine) == pytest.approx(length, abs=1e-12)  # all of its time, no more
            assert mine[0][0] >= ready - 1e-12 and mine[-1][1] == pytest.approx(end)
            every = sorted(mine + others)
            assert all(b1 <= a2 + 1e-12 for (_, b1), (a2, _) in itertools.pairwise(every))  # no overlap
            # work-conserving: from ready to its end, every instant is someone's
            covered = ready
            for a, b in every:
                if b <= covered:
                    continue
                assert a <= covered + 1e-9, (a, covered)
                covered = b
                if covered >= end:
                    break
            assert covered >= end - 1e-12


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ('name = "datacentre"', "unknown cluster preset 'datacentre' (did you mean 'datacenter'?)"),
        ('name = "edge"\nbandwidth = 0', "bandwidth must be > 0"),
        ('name = "edge"\nbandwidth = -1e9', "bandwidth must be > 0"),
        ('name = "edge"\nlink_bandwidth = [1e9, 1e9, 1e9, 1e9, 1e9, 0]', "link_bandwidth must be > 0"),
        ('name = "edge"\nlatency = inf', "latency must be a finite number"),
        ('name = "edge"\nlatency = nan', "latency must be a finite number"),
        ('name = "edge"\nlatency = -0.1', "latency must be a finite number"),
        ('name = "edge"\nworkers = 4', "workers = 4, but the run has n = 6 nodes"),
        ('name = "custom"\nlatency = 0.1', "needs 'bandwidth'"),
        ('name = "edge"\nfabric = "hub"', "fabric must be one of"),
        ('name = "edge"\ncompute = { name = "fixd" }', "did you mean 'fixed'"),
    ],
)
def test_bad_clusters_are_refused_in_one_line_before_anything_runs(tmp_path, capsys, section, words):
    cfg = tmp_path / "c.toml"
    cfg.write_text(SMALL + f"\n[cluster]\n{section}\n")
    out = tmp_path / "run"
    line = one_line_error(capsys, main(["run", str(cfg), "--out", str(out), "--no-plot"]))
    assert words in line
    assert not out.exists()


def test_timing_and_cluster_compute_together_are_refused():
    cfg = {
        "problem": {"name": "quadratic", "dim": 3},
        "algorithm": {"name": "asgd"},
        "topology": {"name": "server", "n": 3},
        "timing": {"name": "fixed"},
        "cluster": {"name": "edge"},
    }
    with pytest.raises(ConfigError, match=r"\[timing\] and \[cluster\] both give the workers' compute times"):
        resolve(cfg)


def test_a_cluster_file_is_expanded_into_the_run_record(tmp_path):
    (tmp_path / "mine.toml").write_text('[cluster]\nname = "edge"\nlatency = 0.1\nbandwidth = 5e7\n')
    cfg = tmp_path / "run.toml"
    cfg.write_text(SMALL + '\n[cluster]\nname = "file"\npath = "mine.toml"\n')
    from tailtamer.config import dumps_toml, load_toml

    resolved = resolve(load_toml(cfg))
    assert resolved["cluster"]["name"] == "edge" and resolved["cluster"]["latency"] == 0.1
    assert resolved["cluster"]["bandwidth"] == 5e7 and resolved["cluster"]["compute"]["name"] == "straggler"
    again = tmp_path / "config.toml"
    again.write_text(dumps_toml(resolved))
    assert resolve(load_toml(again)) == resolved  # what a run folder records resolves to itself


def test_every_registered_cluster_resolves_or_names_what_it_needs():
    for name in CLUSTERS.names():
        if name == "file":
            with pytest.raises(ConfigError, match="needs 'path'"):
                resolve_section({"name": name})
        elif name == "custom":
            with pytest.raises(ConfigError, match="needs 'latency'"):
                resolve_section({"name": name})
        else:
            c = build_section(resolve_section({"name": name}), 3, 0)
            assert math.isfinite(c.step_compute(range(1))) and c.n == 3
