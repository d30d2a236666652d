"""Where a student's code runs: the kernel sandbox and its limits.

- :mod:`.backends`: the seam — one :class:`~.backends.Limits` object and the registry
  :data:`~.backends.BACKENDS` (``bwrap``, ``none``) that ``SandboxedExecute`` and the preflight
  open a notebook's sandbox through. Another backend (e.g. Docker) is one more module here and
  one more entry there.
- :mod:`.bwrap`: the bubblewrap sandbox (finding a working ``bwrap``, the kernel manager that
  starts each grading kernel inside it).
- :mod:`.budget`: one memory and process budget per notebook (cgroups) and the kernel uids.

The preflight that proves a machine can sandbox before any grade is written is
:mod:`autograder.grade.preflight` (it also grades the canary through the whole pipeline).
Imports nothing else of :mod:`autograder` but its root.
"""
