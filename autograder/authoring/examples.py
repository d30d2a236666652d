"""The bundled example class that ``./course`` grades, and the scores it must get.

| student   | what they hand in |
| --------- | ----------------- |
| perfect   | the reference answers, every lesson |
| untouched | the released notebooks as they are |
| partial   | the reference answers with the first known mistake of each lesson |
| broken    | per lesson: invalid JSON, no notebook, a kernel that dies in the last answer, an empty
|           | file, a file that is not UTF-8, a notebook in nbformat 3 |

The submissions are built from the lessons and ``tests/mistakes/``, so they follow every change
of a lesson; :func:`expected` derives each cell's expected score from the same sources.
"""

from __future__ import annotations

import json

import nbformat
from nbgrader.utils import is_grade, is_solution

from dlcourse.status import Status

from ..grade.scratch import release_notebook, submission
from .mistakes import expected_scores, load_mistakes

STUDENTS = ["perfect", "untouched", "partial", "broken"]
BROKEN_KINDS = [Status.INVALID_JSON, Status.MISSING, Status.CRASHED, Status.EMPTY, Status.NOT_UTF8,
                Status.OLD_NBFORMAT]
CRASH = "import os\nos._exit(1)  # the kernel dies here\n"


def broken_kind(lesson: str, lessons: list[str]) -> str:
    return BROKEN_KINDS[lessons.index(lesson) % len(BROKEN_KINDS)]


def _last_answer(lesson: str) -> str:
    """The last code answer cell (a written answer is markdown: nothing of it runs)."""
    return [c.metadata.nbgrader["grade_id"] for c in release_notebook(lesson).cells
            if is_solution(c) and c.cell_type == "code"][-1]


def work(student: str, lesson: str, lessons: list[str]):
    """The notebook (or raw bytes, or None for no file) ``student`` hands in for ``lesson``."""
    if student == "perfect":
        return submission(lesson)
    if student == "untouched":
        return release_notebook(lesson)
    if student == "partial":
        mistakes = load_mistakes(lesson)
        return submission(lesson, mistakes[0].answers) if mistakes else submission(lesson)
    kind = broken_kind(lesson, lessons)
    text = nbformat.writes(submission(lesson))
    return {
        Status.INVALID_JSON: lambda: text[: len(text) // 2].encode(),
        Status.MISSING: lambda: None,
        Status.CRASHED: lambda: submission(lesson, {_last_answer(lesson): CRASH}),
        Status.EMPTY: lambda: b"",
        Status.NOT_UTF8: lambda: text.encode("utf-16"),
        Status.OLD_NBFORMAT: lambda: json.dumps({"nbformat": 3, "nbformat_minor": 0,
                                               "metadata": {}, "worksheets": []}).encode(),
    }[kind]()


def expected(student: str, lesson: str, lessons: list[str],
             maxes: dict[str, float]) -> tuple[dict[str, float], str]:
    """``({test cell: score}, notebook status)`` that grading ``work(...)`` must give."""
    if student == "perfect":
        return expected_scores(maxes, None), Status.GRADED
    if student == "untouched":
        return expected_scores(maxes, list(maxes)), Status.GRADED
    if student == "partial":
        mistakes = load_mistakes(lesson)
        return expected_scores(maxes, mistakes[0].fails if mistakes else None), Status.GRADED
    kind = broken_kind(lesson, lessons)
    if kind != Status.CRASHED:
        return expected_scores(maxes, list(maxes)), kind
    # Test cells before the dying answer cell keep their points; the rest score 0.
    nb = release_notebook(lesson)
    last, before, seen = _last_answer(lesson), [], False
    for cell in nb.cells:
        if is_solution(cell) and cell.metadata.nbgrader["grade_id"] == last:
            seen = True
        elif is_grade(cell) and not seen:
            before.append(cell.metadata.nbgrader["grade_id"])
    return expected_scores(maxes, [g for g in maxes if g not in before]), Status.CRASHED
