"""The course's own naming (``<student id>_<anything with the lesson id>``, what ``./course
grade --lms`` took before the LMS formats) and the plain roster CSV.

Roster CSV: columns ``lms_id`` (the key an LMS download gives: participant id, user id,
username, or the course id itself), ``student`` (the course's student id), optional ``name``
and ``email``; it maps the keys of any format.
"""

from __future__ import annotations

import re

from .base import Entry, LmsFormat, Person

NAME = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9.]*)_(?P<original>[^/]+)$")


class CourseNames(LmsFormat):
    name = "course"
    roster_columns = ("lms_id", "student")

    def entry(self, path, tz):
        m = NAME.match(path)
        return Entry(self.name, m["key"], "", m["original"]) if m else None

    def roster(self, rows, tz):
        return {r["lms_id"].strip(): Person(student=r["student"].strip(), name=r.get("name", ""),
                                            email=r.get("email", ""))
                for r in rows if (r.get("lms_id") or "").strip()}
