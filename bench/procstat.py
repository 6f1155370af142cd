"""CPU used by a server under test, from /proc: a per-request cost that, unlike req/s, barely moves
with the other load on a shared machine."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children (granian forks its workers)."""
    pids = [pid]
    for p in pids:
        with contextlib.suppress(OSError):
            pids += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")
