"""``./course grade``: grade a whole class, then feedback, the CSV export and the report.

The class-level order of :func:`grade_command` (the per-notebook order inside step 8 is
:mod:`autograder.pipeline.preprocessors`'s docstring); a step that stops the run prints why and
returns the exit status shown. Nothing is written to the gradebook before step 5 passed (with
``--broker``, each worker runs the preflight itself when it starts, before it takes a task):

1. **preflight** (local pool only): the machine can sandbox a kernel
   (:func:`autograder.grade.preflight.preflight`); exit 1.
2. **LMS import** (``--lms``): the download's files become ``submitted/<student>/<lesson>/``
   with nbgrader's ``timestamp.txt`` (:func:`autograder.lms.import_download`); a problem stops
   the run unless ``--accept`` (exit 2).
3. **shared gradebook** (``--broker``): refuse an SQLite gradebook; exit 1.
4. **find submissions** in ``submitted/`` (:func:`autograder.grade.pool.submissions`); none:
   exit 1.
5. **canary** (local pool only): the reference answers graded through the whole pipeline in a
   scratch course get full marks (:func:`autograder.grade.preflight.canary`; a lesson's pass is
   reused while nothing it depends on changed, :func:`autograder.grade.preflight.canary_key`);
   exit 1.
6. **release** lessons the gradebook does not know (:func:`ensure_released`, nbgrader
   ``generate_assignment``).
7. **register students** the LMS import found, and **apply deadlines**: ``deadlines.toml``'s due
   dates and extensions into the gradebook (:func:`autograder.pipeline.deadlines.apply`); a bad
   entry: exit 2.
8. **grade** every submission: the local pool (:func:`autograder.grade.pool.grade_class`:
   adopt renamed files, nbgrader ``autograde`` per notebook, settle each result) or the
   Celery workers (:func:`autograder.grade.distributed.coordinator.grade_class_broker`).
9. **feedback** of every graded notebook (nbgrader ``generate_feedback`` in a pool of worker
   processes: :func:`autograder.grade.pool.feedback_class`), and beside it
10. **export** ``grades.csv`` (nbgrader ``export``: :class:`autograder.pipeline.export.
    StatusCsvExport`; it reads only the gradebook, so it runs while the feedback is made).
11. **report**: ``reports/instructor-report.html`` (:func:`autograder.grade.report.write_report`).
12. **summary**: counts, paths and each grader error; exit 1 when any notebook had a grader
    error or any feedback failed, else 0.
"""

from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from dlcourse.status import Status

from .. import ROOT, generate_assignments, nbgrader_beside
from .. import lessons as course_lessons
from ..lms import ImportStopped, export_grades, import_download, refusals, register_students
from ..pipeline import deadlines as course_deadlines
from ..pipeline import received
from ..pipeline.export import record_refused_folders
from .pool import (
    _invalidate,
    cause,
    db_url,
    feedback_class,
    grade_class,
    refused,
    refused_folders,
    submissions,
)
from .preflight import GradingStopped, canary, configured_execute, preflight
from .report import write_report

#: The message of a student whose every file for a lesson ``--accept`` skipped (the reasons
#: follow it).
IMPORT_REFUSED = ("LMS 파일을 채점하지 않았습니다 (import refused, skipped with --accept); "
                  "담당자에게 다시 제출 방법을 물으세요")


def ensure_released(root: Path, url: str, lessons: list[str]) -> None:
    """Register lessons the gradebook does not know yet (nbgrader generate_assignment)."""
    with Gradebook(url) as gb:
        missing = []
        for lesson in lessons:
            try:
                gb.find_assignment(lesson)
            except MissingEntry:
                missing.append(lesson)
    generate_assignments(root, missing, url)


