"""What a server under test uses, from /proc: CPU (a per-request cost that, unlike req/s, barely
moves with the other load on a shared machine) and resident memory, of the process and every
process it forked (granian forks its workers)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def process_tree(pid: int) -> list[int]:
    """The process and its descendants."""
    pids = [pid]
    for p in pids:
        with contextlib.suppress(OSError):
            pids += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
    return pids


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants."""
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants."""
    total = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total
