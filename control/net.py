"""Free loopback ports, chosen per run so several stacks can share a host."""

from __future__ import annotations

import socket


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port that is free on 127.0.0.1 for TCP (default) or UDP."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range for ports bound to 0 (``free_port``, every client socket)."""
    try:
        low, high = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port_range(size: int, start: int = 10000, end: int = 60000) -> tuple[int, int]:
    """A block of ``size`` consecutive UDP ports that are free now (for RTP), outside the kernel's ephemeral
    range where it fits: a port the kernel hands to any client (``free_port``) is then never one Asterisk
    allocates for media meanwhile."""
    import random

    low, high = ephemeral_ports()
    if low - start > size + 2:
        end = min(end, low)
    elif end - high > size + 2:
        start = max(start, high + 1)

    for _ in range(200):
        base = random.randrange(start, end - size) & ~1
        ok = True
        for port in range(base, base + size, 7):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base, base + size - 1
    raise RuntimeError("no free port range")
