"""A private network namespace with a rate-shaped loopback, for runs whose communication must be slow on purpose.

``unshare -rn`` gives a process its own network namespace (and a user namespace mapping the caller to root in
it, so no privilege is needed where user namespaces are allowed): a loopback of its own, down, that no other
process on the machine shares. Inside, :func:`setup_loopback` brings it up with an Ethernet-sized MTU and
:func:`shape` puts a token-bucket filter (``tc qdisc ... tbf``) on it, so every byte any process of the namespace
sends to another crosses one link of ``rate`` bits per second: one shared medium (the cluster model's
``fabric = "shared"``).

What the link carries per payload byte: a TCP segment of ``MTU − 52`` payload bytes (IPv4 20, TCP 20, timestamps
12) is a frame of ``MTU + 14`` bytes (the loopback's Ethernet header) at the shaper, so the payload rate is
``rate · (MTU − 52) / (MTU + 14)`` (95.6 Mbit/s at 100 Mbit/s and MTU 1500); the acknowledgements, which cross
the same link, take about 1% more (:func:`goodput` measures it: about 93–95 Mbit/s).

Only the ``ip``, ``tc`` and ``unshare`` commands are used (iproute2 and util-linux); :func:`unavailable` says
why they cannot be used here, in one line, for a test to skip with.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time

#: The loopback's MTU inside the namespace: an Ethernet frame, not the loopback's default 64 KiB.
MTU = 1500
#: The token bucket's depth, above one frame (a bucket smaller than a frame would drop every full frame).
BURST = "32kbit"
#: How long a packet may queue at the shaper before it is dropped (sets the queue's size).
QUEUE = "400ms"
#: Per-frame bytes beyond the payload: Ethernet 14 + IPv4 20 + TCP 20 + TCP timestamps 12.
HEADERS = 14 + 20 + 20 + 12


def payload_rate(rate: float, mtu: int = MTU) -> float:
    """Payload bits per second through a shaper of ``rate`` bits per second (full TCP frames of ``mtu``)."""
    return rate * (mtu - (HEADERS - 14)) / (mtu + 14)


def _run(*argv: str) -> None:
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {(out.stderr or out.stdout).strip()}")


def setup_loopback(mtu: int = MTU) -> None:
    """Bring this namespace's loopback up with ``mtu`` (call inside the namespace)."""
    _run("ip", "link", "set", "lo", "up")
    _run("ip", "link", "set", "lo", "mtu", str(mtu))


def shape(rate: float | None) -> None:
    """Put a token-bucket filter of ``rate`` bits per second on the loopback (None: remove it)."""
    subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True, check=False)
    if rate is not None:
        tbf = ["tbf", "rate", f"{rate:.0f}bit", "burst", BURST, "latency", QUEUE]
        _run("tc", "qdisc", "add", "dev", "lo", "root", *tbf)


def unavailable() -> str | None:
    """Why a shaped private namespace cannot be made here (one line), or None when it can."""
    for tool in ("unshare", "ip", "tc"):
        if shutil.which(tool) is None:
            return f"'{tool}' not found on PATH (util-linux / iproute2 needed for a shaped private network namespace)"
    probe = (
        f"ip link set lo up && ip link set lo mtu {MTU} && "
        f"tc qdisc add dev lo root tbf rate 1mbit burst {BURST} latency {QUEUE}"
    )
    argv = ["unshare", "-rn", "sh", "-c", probe]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"unshare -rn could not run: {err}"
    if out.returncode != 0:
        why = " ".join((out.stderr or out.stdout).split()) or f"exit status {out.returncode}"
        return f"no private network namespace with a tbf-shaped loopback here (unshare -rn + tc): {why}"
    return None


def goodput(nbytes: int = 4_000_000) -> float:
    """Payload bits per second of one TCP transfer of ``nbytes`` over the loopback (a plain socket, not
    tailtamer: a check that the shaper is in place and of what it lets through)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def sink() -> None:
        conn, _ = server.accept()
        with conn:
            got = 0
            while got < nbytes:
                got += len(conn.recv(1 << 20))
            conn.sendall(b"k")

    reader = threading.Thread(target=sink, daemon=True)
    reader.start()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        t0 = time.perf_counter()
        conn.sendall(bytes(nbytes))
        conn.recv(1)
        took = time.perf_counter() - t0
    reader.join()
    server.close()
    return nbytes * 8 / took
