"""Due dates, per-student extensions and the late policy of the course (``deadlines.toml``).

The file lives in the course root (beside ``nbgrader_config.py``); every time in it is in the
file's ``timezone`` unless it carries its own offset::

    timezone = "Asia/Seoul"
    [due]
    01_neuron = 2024-03-04T23:59:00
    [extensions."20240001"]          # course student id
    01_neuron = 2                    # days after the due date, or a new due date-time
    [late]
    policy = "per_day"               # "none", "zero" or "per_day"
    per_day = 0.1                    # share of the lesson's points lost per day or part of a day
    cap = 0.3                        # at most this share

nbgrader applies it: :func:`apply` writes the due dates into the gradebook's assignments and the
extensions into its submissions (``SubmittedAssignment.extension``, nbgrader's own field), the
import writes the LMS's submission time as nbgrader's ``timestamp.txt``, and nbgrader's
``AssignLatePenalties`` preprocessor asks :class:`LatePolicy` (a
``nbgrader.plugins.LateSubmissionPlugin``) for the penalty of
``SubmittedAssignment.total_seconds_late``. Sources: nbgrader's documentation "Late submission
plugin" (nbgrader.readthedocs.io, plugins/late-plugin.html) and ``nbgrader/api.py``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from nbformat.v4 import new_markdown_cell
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import NbGraderPreprocessor

DEADLINES_FILE = "deadlines.toml"
POLICIES = ("none", "zero", "per_day")
DAY = 86400.0


@dataclass(frozen=True)
class Policy:
    """``method``: none | zero | per_day; ``per_day`` and ``cap``: shares (0..1) of the lesson's
    maximum points, lost per started day late and at most."""

    method: str = "none"
    per_day: float = 0.0
    cap: float = 1.0


@dataclass
class Deadlines:
    """Aware datetimes: ``due[lesson]``, ``extended[(student, lesson)]`` (the new due date)."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Seoul"))
    due: dict[str, datetime] = field(default_factory=dict)
    extended: dict[tuple[str, str], datetime] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)


def _aware(value, tz: ZoneInfo, where: str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):  # a bare date would hide the hour of the deadline
        kind = "date without a time" if isinstance(value, date) else type(value).__name__
        raise ValueError(f"{DEADLINES_FILE}: {where}: 시각이 필요합니다 (need a date-time, got "
                         f"a {kind})")
    return value if value.tzinfo else value.replace(tzinfo=tz)


def load(root: Path) -> Deadlines:
    """The course's ``deadlines.toml`` (no file: no due dates, policy ``none``).
    Raises ValueError naming the entry for an unknown policy, a share outside 0..1, a date
    without a time, or an extension for a lesson without a due date."""
    path = Path(root) / DEADLINES_FILE
    if not path.exists():
        return Deadlines()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    tz = ZoneInfo(data.get("timezone", "Asia/Seoul"))
    due = {lesson: _aware(v, tz, f"due.{lesson}") for lesson, v in data.get("due", {}).items()}
    extended = {}
    for student, items in data.get("extensions", {}).items():
        for lesson, v in items.items():
            if lesson not in due:
                raise ValueError(f"{DEADLINES_FILE}: extensions.{student}.{lesson}: 마감이 없는 "
                                 "과제입니다 (no due date for this lesson)")
            extended[(student, lesson)] = (due[lesson] + timedelta(days=v)
                                           if isinstance(v, int | float) and not isinstance(v, bool)
                                           else _aware(v, tz, f"extensions.{student}.{lesson}"))
    late = data.get("late", {})
    policy = Policy(late.get("policy", "none"), float(late.get("per_day", 0.0)),
                    float(late.get("cap", 1.0)))
    if policy.method not in POLICIES:
        raise ValueError(f"{DEADLINES_FILE}: late.policy: {policy.method!r} (one of {POLICIES})")
    if not (0 <= policy.per_day <= 1 and 0 <= policy.cap <= 1):
        raise ValueError(f"{DEADLINES_FILE}: late.per_day and late.cap are shares from 0 to 1")
    return Deadlines(tz, due, extended, policy)


