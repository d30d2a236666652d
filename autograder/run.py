"""The main job (``./course``): release, execute, grade the example class, report."""

from __future__ import annotations

import time

from . import ROOT, lessons, release_lessons
from .examples import STUDENTS, work
from .grading import ScratchCourse
from .parallel import grade_class
from .reference import reference_records

EXAMPLE_DIR = ROOT / "build" / "example-class"


def grade_example_class(workers: int | None = None, progress: bool = True) -> ScratchCourse:
    """Grade the bundled example class into ``build/example-class`` (made anew each time)."""
    names = lessons()
    course = ScratchCourse(names, path=EXAMPLE_DIR)
    course.release()
    for student in STUDENTS:
        for lesson in names:
            course.submit(student, lesson, work(student, lesson, names))
    pairs = [(s, lesson) for s in STUDENTS for lesson in names]
    grade_class(course.path, pairs, workers=workers, progress=progress, db=course.db_url)
    course.nbgrader("generate_feedback", "*", "--force")
    course.nbgrader("export", "--to", "grades.csv")
    return course


def score_table(course: ScratchCourse) -> str:
    import csv

    with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
        totals = {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)
                  if r["cell"] == "(total)"}
    names = lessons()
    width = max(len(n) for n in names)
    lines = ["student    " + "  ".join(f"{n:>{width}}" for n in names)]
    for student in STUDENTS:
        cells = []
        for lesson in names:
            r = totals.get((student, lesson))
            text = "-" if r is None else f"{float(r['score']):g}/{float(r['max_score']):g}"
            if r is not None and r["status"] != "graded":
                text += f" {r['status']}"
            cells.append(f"{text:>{width}}")
        lines.append(f"{student:10s} " + "  ".join(cells))
    return "\n".join(lines)


def main_job(workers: int | None = None) -> int:
    t0 = time.monotonic()
    release_lessons(lessons())
    print(f"[1/4] student notebooks regenerated in notebooks/ ({', '.join(lessons())})")
    for lesson in lessons():
        t = time.monotonic()
        reference_records(lesson, lesson)
        print(f"[2/4] executed solutions/{lesson} ({time.monotonic() - t:.1f} s, cached by content)")
    print("[3/4] grading the example class (build/example-class) ...")
    course = grade_example_class(workers)
    print("[4/4] scores (grades.csv has every test cell with its status):\n")
    print(score_table(course))
    print(f"\nCSV export: {course.path / 'grades.csv'}")
    print(f"feedback:   {course.path / 'feedback'}/<student>/<lesson>/<lesson>.html")
    print(f"done in {time.monotonic() - t0:.0f} s")
    return 0
