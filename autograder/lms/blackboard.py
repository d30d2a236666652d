"""Blackboard Learn (Original course view).

Download (Grade Center → column menu → "Assignment File Download"): every attempt's files are
named ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<original name>`` beside a
receipt ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>.txt`` ("Name: <full name>
(<username>)", "Date Submitted: …", and under "Files:" each "Original filename:" with its
"Filename:"); a student with several attempts has several stamps. The username is the key
(usernames hold no "_"; assignment names may). The submission time, in the server's time zone
(the course's ``timezone``), is the receipt's "Date Submitted" (:func:`receipt_time`) when the
download has the receipt, else the attempt stamp; where both are there and differ, the
receipt's is used and the instructor told.

The student chooses the original name, which may itself look like an attempt name
(``HW1_leesj_attempt_<stamp>_HW1_kimhn_attempt_<later>_01_neuron.ipynb``): the first
``_<username>_attempt_<stamp>_`` is the one Blackboard wrote, so names are read from the left,
and a ``.txt`` whose name is an attempt file with an original name is a student's file, not a
receipt. Where the attempt's receipt is in the download it decides: its "Name: … (<username>)"
must be the file's username and its "Filename:" lines must list the file, or the import stops
(:meth:`Blackboard.named` raises ValueError). Sources: the instructions of BBGradebookOrganiser
(repos.vangef.net/vangef/BBGradebookOrganiser, docs/instructions.md) and Blackboard's help.

Roster and grades back: the Grade Center download ("Work Offline → Download": "Last Name",
"First Name", "Username", "Student ID", …, one column per item named ``<name> [Total Pts: <n>
Score] |<column id>``; comma-separated CSV or UTF-16 tab-separated ``.xls``), uploaded through
"Work Offline → Upload". Blackboard Help, "Uploading or Downloading Grade Center Items for
Working Offline" (library.blackboard.com): the username identifies the student, the column id
the column ("Columns that do not have Column ID numbers ... will create new columns", as text
columns with 0 points), a header row is required, and each field of a comma-delimited file
is quoted. A column downloaded with its comments is followed by "Grading Notes", "Notes
Format", "Feedback to Learner" and "Feedback Format"; the feedback goes there.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path

from ..csvfile import write_csv
from .base import Entry, LmsFormat, Person, points

STAMP = r"(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})"
NAME = re.compile(rf"^(?P<assignment>[^/]+?)_(?P<key>[^_/]+)_attempt_{STAMP}_(?P<original>[^/]+)$")
RECEIPT = re.compile(rf"^(?P<assignment>[^/]+?)_(?P<key>[^_/]+)_attempt_{STAMP}\.txt$")
USER_COLUMNS = ["Last Name", "First Name", "Username", "Student ID"]
FEEDBACK_COLUMNS = ["Feedback to Learner", "Feedback Format"]


def receipt_user(text: str) -> tuple[str, str]:
    """``(full name, username)`` of a receipt's "Name: Jane Doe (jdoe)" line; ``("", "")``
    when it has none."""
    m = re.search(r"^Name:\s*(.*?)\s*\(([^()]*)\)\s*$", text, re.M)
    return (m.group(1), m.group(2).strip()) if m else ("", "")


#: "Date Submitted:" as Blackboard writes it: Java's full date-time style of the server's
#: locale (en_GB "Monday, 4 March 2024 10:00:00 o'clock KST", en_US "Monday, March 4, 2024
#: 10:00:00 AM KST"), then the server's zone abbreviation.
DATE_SUBMITTED = re.compile(r"^Date Submitted:\s*(.*?)\s*$", re.M)
DATE_FORMATS = ("%A, %d %B %Y %H:%M:%S", "%A, %B %d, %Y %I:%M:%S %p")


def receipt_time(text: str, tz) -> datetime | None:
    """The aware time of a receipt's "Date Submitted:" line in the course's time zone ``tz``
    (None when the receipt has no such line). Raises ValueError for a value without a
    readable date and time of day, or a zone abbreviation that is not ``tz``'s at that time."""
    m = DATE_SUBMITTED.search(text)
    if not m:
        return None
    value = m.group(1).replace(" o'clock", "")
    candidates = [(value, "")]  # without a zone, or with the last word as the zone
    if " " in value:
        candidates.append(tuple(value.rsplit(" ", 1)))
    for stamp, zone in candidates:
        for fmt in DATE_FORMATS:
            try:
                when = datetime.strptime(stamp, fmt).replace(tzinfo=tz)
            except ValueError:
                continue
            if zone and zone != when.tzname():
                raise ValueError(f"Date Submitted {m.group(1)!r}: 시간대 {zone} 가 과목의 시간대 "
                                 f"{tz} ({when.tzname()}) 와 다릅니다 (receipt's time zone is not "
                                 "the course's: set timezone in deadlines.toml to the "
                                 "Blackboard server's)")
            return when
    raise ValueError(f"Date Submitted {m.group(1)!r}: 날짜와 시각을 읽을 수 없습니다 (unreadable "
                     "receipt time)")


