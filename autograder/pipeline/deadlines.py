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
            # days are added on the course's wall clock: 23:59 stays 23:59 across a change
            # of daylight saving time (the number of real hours is then 24 ± 1 per day)
            extended[(student, lesson)] = (due[lesson].astimezone(tz) + timedelta(days=v)
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


def wall_seconds_late(timestamp: datetime, due: datetime, tz: ZoneInfo) -> float:
    """Seconds from ``due`` (with the extension) to ``timestamp`` on the course's wall clock in
    ``tz``, the clock the due date is given on: across the end of daylight saving time 23:59 to
    23:29 the next day is 23.5 h (24.5 h really elapsed). Arguments are nbgrader's naive UTC
    values."""
    def wall(t: datetime) -> datetime:
        return t.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)

    return (wall(timestamp) - wall(due)).total_seconds()


def days_late(timestamp: datetime, due: datetime, tz: ZoneInfo) -> int:
    """Days late, each started 24 wall-clock hours in ``tz`` after the due date counted once
    (0: on time, as nbgrader's ``total_seconds_late``; at least 1 when nbgrader finds it late,
    even in the repeated hour of the end of daylight saving time)."""
    if timestamp <= due:
        return 0
    return max(1, math.ceil(wall_seconds_late(timestamp, due, tz) / DAY))


def penalty(policy: Policy, days: int, score: float, max_score: float) -> float | None:
    """Points taken off a notebook ``days`` days late (:func:`days_late`; None: no penalty).
    ``per_day``: ``min(cap, per_day × days) × max_score``, rounded to 0.01; ``zero``: the whole
    score. nbgrader then keeps the penalty within 0..score."""
    if days <= 0 or policy.method == "none":
        return None
    if policy.method == "zero":
        return score
    share = min(policy.cap, policy.per_day * days)
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
            # real elapsed time (aware datetimes of one zone subtract on the wall clock)
            extension = utc_naive(new_due) - utc_naive(dl.due[lesson]) if new_due else None
            gb.update_or_create_submission(lesson, student, extension=extension)
            if extension:
                notes.append(f"{student}/{lesson}: 마감 연장 (extension) → "
                             f"{new_due.astimezone(dl.timezone):%Y-%m-%d %H:%M}")
    return notes


class LatePolicy(LateSubmissionPlugin):
    """nbgrader's late-submission plugin for the course: the policy of ``deadlines.toml`` in the
    directory nbgrader runs in (the course root). Configured in autograder/pipeline/nbgrader_config.py as
    ``AssignLatePenalties.plugin_class``."""

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float) -> float | None:
        dl = load(Path.cwd())
        parent = self.parent  # the AssignLatePenalties preprocessor, inside its gradebook
        gb = parent.gradebook
        max_score = gb.find_notebook(parent.notebook_id, parent.assignment_id).max_score
        sub = gb.find_submission(parent.assignment_id, student_id)
        days = days_late(sub.timestamp, sub.duedate, dl.timezone) if total_seconds_late > 0 else 0
        points = penalty(dl.policy, days, score, max_score)
        self.log.info("late %s s (%s days on the course's clock), policy %s: penalty %s",
                      total_seconds_late, days, dl.policy, points)
        return points


def describe(timestamp: datetime | None, due: datetime | None, extension: timedelta | None,
             penalty_points: float | None, tz: ZoneInfo) -> str:
    """One Korean line (English key phrases) about a submission's time: submitted, due,
    extension and how late (both on the wall clock in ``tz``) and the penalty. Arguments are
    nbgrader's naive UTC values; ``due`` includes the extension."""
    def local(t: datetime) -> str:
        return t.replace(tzinfo=UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    parts = []
    if timestamp:
        parts.append(f"제출 (submitted) {local(timestamp)}")
    if due:
        parts.append(f"마감 (due) {local(due)}")
    if extension:
        days = wall_seconds_late(due, due - extension, tz) / DAY  # on the wall clock
        parts.append(f"연장 (extension) +{days:g}일")
    if timestamp and due and timestamp > due:
        hours = wall_seconds_late(timestamp, due, tz) / 3600
        parts.append(f"지각 (late) {hours:.1f}시간, 감점 (penalty) -{penalty_points or 0:g}점")
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
