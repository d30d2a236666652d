"""One memory and one process budget for a graded notebook and every process it starts.

``prlimit`` bounds each process on its own (address space, file size), and ``RLIMIT_NPROC``
counts processes per user, never binding root. So that one submission cannot exhaust the
grading machine for the classmates graded beside it:

- when the grader runs as root, the kernel runs as an unprivileged user of its own
  (:func:`kernel_uid`, as PrairieLearn and edX's codejail run student code), so
  ``RLIMIT_NPROC`` binds and counts only that notebook's processes;
- where the machine offers a writable cgroup with the memory and pids controllers (cgroup v2:
  ``$DLCOURSE_CGROUP`` or, as root, ``/sys/fs/cgroup/dlcourse-grading``; cgroup v1: the
  grader's own ``memory`` and ``pids`` cgroups), the notebook gets a cgroup of its own with
  ``memory.max`` and ``pids.max`` (v1: ``memory.limit_in_bytes``, ``pids.max``), and the
  kernel's counters tell which budget it exceeded (``memory.events``/``memory.oom_control``
  ``oom_kill``, ``pids.events`` ``max``). Without one, the limits that apply are
  ``RLIMIT_AS`` per process and ``RLIMIT_NPROC`` (:func:`describe` says which).

Sources: Linux's Documentation/admin-guide/cgroup-v2.rst (memory.max, memory.events,
pids.events) and cgroup-v1/memory.rst, pids.rst.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import pwd
import random
import shlex
import signal
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

CGROUP_MOUNT = Path("/sys/fs/cgroup")
#: Unprivileged uids for kernels when grading as root: unassigned on Debian and Ubuntu
#: (their policy leaves 60000-64999 to local use below systemd's dynamic 61184-65519).
KERNEL_UIDS = range(60100, 61100)
_counter = itertools.count()


@contextmanager
def kernel_uid():
    """An unprivileged uid held by this notebook alone (``None`` when not grading as root).

    Yields: ``int`` uid, not in ``/etc/passwd``, owning no running process, and locked
    (``fcntl``) under ``/run/dlcourse-kernel-uids/`` for as long as the context lasts."""
    if os.geteuid() != 0:
        yield None
        return
    # One folder for the whole machine, whatever TMPDIR a grader has.
    folder = Path("/run" if os.path.isdir("/run") else "/tmp") / "dlcourse-kernel-uids"
    folder.mkdir(mode=0o700, exist_ok=True)
    start = random.randrange(len(KERNEL_UIDS))
    busy = _live_uids()
    for i in range(len(KERNEL_UIDS)):
        uid = KERNEL_UIDS[(start + i) % len(KERNEL_UIDS)]
        if uid in busy:
            continue  # a process of an earlier kernel still exiting: it would count
        try:
            pwd.getpwuid(uid)
            continue  # a real account: never borrow it
        except KeyError:
            pass
        fh = open(folder / str(uid), "w")  # held for the context
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            continue
        try:
            yield uid
        finally:
            fh.close()
        return
    raise RuntimeError(f"no free kernel uid in {KERNEL_UIDS} (too many kernels at once)")


def _live_uids() -> set[int]:
    """The uids of every process now running (``/proc``)."""
    out = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                out.add(os.stat(f"/proc/{name}").st_uid)
            except OSError:
                pass
    return out


def _own_cgroups() -> dict[str, str]:
    """``{controller or "" (v2): path}`` from ``/proc/self/cgroup``."""
    out = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            out[name] = path
    return out


def _writable(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def _v2_parent() -> Path | None:
    """A cgroup v2 folder under which this process may make children with memory and pids."""
    candidates = []
    if os.environ.get("DLCOURSE_CGROUP"):
        candidates.append(Path(os.environ["DLCOURSE_CGROUP"]))
    if os.geteuid() == 0 and (CGROUP_MOUNT / "cgroup.controllers").exists():
        candidates.append(CGROUP_MOUNT / "dlcourse-grading")
    for path in candidates:
        try:
            path.mkdir(exist_ok=True)
            have = (path / "cgroup.controllers").read_text().split()
            if not {"memory", "pids"} <= set(have) or not _writable(path):
                continue
            enabled = (path / "cgroup.subtree_control").read_text().split()
            if not {"memory", "pids"} <= set(enabled):
                (path / "cgroup.subtree_control").write_text("+memory +pids")
            return path
        except OSError:
            continue
    return None


def _v1_parents() -> dict[str, Path] | None:
    """The grader's own cgroup v1 ``memory`` and ``pids`` folders, when writable."""
    own = _own_cgroups()
    found = {}
    for ctl in ("memory", "pids"):
        if ctl not in own:
            return None
        path = CGROUP_MOUNT / ctl / own[ctl].lstrip("/")
        if not _writable(path) or not (path / "cgroup.procs").exists():
            return None
        found[ctl] = path
    return found


