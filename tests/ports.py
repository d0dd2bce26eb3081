"""Finding free loopback ports for the processes that tests and benchmarks start."""

from __future__ import annotations

import random
import socket


def is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_block(size: int) -> int:
    """The first port of ``size`` consecutive free ports (the gateway's, then the simulators')."""
    for _ in range(100):
        base = random.randrange(20000, 60000, 20)
        if all(is_free(p) for p in range(base, base + size)):
            return base
    raise RuntimeError("no block of free ports found")
