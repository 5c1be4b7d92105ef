"""Compressed gossip on the wire: bytes and time per step at 1e6 floats on a ring of 4 gloo processes.

    python benchmarks/compression.py            # 1e6 floats, 10 timed repetitions
    python benchmarks/compression.py --quick    # 1e6 floats, 4 repetitions

Each rank hosts one node of a ring of 4 and runs ``DistributedComm.mix(z, codec)`` on a float32 row of 1e6
values — dense (no codec), top-1% (int32 indices + float32 values), sign (1 bit per value, packed 8 to a
byte) and QSGD-4bit (15 levels: norm, sign bits and 4-bit levels) — the time of one step covering encoding,
the exchange with both neighbours and decoding. Every repetition starts after a barrier, its time is the
slowest rank's, and the median is reported. Bytes are what each rank put on the wire per step
(``comm.wire``) and what the accounting counts per message (``comm.stats``).

The last line printed is one JSON object with, per codec, ``wire_bytes_per_rank``, ``message_bytes``,
``ms`` and ``bytes_ratio``/``time_ratio`` against dense.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tailtamer.comm.distributed import DistributedComm
from tailtamer.compression import COMPRESSORS
from tailtamer.distributed.launcher import spawn
from tailtamer.rng import Randomness
from tailtamer.topology import TOPOLOGIES

NPROC = 4
CODECS = {
    "dense": None,
    "top-1%": {"name": "top-k", "fraction": 0.01},
    "sign": {"name": "sign"},
    "qsgd-4bit": {"name": "qsgd", "levels": 15},
}


def _time(rank: int, world: int, size: int, reps: int) -> dict:
    import torch.distributed as dist

    torch.set_num_threads(1)
    comm = DistributedComm(TOPOLOGIES.build("ring", {}, n=world).W, timeout=300)
    z = torch.randn(1, size, generator=torch.Generator().manual_seed(rank))
    out = {}
    for label, spec in CODECS.items():
        comp = None if spec is None else COMPRESSORS.build(spec["name"], {k: v for k, v in spec.items() if k != "name"})
        times, wire0, stats0 = [], comm.wire.bytes, comm.stats.bytes
        for i in range(reps + 1):  # one warm-up repetition
            codec = None if comp is None else comp.codec(Randomness(0, comm.nodes, i), 0)
            dist.barrier()
            t0 = time.perf_counter()
            comm.mix(z, codec=codec)
            if i >= 1:
                times.append(time.perf_counter() - t0)
        out[label] = {
            "times": times,
            "wire": (comm.wire.bytes - wire0) / (reps + 1),
            "counted": (comm.stats.bytes - stats0) / (reps + 1) / comm.edges,
        }
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="4 timed repetitions instead of 10")
    p.add_argument("--size", type=int, default=10**6, help="floats per row (default 1e6)")
    args = p.parse_args(argv)
    reps = 4 if args.quick else 10
    raw = spawn(_time, NPROC, (args.size, reps), timeout=600)
    result: dict = {
        "size": args.size,
        "nproc": NPROC,
        "topology": "ring",
        "dtype": "float32",
        "reps": reps,
        "codecs": {},
    }
    print(f"{'codec':>10} {'bytes/rank/step':>16} {'bytes/message':>14} {'ms/step':>9} {'bytes x':>8} {'time x':>7}")
    for label in CODECS:
        ms = 1e3 * statistics.median(max(r[label]["times"][i] for r in raw) for i in range(reps))
        result["codecs"][label] = {
            "wire_bytes_per_rank": raw[0][label]["wire"],
            "message_bytes": raw[0][label]["counted"],
            "ms": ms,
        }
    dense = result["codecs"]["dense"]
    for label, r in result["codecs"].items():
        r["bytes_ratio"] = r["wire_bytes_per_rank"] / dense["wire_bytes_per_rank"]
        r["time_ratio"] = r["ms"] / dense["ms"]
        print(
            f"{label:>10} {r['wire_bytes_per_rank']:>16.0f} {r['message_bytes']:>14.0f} {r['ms']:>9.2f} "
            f"{r['bytes_ratio']:>8.4f} {r['time_ratio']:>7.2f}",
            flush=True,
        )
    for label, key in (("top-1%", "top1"), ("sign", "sign"), ("qsgd-4bit", "qsgd4")):  # flat keys for the README
        result[f"{key}_bytes_ratio"] = result["codecs"][label]["bytes_ratio"]
        result[f"{key}_time_ratio"] = result["codecs"][label]["time_ratio"]
    result["threads"] = "1 per process"
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