class Budget:
    """The cgroup(s) of one notebook: made by :meth:`open`, removed by :meth:`close`.

    ``memory_mb``: the memory of all its processes together, MiB (no swap); ``max_procs``:
    its processes and threads together."""

    def __init__(self, folders: dict[str, Path], version: int, memory_mb: int, max_procs: int):
        self.folders, self.version = folders, version
        self.memory_mb, self.max_procs = memory_mb, max_procs
        self._final: str | None = None
        self._closed = False

    @classmethod
    def open(cls, memory_mb: int, max_procs: int) -> Budget | None:
        """A fresh cgroup budget, or ``None`` where the machine offers no writable cgroup."""
        name = f"dlcourse-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:8]}"
        try:
            parent = _v2_parent()
            if parent is not None:
                folder = parent / name
                folder.mkdir()
                (folder / "memory.max").write_text(str(memory_mb * 2**20))
                if (folder / "memory.swap.max").exists():
                    (folder / "memory.swap.max").write_text("0")
                (folder / "memory.oom.group").write_text("1")  # the whole notebook stops
                (folder / "pids.max").write_text(str(max_procs))
                return cls({"": folder}, 2, memory_mb, max_procs)
            parents = _v1_parents()
            if parents is not None:
                folders = {ctl: p / name for ctl, p in parents.items()}
                for folder in folders.values():
                    folder.mkdir()
                mem = folders["memory"]
                (mem / "memory.limit_in_bytes").write_text(str(memory_mb * 2**20))
                if (mem / "memory.memsw.limit_in_bytes").exists():
                    (mem / "memory.memsw.limit_in_bytes").write_text(str(memory_mb * 2**20))
                (folders["pids"] / "pids.max").write_text(str(max_procs))
                return cls(folders, 1, memory_mb, max_procs)
        except OSError:
            return None
        return None

    def wrap(self, cmd: list[str]) -> list[str]:
        """``cmd`` started inside the cgroup(s): a shell writes its pid to each
        ``cgroup.procs`` and then becomes ``cmd``."""
        enter = " && ".join(f"echo $$ > {shlex.quote(str(f / 'cgroup.procs'))}"
                            for f in self.folders.values())
        return ["/bin/sh", "-c", f'{enter} && exec "$@"', "sh", *cmd]

    @staticmethod
    def _count(path: Path, key: str) -> int:
        try:
            for line in path.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
        except OSError:
            pass
        return 0

    def exceeded(self) -> str | None:
        """``"memory"`` (the OOM killer ended a process), ``"processes"`` (a fork or thread was
        refused) or ``None``; after :meth:`close`, what it was when closed."""
        if self._closed:
            return self._final
        if self.version == 2:
            mem = self.folders[""] / "memory.events"
            pids = self.folders[""] / "pids.events"
        else:
            mem = self.folders["memory"] / "memory.oom_control"
            pids = self.folders["pids"] / "pids.events"
        if self._count(mem, "oom_kill") > 0:
            return "memory"
        if self._count(pids, "max") > 0:
            return "processes"
        return None

    def close(self) -> None:
        """Kill what is left in the cgroup(s) and remove them."""
        if self._closed:
            return
        self._final = self.exceeded()
        self._closed = True
        for folder in self.folders.values():
            for _ in range(200):  # processes of a killed kernel may take seconds to go
                try:
                    pids = (folder / "cgroup.procs").read_text().split()
                except OSError:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def describe(limits) -> str:
    """Which of ``limits`` (:class:`autograder.sandbox.backends.Limits`) bind one notebook on
    this machine (for the grader's log): ``budget_mb`` (the notebook's cgroup), ``memory_mb``
    and ``file_mb`` (RLIMIT_AS and RLIMIT_FSIZE of each process), ``max_procs``."""
    budget_mb, memory_mb, file_mb, max_procs = (limits.budget_mb, limits.memory_mb,
                                                 limits.file_mb, limits.max_procs)
    budget = Budget.open(budget_mb, max_procs)
    per_process = (f"RLIMIT_AS {memory_mb} MiB and RLIMIT_FSIZE {file_mb} MiB per process")
    if os.geteuid() == 0:
        procs = f"{max_procs} processes (RLIMIT_NPROC, a kernel uid of its own)"
    else:
        procs = f"{max_procs} processes of the grading user's together (RLIMIT_NPROC)"
    if budget is None:
        return (f"no writable cgroup: {per_process}; {procs}; the notebook's memory in all is "
                "not bounded as one")
    budget.close()
    return (f"cgroup v{budget.version}: {budget_mb} MiB and {max_procs} processes per notebook; "
            f"{per_process}")