def grade_command(lessons: list[str], lms: Path | None = None, workers: int | None = None,
                  root: Path = ROOT, roster: Path | None = None, accept: bool = False,
                  broker: str | None = None, sandbox: bool = True) -> int:
    """Grade ``lessons`` (see the module docstring); the exit status is 0 only when every
    notebook was graded, every report written and no folder in ``submitted/`` refused (a name
    that is no student id, :func:`autograder.grade.pool.refused_folders`). Nothing is written to
    the gradebook before the environment proves it can grade (:mod:`autograder.grade.preflight`;
    with ``broker``, each worker checks itself when it starts)."""
    t0 = time.monotonic()
    placed = []
    try:
        if broker:  # the configuration here; each worker checks its own kernels
            configured_execute(root)
        else:
            print(preflight(sandbox, root))
    except GradingStopped as stop:
        print(stop)
        return 1
    if lms:
        try:
            placed, notes = import_download(lms, root, lessons, roster=roster, accept=accept)
        except ImportStopped as stop:
            print("LMS 가져오기 중단, 아무것도 쓰지 않았습니다 (import stopped, nothing written):")
            print("\n".join(f"  {p}" for p in stop.problems))
            print("확인 후 --accept 로 위 파일만 건너뛸 수 있습니다 (--accept skips exactly these)")
            return 2
        except (ValueError, zipfile.BadZipFile) as err:  # an unreadable roster or download
            print(f"LMS 가져오기 실패 (import failed): {err}")
            return 2
        print("\n".join(notes))
    url = db_url(root)
    if broker and url.startswith("sqlite"):
        print("--broker 는 공유 채점 기록부가 필요합니다 (shared gradebook needed): set "
              "NBGRADER_DB_URL to PostgreSQL, here and on every worker")
        return 1
    pairs = submissions(root, lessons)
    bad = refused_folders(root, lessons)  # names no student id: never graded
    bad_folders = [bad[k] for k in sorted(bad)]
    for line in bad_folders:
        print(line)
    record_refused_folders(root, bad)  # grades.csv and the report list them as refused
    # a refused folder is never graded: its time decides nothing, under any late policy
    timed = [(s, lesson) for s, lesson in pairs if not refused(root, s, lesson)]
    # students whose files --accept skipped: zeroed with the reason, never left out
    skipped = refusals(root, lessons or course_lessons(root))
    if not pairs and not skipped:
        print("submitted/ 에 채점할 제출이 없습니다 (no submissions found)")
        return 1
    try:
        unknown = [] if accept else received.unknown(root, timed)
    except ValueError as err:  # deadlines.toml names the entry
        print(err)
        return 2
    if unknown:
        print("제출 시간을 알 수 없어 채점하지 않았습니다 (submission time unknown, nothing "
              "graded):")
        print("\n".join(f"  {line}" for line in unknown))
        print("nbgrader collect (과목 설정: 교환 폴더의 도착 시간을 기록) 나 --lms 로 가져오세요; "
              "--accept 는 지금 시각을 제출 시간으로 기록해 채점합니다 (collect with the course's "
              "nbgrader collect or import with --lms; --accept records them as received now)")
        return 2
    if not broker and pairs:
        try:
            canary(sorted({lesson for _, lesson in pairs}), workers, sandbox, root)
        except GradingStopped as stop:
            print(stop)
            return 1
    ensure_released(root, url, lessons)
    register_students(url, placed)
    try:
        for note in received.apply(root, timed, accept) + course_deadlines.apply(root, url, pairs):
            print(note)
    except ValueError as err:  # deadlines.toml names the entry
        print(err)
        return 2
    if broker:
        from .distributed.coordinator import grade_class_broker

        results = grade_class_broker(root, pairs, broker, url)
    else:
        results = grade_class(root, pairs, workers=workers, sandbox=sandbox)
    for (student, lesson), why in sorted(skipped.items()):
        message = f"{IMPORT_REFUSED}: {why}"
        _invalidate(root, url, student, lesson, Status.IMPORT_REFUSED, message)
        print(f"{student}/{lesson}: {message}")
    for lesson in sorted({lesson for _, lesson in pairs}):
        if not any((root / "autograded").glob(f"*/{lesson}/{lesson}.ipynb")):
            print(f"{lesson}: 채점된 노트북이 없어 피드백을 만들지 않았습니다 "
                  "(no feedback: no notebook of this lesson could be graded)")
    with nbgrader_beside(root, "export", "--to", "grades.csv"):
        feedback_failed = feedback_class(root, pairs, url, workers)
    for (student, lesson), why in sorted(feedback_failed.items()):
        print(f"{student}/{lesson}: 피드백을 만들지 못했습니다 (feedback failed): {why}")
    report = write_report(root, url, root / "reports" / "instructor-report.html")
    errors = [r for r in results if not r.success]
    print(f"graded {len(results)} notebook{'s' * (len(results) != 1)} in "
          f"{time.monotonic() - t0:.0f} s ({len(errors)} grader error{'s' * (len(errors) != 1)})")
    print(f"CSV: {root / 'grades.csv'}\nfeedback: {root / 'feedback'}\nreport: {report}")
    for r in errors:
        print(f"  grader error: {r.student}/{r.lesson}: {cause(r.message)}")
    for line in bad_folders:
        print(f"  {line}")
    return 1 if errors or feedback_failed or bad_folders else 0


def lms_export_command(lesson: str, roster: Path, dest: Path, column: str | None = None,
                       root: Path = ROOT) -> int:
    """``./course lms-export``: the LMS's grade import file for one graded lesson."""
    for note in export_grades(root, db_url(root), lesson, roster, dest, column):
        print(note)
    print(f"LMS grade file: {dest}")
    return 0


def formgrader_command(root: Path = ROOT) -> list[str]:
    """``./course formgrader`` (run in ``root``): the instructor's JupyterLab opening nbgrader's
    formgrader on the course's gradebook and settings (``nbgrader_config.py``: SQLite
    ``gradebook.db``, or ``NBGRADER_DB_URL``'s PostgreSQL), where written answers wait as
    "needs manual grading" and autograded scores, statuses and notes are shown as graded."""
    return [*lab_instructor_command(root)[:-1], "--LabApp.default_url=/formgrader"]


def lab_instructor_command(root: Path = ROOT) -> list[str]:
    """``./course lab-instructor`` (run in ``root``): JupyterLab on the course folder, with
    nbgrader's formgrader, opening ``solutions/``. What it shows of a student's graded notebook
    is inert (:mod:`autograder.pipeline.sanitize`; ``tests/pipeline/test_pages_inert.py`` opens it in Chromium)."""
    return [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={root}",
            "--LabApp.default_url=/lab/tree/solutions"]
