"""Moodle's assignment module (Korean universities' LMSs are mostly Moodle-based).

Download ("Download all submissions"): each file is renamed
``<Full name>_<participant id>_assignsubmission_file_<original name>``; with "Download
submissions in folders" each submission is a folder ``<Full name>_<participant id>_
assignsubmission_file_`` holding the files under their own names (Moodle's language string
``downloadasfolders_help``: "Each submission is then put in a separate folder, with the folder
structure kept for any subfolders, and files are not renamed"; mod/assign/locallib.php
``download_submissions``). The full name is any Unicode text; the participant id (digits) is
the key: names repeat, participant ids do not.

Moodle writes the prefix after the full name, which the student may have typed
(``download_submissions``: ``str_replace('_', ' ', fullname($student))``, then
``clean_filename``), so a folder's participant id is the last number before its closing
``_assignsubmission_<plugin>_``, read from the right. A flat file's name has text the student
chose on both sides (the full name, the original file name): where the pattern appears more than
once, every reading is kept (``Entry.readings``) and the roster's full names decide, or the
import stops.

Roster and grades back: the offline grading worksheet (Grading action "Download grading
worksheet", assignfeedback_offline). Its importer (mod/assign/feedback/offline/
importgradeslib.php) finds the columns "Identifier" (``Participant <id>``: it strips the
prefix and keeps the number), "Grade" and "Last modified (grade)" and refuses a file missing
any of them; the feedback comments plugin adds "Feedback comments". The worksheet also has
"Full name", the identity fields ("Email address", "ID number") and "Last modified
(submission)", the submission time used for late penalties.
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser

from ..csvfile import write_csv
from .base import Entry, LmsFormat, Person, points, read_ways

#: A folder of "Download submissions in folders": the last prefix ends the name.
FOLDER = re.compile(r"^(?P<name>.+)_(?P<key>\d+)_assignsubmission_(?P<plugin>[a-z]+)_$")
#: Moodle's prefix inside a flat file name, wherever it appears (overlapping ones too).
PREFIX = re.compile(r"(?=(?P<prefix>_(?P<key>\d+)_assignsubmission_[a-z]+_))")
PARTICIPANT = re.compile(r"(\d+)\s*$")


def parse_time(text: str, tz: ZoneInfo):
    """Moodle's ``strftimedatetime`` ("Monday, 4 March 2024, 10:00 AM", the grader's time zone)
    → aware datetime; "-" or empty → None. Raises ValueError on anything else."""
    text = (text or "").strip()
    if text in ("", "-"):
        return None
    when = dateparser.parse(text)
    return when if when.tzinfo else when.replace(tzinfo=tz)


class Moodle(LmsFormat):
    name = "moodle"
    roster_columns = ("Identifier", "Full name")

    def entry(self, path: str, tz: ZoneInfo) -> Entry | None:
        parts = path.split("/")
        if len(parts) > 1:  # "in folders": the files keep their names
            m = FOLDER.match(parts[0])
            return Entry(self.name, m["key"], m["name"], parts[-1]) if m else None
        readings = [Entry(self.name, m["key"], path[:m.start()], path[m.end("prefix"):])
                    for m in PREFIX.finditer(path) if m.start() > 0 and m.end("prefix") < len(path)]
        return read_ways(readings)

    def roster(self, rows, tz):
        out = {}
        for row in rows:
            m = PARTICIPANT.search(row.get("Identifier") or "")
            if not m:
                continue
            key = m.group(1)
            out[key] = Person(student=(row.get("ID number") or "").strip() or key,
                              name=row.get("Full name", ""), email=row.get("Email address", ""),
                              submitted=parse_time(row.get("Last modified (submission)", ""), tz))
        return out

    def write_grades(self, header, rows, lesson, grades, dest: Path, column):
        """The worksheet as downloaded with "Grade" and, when the column is there, "Feedback
        comments" filled in for every graded participant; other rows unchanged."""
        missing = [c for c in ("Identifier", "Grade", "Last modified (grade)") if c not in header]
        if missing:
            raise ValueError(f"Moodle 채점 워크시트가 아닙니다 (not a grading worksheet): "
                             f"missing {', '.join(missing)}")
        out, notes = [], []
        for row in rows:
            row = dict(row)
            m = PARTICIPANT.search(row.get("Identifier") or "")
            grade = grades.get(m.group(1)) if m else None
            if grade is None:
                notes.append(f"{row.get('Identifier')}: 채점 결과 없음, 비워 둠 (no grade, left blank)")
            else:
                row["Grade"] = points(grade.score)
                if "Feedback comments" in header:
                    row["Feedback comments"] = grade.comment
            out.append(row)
        write_csv(dest, header, out)
        return notes
