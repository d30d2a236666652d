"""Every status a graded cell or notebook can have, spelled once.

Validate (:mod:`dlcourse.validate`) and the grader (``autograder.pipeline``) both write these into
a notebook's ``metadata.dlcourse.status``; the grader keeps them in its status table and they are
the ``status`` column of ``grades.csv`` and the LMS export, so a value is what instructors and
students read. A :class:`Status` is a ``str``: it compares equal to, and is stored as, its value.
"""

from enum import StrEnum


class Status(StrEnum):
    """A cell's or a notebook's status (the notebook's own row is the cell ``""``)."""

    #: Run and judged; the score says how it went.
    GRADED = "graded"
    #: Graded by ``./course grade --no-sandbox`` (``SandboxedExecute.sandbox = "none"``).
    GRADED_NO_SANDBOX = "graded (no sandbox)"
    #: A written answer until a person grades it (nbgrader's ``needs_manual_grade``).
    NEEDS_MANUAL = "needs manual grading"
    TIMED_OUT = "timed out"
    #: The kernel died.
    CRASHED = "crashed"
    #: Over the sandbox's budgets (``autograder.sandbox.budget``): ``crashed (<kind>)``.
    CRASHED_MEMORY = "crashed (memory)"
    CRASHED_PROCESSES = "crashed (processes)"
    CRASHED_DISK = "crashed (disk)"
    #: A code cell after the one that timed out or crashed.
    NOT_RUN = "not run"
    #: No notebook in ``submitted/``.
    MISSING = "missing"
    #: A submission folder the grader would not read (``autograder.grade.pool.refused``).
    REFUSED = "refused"
    #: A file of the LMS download refused by the import (``autograder.lms``).
    IMPORT_REFUSED = "import refused"
    #: The grading run itself failed.
    GRADER_ERROR = "grader error"
    # A file that cannot be read as a notebook (dlcourse.submission.READ_PROBLEMS says why).
    EMPTY = "empty"
    TOO_LARGE = "too large"
    NOT_UTF8 = "not utf-8"
    INVALID_JSON = "invalid json"
    OLD_NBFORMAT = "old nbformat"
    NOT_A_NOTEBOOK = "not a notebook"

