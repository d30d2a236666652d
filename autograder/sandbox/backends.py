"""The seam between grading and the sandbox: one :class:`Limits` object and the registry
:data:`BACKENDS` of the ways a graded notebook's kernel can be started.

``SandboxedExecute.sandbox`` (the course's ``nbgrader_config.py``) names one entry of
:data:`BACKENDS`; the grader (nbgrader's ``Execute``) and the preflight (the course's runner,
:mod:`dlcourse.runner`) open a notebook's sandbox the same way::

    with BACKENDS[name](workdir, limits) as box:
        run_notebook(nb, workdir, kernel_manager_class=box.manager, started=box.started)

and ask the opened :class:`Sandbox` after each cell whether a budget was exceeded. A backend is
a context manager ``(workdir: Path, limits: Limits) -> Sandbox`` that undoes whatever it set up
(uids, cgroups) on exit; "grade in Docker" is one more module beside :mod:`.bwrap` and one more
entry here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .budget import Budget, kernel_uid
from .bwrap import SandboxedKernelManager, bound_manager


@dataclass(frozen=True)
class Limits:
    """What bounds one graded notebook, all in MiB but ``max_procs``: ``memory_mb`` (each
    process's address space, RLIMIT_AS), ``budget_mb`` (the notebook with all its processes,
    its cgroup), ``max_procs`` (its processes and threads), ``file_mb`` (each file a process
    writes, RLIMIT_FSIZE), ``disk_mb`` (what it may write in all: its tmpfs)."""

    memory_mb: int
    budget_mb: int
    max_procs: int
    file_mb: int
    disk_mb: int


@dataclass
class Sandbox:
    """One notebook's opened sandbox: ``manager``, the kernel manager class nbclient starts its
    kernel with (``None``: nbclient's own, no sandbox), and ``budget``, its cgroup
    (:class:`autograder.sandbox.budget.Budget`; ``None``: the machine offers none)."""

    manager: type | None
    budget: Budget | None

    def started(self, km) -> None:
        """The kernel ``km`` answered: close its sockets folder to it
        (:meth:`autograder.sandbox.bwrap.SandboxedKernelManager.seal`)."""
        if isinstance(km, SandboxedKernelManager):
            km.seal()

    def exceeded(self, km) -> str | None:
        """Which budget the notebook of kernel ``km`` exceeded: ``"memory"``, ``"processes"``
        (its cgroup's counters), ``"disk"`` (its tmpfs is full), or ``None``."""
        over = self.budget.exceeded() if self.budget is not None else None
        if over is None and isinstance(km, SandboxedKernelManager) and km.disk_full():
            over = "disk"
        return over


@contextlib.contextmanager
def bwrap_sandbox(workdir: Path, limits: Limits) -> Iterator[Sandbox]:
    """The kernel in bubblewrap (:mod:`.bwrap`), as a uid of its own when the grader is root,
    in a cgroup of its own where the machine offers one (:mod:`.budget`)."""
    with kernel_uid() as uid:
        budget = Budget.open(limits.budget_mb, limits.max_procs)
        try:
            yield Sandbox(bound_manager(str(workdir), uid, budget, memory_mb=limits.memory_mb,
                                        file_mb=limits.file_mb, max_procs=limits.max_procs,
                                        disk_mb=limits.disk_mb), budget)
        finally:
            if budget is not None:
                budget.close()


@contextlib.contextmanager
def no_sandbox(workdir: Path, limits: Limits) -> Iterator[Sandbox]:
    """The kernel as nbclient starts it, unbounded (``--no-sandbox``: trusted notebooks only;
    every score's status says so)."""
    yield Sandbox(None, None)


#: The values ``SandboxedExecute.sandbox`` takes, and how each opens a notebook's sandbox.
BACKENDS: dict[str, Callable[[Path, Limits], contextlib.AbstractContextManager[Sandbox]]] = {
    "bwrap": bwrap_sandbox,
    "none": no_sandbox,
}