def receipt_files(text: str) -> set[str]:
    """The names Blackboard gave the attempt's files (its "Filename:" lines)."""
    return {m.group(1).strip() for m in re.finditer(r"^\s*Filename:\s*(.+?)\s*$", text, re.M)}


class Blackboard(LmsFormat):
    name = "blackboard"
    roster_columns = ("Username", "Last Name", "First Name")

    def entry(self, path, tz):
        m = NAME.match(path)
        if not m:
            return None
        when = datetime.strptime(m["stamp"], "%Y-%m-%d-%H-%M-%S").replace(tzinfo=tz)
        return Entry(self.name, m["key"], "", m["original"], submitted=when)

    def named(self, entry, path, files):
        """The full name from the attempt's receipt, when the download has it. Raises
        ValueError when the receipt names another username or does not list the file."""
        m = NAME.match(path)
        receipt = f"{m['assignment']}_{m['key']}_attempt_{m['stamp']}.txt"
        if receipt not in files:
            return entry
        text = files[receipt]().decode("utf-8", "replace")
        full, user = receipt_user(text)
        listed = receipt_files(text)
        if user != entry.key or path.rsplit("/", 1)[-1] not in listed:
            raise ValueError(f"{path}: Blackboard 영수증 {receipt!r} 과 맞지 않습니다 (receipt "
                             f"disagrees: user {user!r}, files {sorted(listed)})")
        try:
            when = receipt_time(text, entry.submitted.tzinfo)
        except ValueError as err:
            raise ValueError(f"{path}: Blackboard 영수증 {receipt!r}: {err}") from None
        if when is None:
            return dataclasses.replace(entry, name=full)
        note = "" if when == entry.submitted else (
            f"{path}: 파일 이름의 시간 {entry.submitted:%Y-%m-%d %H:%M:%S} 대신 영수증의 제출 시간 "
            f"{when:%Y-%m-%d %H:%M:%S %Z} 을 씁니다 (file name time disagrees with the "
            "receipt's Date Submitted; the receipt's is used)")
        return dataclasses.replace(entry, name=full, submitted=when, note=note)

    def is_receipt(self, path):
        return RECEIPT.match(path) is not None and NAME.match(path) is None

    def roster(self, rows, tz):
        out = {}
        for row in rows:
            key = (row.get("Username") or "").strip()
            if key:
                name = " ".join(p for p in (row.get("First Name", ""), row.get("Last Name", "")) if p)
                out[key] = Person(student=(row.get("Student ID") or "").strip() or key, name=name)
        return out

    def write_grades(self, header, rows, lesson, grades, dest: Path, column):
        """The user columns, the lesson's Grade Center column (``column``: a text its header
        contains; else the header holding the lesson id) and, when the download has them,
        "Feedback to Learner" / "Feedback Format" (PLAIN_TEXT). Raises ValueError when no
        column (with its ``|<id>``) matches: an upload without the id makes a text column."""
        wanted = column or lesson
        found = [c for c in header if wanted in c and "|" in c]
        if len(found) != 1:
            raise ValueError(f"Blackboard 성적 열을 찾을 수 없습니다 (grade column {wanted!r}: "
                             f"{len(found)} matches among {header})")
        extra = [c for c in FEEDBACK_COLUMNS if c in header]
        out, notes = [], []
        for row in rows:
            new = {c: row.get(c, "") for c in USER_COLUMNS}
            grade = grades.get((row.get("Username") or "").strip())
            if grade is None:
                notes.append(f"{row.get('Username')}: 채점 결과 없음, 비워 둠 (no grade, left blank)")
                new[found[0]] = row.get(found[0], "")
            else:
                new[found[0]] = points(grade.score)
                if extra:
                    new.update({"Feedback to Learner": grade.comment, "Feedback Format": "PLAIN_TEXT"})
            out.append(new)
        write_csv(dest, USER_COLUMNS + found + extra, out, quote_all=True)
        return notes
