"""``nbgrader export`` with a status beside every number.

One row per student × lesson × test cell, plus one ``(total)`` row per notebook. ``status`` is
``graded``, ``timed out``, ``crashed``, ``not run``, ``missing``, ``needs manual grading`` (a
written answer no person has graded yet: no score; the ``(total)`` row counts them),
``grader error``, ``import refused`` (every file of the student's ``--accept`` skipped, the
reasons in ``message``), ``crashed (memory)``, ``crashed (processes)`` (over the notebook's budget,
:mod:`autograder.sandbox.budget`), ``graded (no sandbox)`` (``--no-sandbox``) or why the file could not be
read; ``message`` says what the student sees. A ``submitted/`` folder whose name is no student
id never reaches the gradebook; ``./course grade`` records it (:func:`record_refused_folders`)
and it gets one ``(total)`` row, score 0, status ``refused`` and the reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

from dlcourse.status import Status
from dlcourse.submission import WRITTEN_MESSAGE

from ..csvfile import write_csv
from ..paths import course_folder
from . import status
from .deadlines import describe
from .deadlines import load as load_deadlines

#: ``late_penalty``, ``submitted``, ``due`` (ISO 8601 in UTC, with the student's extension) and ``late`` (the
#: same in words) are filled on ``(total)`` rows; their ``score`` is after the late penalty.
COLUMNS = ["student", "assignment", "cell", "score", "max_score", "status", "message",
           "late_penalty", "submitted", "due", "late"]


#: The course's record of the ``submitted/`` folders the last ``./course grade`` refused.
REFUSED_FOLDERS = Path(".dlcourse") / "refused-folders.json"


def record_refused_folders(root: Path, folders: dict[tuple[str, str], str]) -> None:
    """Record ``{(folder name, lesson): why}``, the folders of ``submitted/`` that are no
    student id, replacing the last run's record (:func:`refused_folders` reads it)."""
    path = Path(root) / REFUSED_FOLDERS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([[name, lesson, why] for (name, lesson), why in sorted(
        folders.items())], ensure_ascii=False), encoding="utf-8")


def refused_folders(root: Path) -> dict[tuple[str, str], str]:
    """``{(folder name, lesson): why}`` as the last ``./course grade`` recorded them."""
    path = Path(root) / REFUSED_FOLDERS
    if not path.exists():
        return {}
    return {(name, lesson): why for name, lesson, why in json.loads(path.read_text("utf-8"))}


