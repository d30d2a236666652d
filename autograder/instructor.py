"""``./course grade``: grade a whole class, then feedback, the CSV export and the report."""

from __future__ import annotations

import time
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from . import ROOT, nbgrader
from .parallel import cause, db_url, grade_class, layout_lms, submissions
from .preflight import GradingStopped, canary, preflight
from .report import write_report


def ensure_released(root: Path, url: str, lessons: list[str]) -> None:
    """Register lessons the gradebook does not know yet (nbgrader generate_assignment)."""
    with Gradebook(url) as gb:
        missing = []
        for lesson in lessons:
            try:
                gb.find_assignment(lesson)
            except MissingEntry:
                missing.append(lesson)
    for lesson in missing:
        nbgrader(root, "generate_assignment", lesson, "--force")


def grade_command(lessons: list[str], lms: Path | None = None, workers: int | None = None,
                  root: Path = ROOT, sandbox: bool = True) -> int:
    t0 = time.monotonic()
    try:  # nothing is written to the gradebook before the environment proves it can grade
        print(preflight(sandbox))
    except GradingStopped as stop:
        print(stop)
        return 1
    if lms:
        for note in layout_lms(lms, root, lessons):
            print(note)
    url = db_url(root)
    pairs = submissions(root, lessons)
    if not pairs:
        print("submitted/ 에 채점할 제출이 없습니다 (no submissions found)")
        return 1
    try:
        canary(sorted({lesson for _, lesson in pairs}), workers, sandbox, root)
    except GradingStopped as stop:
        print(stop)
        return 1
    ensure_released(root, url, lessons)
    results = grade_class(root, pairs, workers=workers, sandbox=sandbox)
    for lesson in sorted({lesson for _, lesson in pairs}):
        nbgrader(root, "generate_feedback", lesson, "--force")
    nbgrader(root, "export", "--to", "grades.csv")
    report = write_report(root, url, root / "reports" / "instructor-report.html")
    errors = [r for r in results if not r.success]
    print(f"graded {len(results)} notebooks in {time.monotonic() - t0:.0f} s "
          f"({len(errors)} grader errors)")
    print(f"CSV: {root / 'grades.csv'}\nfeedback: {root / 'feedback'}\nreport: {report}")
    for r in errors:
        print(f"  grader error: {r.student}/{r.lesson}: {cause(r.message)}")
    return 1 if errors else 0
