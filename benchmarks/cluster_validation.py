"""The cluster model against real runs: the validation table of issue 28 (predicted vs measured, per family).

    python benchmarks/cluster_validation.py                 # the four families of the test
    python benchmarks/cluster_validation.py --family compressed --keep runs/validation

The same code as ``tests/distributed/test_cluster_validation.py`` (:mod:`tailtamer.testing.cluster_check`): in a
private network namespace (``unshare -rn``), every family is launched on 4 gloo processes unshaped (the
calibration), with the loopback shaped by ``tc tbf rate 100mbit`` (the bandwidth term) and with every message
delivered 50 ms late by ``tests/distributed/latency_plugin.py`` (the latency term). Prints the table in markdown
(milliseconds per step, round or server update) and, last, one JSON line with every run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tailtamer.testing import cluster_check, netns

PLUGIN = Path(__file__).resolve().parents[1] / "tests" / "distributed" / "latency_plugin.py"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", action="append", default=[], help="one family (repeatable; default: the four)")
    p.add_argument("--keep", type=Path, default=None, help="keep the run folders here (default: a temporary folder)")
    args = p.parse_args()
    why = netns.unavailable()
    if why:
        sys.exit(f"cluster_validation: {why}")
    names = args.family or [f.name for f in cluster_check.FAMILIES]
    families = [cluster_check.family(name) for name in names]
    with tempfile.TemporaryDirectory() as tmp:
        result = cluster_check.measure(args.keep or Path(tmp), PLUGIN, families)
    print(cluster_check.table(result, families))
    model = netns.payload_rate(cluster_check.RATE)
    print(
        f"\nshaper: tbf {cluster_check.RATE / 1e6:g} Mbit/s, MTU {netns.MTU}; payload rate: the model's "
        f"{model / 1e6:.1f} Mbit/s, a plain TCP transfer's {result.goodput / 1e6:.1f} Mbit/s; "
        f"{len(result.runs)} launches in {result.seconds:.0f} s"
    )
    worst = max(abs(m.error) for m in result.runs)
    print(json.dumps({"runs": [asdict(m) for m in result.runs], "goodput": result.goodput, "worst_error": worst}))


if __name__ == "__main__":
    main()