def rows(gradebook: Gradebook, root: Path, students=(), assignments=()) -> list[dict]:
    known = status.load(gradebook.engine.url.render_as_string(hide_password=False))
    tz = load_deadlines(root).timezone
    bad = refused_folders(root)
    out = []
    for assignment in gradebook.assignments:
        if assignments and assignment.name not in assignments:
            continue
        out += [dict(student=name, assignment=lesson, cell="(total)", score=0.0,
                     max_score=assignment.max_score, status=Status.REFUSED, message=why)
                for (name, lesson), why in sorted(bad.items())
                if lesson == assignment.name and (not students or name in students)]
        for student in gradebook.students:
            if students and student.id not in students:
                continue
            try:
                sub = gradebook.find_submission_notebook(assignment.name, assignment.name,
                                                         student.id)
            except MissingEntry:
                continue
            submitted = course_folder(root, student.id, assignment.name) / f"{assignment.name}.ipynb"
            nb_row = known.get((assignment.name, student.id, assignment.name, ""), {})
            nb_status = nb_row.get("status", Status.GRADED)
            nb_message = nb_row.get("message", "")
            if not submitted.exists() and nb_status not in (Status.MISSING, Status.IMPORT_REFUSED):
                # Graded earlier; the file has gone from submitted/ since (never silently
                # zeroed, never called "missing" beside a score).
                nb_message = "; ".join(m for m in (
                    "제출 파일이 지금은 submitted/에 없습니다: 이전 채점 결과입니다 (notebook no "
                    "longer in submitted/: an earlier grade)", nb_message) if m)
            total = max_total = 0.0
            waiting = 0
            comments = {c.name: c.manual_comment for c in sub.comments}
            for grade in sorted(sub.grades, key=lambda g: g.name):
                if not grade.max_score:
                    continue
                cell = known.get((assignment.name, student.id, assignment.name, grade.name), {})
                state, message = cell.get("status", Status.GRADED), cell.get("message", "")
                score = grade.score
                if grade.cell_type == "markdown":
                    state, message = written(grade, comments.get(grade.name), state, message)
                    if state == Status.NEEDS_MANUAL:  # no score until a person gives one
                        score, waiting = None, waiting + 1
                elif grade.needs_manual_grade:
                    state = Status.NEEDS_MANUAL
                if nb_status == Status.MISSING:
                    state = Status.MISSING
                total += score or 0.0
                max_total += grade.max_score
                out.append(dict(student=student.id, assignment=assignment.name, cell=grade.name,
                                score=score, max_score=grade.max_score, status=state,
                                message=message))
            if waiting:
                nb_message = "; ".join(m for m in (waiting_message(waiting), nb_message) if m)
            penalty, asg = sub.late_submission_penalty or 0.0, sub.assignment
            out.append(dict(student=student.id, assignment=assignment.name, cell="(total)",
                            score=total - penalty, max_score=max_total, status=nb_status,
                            message=nb_message, late_penalty=penalty,
                            submitted=_utc(asg.timestamp), due=_utc(asg.duedate),
                            late=describe(asg.timestamp, asg.duedate, asg.extension,
                                          penalty, tz) if asg.duedate else ""))
    return out


BY_HAND = "채점자가 채점했습니다 (graded by hand)"


def waiting_message(count: int) -> str:
    """The ``(total)`` row's note of a notebook whose ``count`` (≥ 1) written answers wait for
    a person: "서술형 1개가 채점을 기다립니다 (1 written answer needs manual grading)", "… (2
    written answers need manual grading)"."""
    english = (f"1 written answer {Status.NEEDS_MANUAL}" if count == 1 else
               f"{count} written answers need manual grading")
    return f"서술형 {count}개가 채점을 기다립니다 ({english})"


def written(grade, comment: str | None, state: str, message: str) -> tuple[str, str]:
    """``(status, message)`` of a written answer's ``grade`` (a markdown cell graded by hand)
    whose status table row says ``state``, ``message``: ``graded`` with the grader's
    ``comment`` once a person gave points (formgrader's ``manual_score``), ``Status.NEEDS_MANUAL``
    until then (an empty answer, scored 0 by nbgrader, keeps its own row)."""
    if grade.manual_score is not None:
        return Status.GRADED, f"{BY_HAND}: {comment}" if comment else BY_HAND
    if grade.auto_score is None:
        return Status.NEEDS_MANUAL, message or WRITTEN_MESSAGE
    return state, message


def _utc(when: datetime | None) -> str:
    """nbgrader's naive UTC time as ISO 8601 with its offset (``2024-03-07T01:00:00+00:00``)."""
    return when.replace(tzinfo=UTC).isoformat() if when else ""


class StatusCsvExport(ExportPlugin):
    """CSV export (default ``grades.csv``) with a status column for every score, written by
    :func:`autograder.csvfile.write_csv` (a text a spreadsheet would run gets a leading ``'``;
    scores stay numbers)."""

    def export(self, gradebook: Gradebook) -> None:
        dest = Path(self.to or "grades.csv")
        data = rows(gradebook, Path.cwd(), [str(s) for s in self.student],
                    [str(a) for a in self.assignment])
        write_csv(dest, COLUMNS, data)  # UTF-8 with BOM, no formula (csvfile)
        self.log.info("Exported %d rows to %s", len(data), dest)
