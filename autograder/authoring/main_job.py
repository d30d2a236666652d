"""The main job (``./course``): release, execute, grade the example class, report."""

from __future__ import annotations

import os
import time

from dlcourse.status import Status

from .. import ROOT, lessons, nbgrader_beside, release_lessons
from ..grade.pool import cause, feedback_class, grade_class
from ..grade.preflight import GradingStopped, check_environment
from ..grade.scratch import ScratchCourse
from ..pipeline.reference import reference_records
from .examples import STUDENTS, expected, work

EXAMPLE_DIR = ROOT / "build" / "example-class"


def grade_example_class(workers: int | None = None, progress: bool = True,
                        sandbox: bool = True) -> ScratchCourse:
    """Grade the bundled example class into ``build/example-class`` (made anew each time)."""
    names = lessons()
    course = ScratchCourse(names, path=EXAMPLE_DIR)
    course.release()
    for student in STUDENTS:
        for lesson in names:
            course.submit(student, lesson, work(student, lesson, names))
    pairs = [(s, lesson) for s in STUDENTS for lesson in names]
    results = grade_class(course.path, pairs, workers=workers, progress=progress,
                          db=course.db_url, sandbox=sandbox)
    for r in results:
        if not r.success:
            print(f"  grader error: {r.student}/{r.lesson}: {cause(r.message)}")
    with nbgrader_beside(course.path, "export", "--to", "grades.csv",
                         env={**os.environ, "NBGRADER_DB_URL": course.db_url}):
        failed = feedback_class(course.path, pairs, course.db_url, workers)
    for (student, lesson), why in sorted(failed.items()):
        print(f"  feedback failed: {student}/{lesson}: {why}")
    return course


def actual_table(course: ScratchCourse) -> dict[tuple[str, str], str]:
    """``{(student, lesson): "score/max" and the status unless graded}`` from ``grades.csv``
    (``-``: no row)."""
    import csv

    with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
        totals = {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)
                  if r["cell"] == "(total)"}
    out = {}
    for student in STUDENTS:
        for lesson in lessons():
            r = totals.get((student, lesson))
            out[student, lesson] = "-" if r is None else _cell_text(
                float(r["score"]), float(r["max_score"]), r["status"])
    return out


def _cell_text(score: float, max_score: float, state: str) -> str:
    text = f"{score:g}/{max_score:g}"
    return text if state == Status.GRADED else f"{text} {state}"


def expected_table(course: ScratchCourse, sandbox: bool = True) -> dict[tuple[str, str], str]:
    """What :func:`autograder.authoring.examples.expected` says :func:`actual_table` must be (every
    "graded" is "graded (no sandbox)" when graded without the sandbox). The maximum counts the
    written answers, which score nothing until a person grades them (``./course formgrader``)."""
    names = lessons()
    out = {}
    for lesson in names:
        maxes = course.max_scores(lesson)
        by_hand = sum(course.written_points(lesson).values())
        for student in STUDENTS:
            scores, state = expected(student, lesson, names, maxes)
            if state == Status.GRADED and not sandbox:
                state = Status.GRADED_NO_SANDBOX
            out[student, lesson] = _cell_text(sum(scores.values()), sum(maxes.values()) + by_hand,
                                              state)
    return out


def score_table(course: ScratchCourse, want: dict[tuple[str, str], str] | None = None) -> str:
    """The student × lesson table of ``grades.csv``; with ``want`` (:func:`expected_table`),
    each cell that differs is marked ``✗`` and followed by what was expected."""
    got = actual_table(course)
    names = lessons()
    width = max(len(n) for n in names)
    lines = ["student    " + "  ".join(f"{n:>{width}}" for n in names)]
    for student in STUDENTS:
        cells = []
        for lesson in names:
            text = got[student, lesson]
            if want is not None and want[student, lesson] != text:
                text = f"✗ {text} (expected {want[student, lesson]})"
            cells.append(f"{text:>{width}}")
        lines.append(f"{student:10s} " + "  ".join(cells))
    return "\n".join(lines)


def main_job(workers: int | None = None, sandbox: bool = True) -> int:
    """Exit code 0 when the example class's table is exactly the expected one, else 1."""
    t0 = time.monotonic()
    release_lessons(lessons())
    print(f"[1/4] student notebooks regenerated in notebooks/ ({', '.join(lessons())})")
    for lesson in lessons():
        t = time.monotonic()
        reference_records(lesson, lesson)
        print(f"[2/4] executed solutions/{lesson} ({time.monotonic() - t:.1f} s, cached by content)")
    try:
        check_environment(lessons(), workers, sandbox)
    except GradingStopped as stop:
        print(stop)
        return 1
    print("[3/4] grading the example class (build/example-class) ...")
    course = grade_example_class(workers, sandbox=sandbox)
    print("[4/4] scores (grades.csv has every test cell with its status):\n")
    want = expected_table(course, sandbox)
    print(score_table(course, want))
    got = actual_table(course)
    differ = [f"{s}/{lesson}" for (s, lesson), text in want.items() if got[s, lesson] != text]
    print(f"\nCSV export: {course.path / 'grades.csv'}")
    print(f"feedback:   {course.path / 'feedback'}/<student>/<lesson>/<lesson>.html")
    print(f"done in {time.monotonic() - t0:.0f} s")
    if differ:
        print(f"예상과 다른 점수 (differs from the expected table, marked ✗): {', '.join(differ)}")
        return 1
    print("모든 점수가 예상한 표와 같습니다 (every score as expected)")
    return 0