def utc_naive(when: datetime) -> datetime:
    """nbgrader stores naive UTC datetimes (``nbgrader.utils.parse_utc``)."""
    return when.astimezone(UTC).replace(tzinfo=None)


def penalty(policy: Policy, seconds_late: float, score: float, max_score: float) -> float | None:
    """Points taken off a notebook ``seconds_late`` seconds late (None: no penalty).
    ``per_day``: ``min(cap, per_day × ⌈seconds_late / 86400⌉) × max_score``, rounded to 0.01;
    ``zero``: the whole score. nbgrader then keeps the penalty within 0..score."""
    if seconds_late <= 0 or policy.method == "none":
        return None
    if policy.method == "zero":
        return score
    share = min(policy.cap, policy.per_day * math.ceil(seconds_late / DAY))
    return round(share * max_score, 2)


def apply(root: Path, db_url: str, pairs: list[tuple[str, str]]) -> list[str]:
    """Write the due dates of ``deadlines.toml`` into the gradebook's assignments and the
    extension of every (student, lesson) in ``pairs`` into its submission (none: cleared).
    Returns one line per extension granted."""
    dl = load(root)
    notes = []
    with Gradebook(db_url) as gb:
        for lesson, due in dl.due.items():
            try:
                gb.find_assignment(lesson)
            except MissingEntry:
                continue
            gb.update_or_create_assignment(lesson, duedate=utc_naive(due))
        for student, lesson in pairs:
            if lesson not in dl.due:
                continue
            gb.update_or_create_student(student)
            new_due = dl.extended.get((student, lesson))
            extension = new_due - dl.due[lesson] if new_due else None
            gb.update_or_create_submission(lesson, student, extension=extension)
            if extension:
                notes.append(f"{student}/{lesson}: 마감 연장 (extension) → "
                             f"{new_due.astimezone(dl.timezone):%Y-%m-%d %H:%M}")
    return notes


class LatePolicy(LateSubmissionPlugin):
    """nbgrader's late-submission plugin for the course: the policy of ``deadlines.toml`` in the
    directory nbgrader runs in (the course root). Configured in autograder/nbgrader_config.py as
    ``AssignLatePenalties.plugin_class``."""

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float) -> float | None:
        policy = load(Path.cwd()).policy
        parent = self.parent  # the AssignLatePenalties preprocessor, inside its gradebook
        max_score = parent.gradebook.find_notebook(parent.notebook_id,
                                                   parent.assignment_id).max_score
        points = penalty(policy, total_seconds_late, score, max_score)
        self.log.info("late %s s, policy %s: penalty %s", total_seconds_late, policy, points)
        return points


def describe(timestamp: datetime | None, due: datetime | None, extension: timedelta | None,
             penalty_points: float | None, tz: ZoneInfo) -> str:
    """One Korean line (English key phrases) about a submission's time: submitted, due,
    extension, how late and the penalty. Arguments are nbgrader's naive UTC values."""
    def local(t: datetime) -> str:
        return t.replace(tzinfo=UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    parts = []
    if timestamp:
        parts.append(f"제출 (submitted) {local(timestamp)}")
    if due:
        parts.append(f"마감 (due) {local(due)}")
    if extension:
        parts.append(f"연장 (extension) +{extension.total_seconds() / DAY:g}일")
    if timestamp and due and timestamp > due:
        late = (timestamp - due).total_seconds()
        parts.append(f"지각 (late) {late / 3600:.1f}시간, 감점 (penalty) -{penalty_points or 0:g}점")
    return ", ".join(parts)


class DeadlineNote(NbGraderPreprocessor):
    """Feedback preprocessor: a first markdown cell with the submission time, the due date
    (with the student's extension) and the late penalty, when the lesson has a due date."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            sub = gb.find_submission(info["assignment"], info["student"])
            if sub.assignment.duedate is None:
                return nb, resources
            nbsub = gb.find_submission_notebook(info["notebook"], info["assignment"],
                                                info["student"])
            line = describe(sub.timestamp, sub.duedate, sub.extension,
                            nbsub.late_submission_penalty, load(Path.cwd()).timezone)
        nb.cells.insert(0, new_markdown_cell(f"**제출 기한 (deadline)**: {line}"))
        return nb, resources
