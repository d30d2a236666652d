"""Canvas (Instructure).

Download ("Download Submissions" on the assignment page; Canvas Instructor Guide "How do I
download all student submissions for an assignment?"): one zip whose files are named
``<name>_<user id>_<submission id>_<original name>``, and ``<name>_LATE_<user id>_<submission
id>_<original name>`` for a submission Canvas marks late. ``<name>`` is the sortable name
lowercased without spaces ("doejane"), so the Canvas user id is the key. The names carry no
submission time: a LATE file can only be penalised through a time from elsewhere.

Roster and grades back: the Gradebook export (Gradebook → Export; Instructor Guide "How do I
import grades in the Gradebook?"): columns "Student", "ID" (user id), "SIS User ID", "SIS Login
ID", "Section", then one column per assignment named ``<assignment name> (<assignment id>)``;
the row whose "Student" is "Points Possible" gives each column's points. The import matches
students by "ID" and needs the first five columns; a column without an assignment id creates a
new assignment. The gradebook CSV has no comment column.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..csvfile import write_csv
from .base import Entry, LmsFormat, Person, points

NAME = re.compile(r"^(?P<name>[^_/]+)_(?:(?P<late>LATE)_)?(?P<key>\d+)_(?P<sub>\d+)_(?P<original>[^/]+)$")
KEY_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


class Canvas(LmsFormat):
    name = "canvas"
    roster_columns = ("Student", "ID", "SIS User ID")

    def entry(self, path, tz):
        m = NAME.match(path)
        if not m:
            return None
        return Entry(self.name, m["key"], m["name"], m["original"], late=bool(m["late"]))

    def roster(self, rows, tz):
        out = {}
        for row in rows:
            key = (row.get("ID") or "").strip()
            if not key.isdigit():  # "Points Possible" and other non-student rows
                continue
            login = row.get("SIS Login ID", "")
            out[key] = Person(student=(row.get("SIS User ID") or "").strip() or key,
                              name=row.get("Student", ""), email=login if "@" in login else "")
        return out

    def write_grades(self, header, rows, lesson, grades, dest: Path, column):
        """The five student columns and the lesson's column (``column``, else the one whose
        name holds the lesson id, else a new column named after the lesson, which Canvas
        imports as a new assignment); "Points Possible" row kept."""
        column = column or next((c for c in header if lesson in c), lesson)
        max_score = max((g.max_score for g in grades.values()), default=0.0)
        out, notes = [], []
        for row in rows:
            new = {c: row.get(c, "") for c in KEY_COLUMNS}
            key = (row.get("ID") or "").strip()
            if not key.isdigit():
                if (row.get("Student") or "").strip() == "Points Possible":
                    new[column] = row.get(column) or points(max_score)
                    out.append(new)
                continue
            grade = grades.get(key)
            if grade is None:
                notes.append(f"{row.get('Student')} ({key}): 채점 결과 없음, 비워 둠 "
                             "(no grade, left blank)")
                new[column] = row.get(column, "")
            else:
                new[column] = points(grade.score)
            out.append(new)
        write_csv(dest, KEY_COLUMNS + [column], out)
        return notes
