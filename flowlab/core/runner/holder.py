"""Who holds a step's claim: this process, named so that another process on the
same machine can tell at once whether it still lives.

A holder is ``machine/pid/start``: the machine (its host name and boot), the process
id, and when that process started (so a reused pid is not taken for the dead one).
A claim whose holder is gone is free at once; one held on another machine (several
hosts on one PostgreSQL) waits for the stale time instead. A claim this process holds
but no longer runs (its save failed, and so did letting it go) is free here too.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter
from functools import lru_cache
from pathlib import Path

_RUNNING: Counter[str] = Counter()  # runs whose step this process's requests run
_LOCK = threading.Lock()


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _machine() -> str:
    boot = _read("/proc/sys/kernel/random/boot_id")
    return f"{socket.gethostname()}~{boot}".replace("/", "_")


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), else ""; "dead"
    for a zombie (killed, not yet reaped by its parent)."""
    fields = _read(f"/proc/{pid}/stat").rpartition(")")[2].split()
    if not fields:
        return ""
    return "dead" if fields[0] in ("Z", "X") else fields[19]


MACHINE = _machine()


def me() -> str:
    """This process as a holder (worked out after any fork: the pid is its own)."""
    return _me(os.getpid())


@lru_cache(maxsize=4)
def _me(pid: int) -> str:
    """Read once per process: a process's start time does not change."""
    return f"{MACHINE}/{pid}/{_started(pid)}"


def running(holder: str, run_id: str) -> bool:
    """Whether the request that claimed ``run_id``'s step as ``holder`` may still be
    running it; True when that cannot be known here (another machine)."""
    machine, pid, started = _parts(holder)
    if machine != MACHINE or pid is None:
        return True
    if pid == os.getpid():
        with _LOCK:
            return _RUNNING[run_id] > 0
    if os.name != "posix":  # os.kill(pid, 0) would not merely ask there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, as another user
        return True
    return not started or _started(pid) == started


def _parts(holder: str) -> tuple[str, int | None, str]:
    machine, _, rest = holder.partition("/")
    pid, _, started = rest.partition("/")
    return machine, int(pid) if pid.isdigit() else None, started


def mark(run_id: str) -> None:
    """A request of this process took ``run_id``'s step: it runs here now."""
    with _LOCK:
        _RUNNING[run_id] += 1


def unmark(run_id: str) -> None:
    """That request is done with the step, saved or not."""
    with _LOCK:
        _RUNNING[run_id] -= 1
        if _RUNNING[run_id] <= 0:
            del _RUNNING[run_id]
