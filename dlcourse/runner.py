"""The course's one way to run a notebook top to bottom in a fresh kernel.

Validate (:mod:`dlcourse.validate`), the reference runs (:mod:`autograder.pipeline.reference`),
the known-mistake check (:mod:`autograder.authoring.mistakes`) and the preflight
(:mod:`autograder.grade.preflight`) all run notebooks with :class:`Runner`. The grader itself
runs a student's notebook with nbgrader's ``Execute``
(:class:`autograder.pipeline.preprocessors.SandboxedExecute`), and a run here stops the way a
graded one does:

- a cell over ``cell_timeout`` seconds, or past ``notebook_timeout`` in all, is ``timed out``;
- a kernel that died is ``crashed``;
- every later code cell is ``not run`` (:func:`dlcourse.submission.stop` marks all three);
- an error in a cell is an output and the run goes on. A trusted run of the course's own
  notebook may ask for nbclient's ``CellExecutionError`` instead (``allow_errors=False``).

The kernel starts with nbclient's ``NotebookClient`` and the course's kernel settings
(:data:`dlcourse.lab.KERNEL_CONFIG`), and it is stopped at once afterwards
(``shutdown_kernel="immediate"``, as the grader stops it: a polite shutdown costs about 3 s).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets.config import Config

from .lab import KERNEL_CONFIG
from .status import Status
from .submission import CRASH_MESSAGE, stop, timeout_message


class Runner:
    """One kernel working in ``folder`` that runs notebooks in turn::

        with Runner(folder, env=VALIDATE_ENV, cell_timeout=60, notebook_timeout=300) as runner:
            runner.run(nb)

    - ``env``: variables of the kernel's environment on top of this process's (a value ``None``
      removes the variable). ``env=None`` leaves the environment to the kernel manager (a
      sandboxed one sets its own). This process's own ``os.environ`` never changes.
    - ``cell_timeout``: seconds one cell may run. ``notebook_timeout``: seconds one notebook may
      run in all (``None``: no limit).
    - ``skip_tag``: code cells with this tag are not run (nbclient's ``skip_cells_with_tag``).
    - ``allow_errors``: ``False`` raises nbclient's error at the first cell that raises
      (``CellExecutionError``), times out (``CellTimeoutError``) or crashes
      (``DeadKernelError``), after marking the stop.
    - ``kernel_manager_class``: the kernel manager (``None``: jupyter_client's).
      ``started(km)`` is called once the kernel answered (the sandbox seals its sockets folder).
    - ``stderr``: where the kernel's own error output goes (a binary file, or ``DEVNULL``).

    A notebook that timed out or crashed leaves no kernel to run the next one: :meth:`run` then
    raises ``RuntimeError``. A kernel that does not start raises from ``__enter__`` with
    jupyter_client's error.
    """

    def __init__(self, folder: Path | str, *, env: Mapping[str, str | None] | None = None,
                 cell_timeout: int = 300, notebook_timeout: int | None = None,
                 skip_tag: str | None = None, allow_errors: bool = True,
                 kernel_manager_class: type | None = None,
                 started: Callable[[object], None] | None = None,
                 stderr=subprocess.DEVNULL):
        self.cell_timeout = cell_timeout
        self.notebook_timeout = notebook_timeout
        self.env = env
        self.started = started
        self.stderr = stderr
        self.stopped: str | None = None  # the kind of the stop that ended the kernel
        options = {"kernel_manager_class": kernel_manager_class} if kernel_manager_class else {}
        if skip_tag is not None:
            options["skip_cells_with_tag"] = skip_tag
        self.client = NotebookClient(
            nbformat.v4.new_notebook(), timeout=cell_timeout, kernel_name="python3",
            allow_errors=allow_errors, shutdown_kernel="immediate", config=Config(KERNEL_CONFIG),
            resources={"metadata": {"path": str(folder)}}, **options)
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Runner:
        kwargs = {"stderr": self.stderr}
        if self.env is not None:
            env = {**os.environ, **self.env}
            kwargs["env"] = {key: value for key, value in env.items() if value is not None}
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.client.setup_kernel(**kwargs))
            if self.started is not None:
                self.started(self.client.km)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def run(self, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        """Run the code cells of ``nb`` in order, in place, and return it; a stop is marked in
        its cells and in ``nb.metadata.dlcourse.stopped`` (:func:`dlcourse.submission.stop`)."""
        if self.stopped is not None:
            raise RuntimeError(f"the kernel is gone: an earlier notebook {self.stopped}")
        client = self.client
        client.nb = nb
        deadline = (time.monotonic() + self.notebook_timeout
                    if self.notebook_timeout is not None else None)
        index = 0
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                left = self.cell_timeout if deadline is None else deadline - time.monotonic()
                client.timeout = max(1, int(min(self.cell_timeout, left)))
                client.execute_cell(cell, index)
        except CellTimeoutError:
            self.stopped = Status.TIMED_OUT
            stop(nb, index, Status.TIMED_OUT,
                 timeout_message(self.cell_timeout, self.notebook_timeout))
            if not client.allow_errors:
                raise
        except DeadKernelError:
            self.stopped = Status.CRASHED
            stop(nb, index, Status.CRASHED, CRASH_MESSAGE)
            if not client.allow_errors:
                raise
        return nb


def run_notebook(nb: nbformat.NotebookNode, folder: Path | str, **options) -> nbformat.NotebookNode:
    """Run ``nb`` in a fresh kernel working in ``folder`` and return it (``options`` are
    :class:`Runner`'s)."""
    with Runner(folder, **options) as runner:
        return runner.run(nb)
