"""Grading a class: ``./course grade`` and everything it runs around the pipeline.

- :mod:`.command`: ``./course grade`` and ``./course lms-export``; its docstring lists the
  class-level steps in the order they run.
- :mod:`.preflight`: the checks before any grade is written (the sandbox works; the canary,
  the reference answers graded through the whole pipeline, gets full marks).
- :mod:`.pool`: the local process pool that grades submissions in parallel, and the gradebook
  writes around it (adopting renamed files, settling each result).
- :mod:`.distributed`: the same over Celery workers and a Redis broker.
- :mod:`.scratch`: scratch courses (a temporary course folder with its own gradebook) and the
  submissions built from the reference answers.
- :mod:`.report`: the instructor's report.

Imports :mod:`autograder.pipeline`, :mod:`autograder.sandbox` and :mod:`autograder.lms`.
"""
