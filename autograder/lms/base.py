"""What every LMS format shares: the records a download and a roster are read into, the
format interface and the CSV reader (every file written goes through
:func:`autograder.csvfile.write_csv`: UTF-8 with a byte-order mark, the encoding Excel and the
LMSs' importers recognise, no cell a spreadsheet runs as a formula)."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Entry:
    """One submitted file as an LMS named it.

    ``lms``: the format's name; ``key``: the LMS's id of the student (Moodle participant id,
    Canvas user id, Blackboard username, the course's own id); ``name``: the name the LMS put
    in the file name ('' when none); ``original``: the student's file name; ``submitted``: the
    aware submission time the download states (None when it states none); ``late``: the LMS
    marked the file late; ``note``: what the instructor is told about the entry ('' none);
    ``readings``: every way the file name can be read when the LMS's own pattern appears in it
    more than once (a name the student typed can hold it: ``Kim_12345_assignsubmission_file_``),
    this entry among them; the roster decides between them (:func:`autograder.lms.resolve`),
    or the import stops. Empty when the name reads one way only."""

    lms: str
    key: str
    name: str
    original: str
    submitted: datetime | None = None
    late: bool = False
    note: str = ""
    readings: tuple[Entry, ...] = ()


def read_ways(readings: list[Entry]) -> Entry | None:
    """The entry of a file name read in each of ``readings`` ways (left to right; two that
    give the same key and original name are one): None for none, the one, or the leftmost
    carrying them all as ``readings``."""
    ways = list({(e.key, e.original): e for e in reversed(readings)}.values())[::-1]
    if not ways:
        return None
    return ways[0] if len(ways) == 1 else dataclasses.replace(ways[0], readings=tuple(ways))


def same_name(typed: str, roster: str) -> bool:
    """Whether the name an LMS put in a file name is the roster's name: letters and digits
    compared without case (Moodle writes "_" as a space, Canvas drops spaces and commas)."""
    def letters(text: str) -> str:
        return "".join(c for c in text.casefold() if c.isalnum())

    return bool(letters(typed)) and letters(typed) == letters(roster)


@dataclass(frozen=True)
class Person:
    """A roster row: the course ``student`` id, the ``name`` and ``email`` the LMS shows, and
    the submission time the roster states (Moodle's "Last modified (submission)")."""

    student: str
    name: str = ""
    email: str = ""
    submitted: datetime | None = None


@dataclass(frozen=True)
class Grade:
    """What goes back to the LMS for one student: total after the late penalty, the lesson's
    maximum, and a feedback comment."""

    score: float
    max_score: float
    comment: str


class LmsFormat:
    """One LMS: read its download's file names and its roster, write its grade import file.
    Subclasses set ``name`` and override what their LMS has; register them in
    ``autograder.lms.FORMATS``."""

    name: ClassVar[str] = ""
    #: Roster columns whose presence identifies this LMS's own export.
    roster_columns: ClassVar[tuple[str, ...]] = ()

    def entry(self, path: str, tz: ZoneInfo) -> Entry | None:
        """The entry for the file at ``path`` (relative, ``/``-separated) in a download, or None
        when the name is not this LMS's."""
        raise NotImplementedError

    def is_receipt(self, path: str) -> bool:
        """True for the LMS's own non-submission files in a download (Blackboard receipts)."""
        return False

    def named(self, entry: Entry, path: str, files: dict) -> Entry:
        """``entry`` completed from the LMS's other files in the download (``files``: path →
        read()); by default as it is."""
        return entry

    def roster(self, rows: list[dict[str, str]], tz: ZoneInfo) -> dict[str, Person]:
        """``{LMS key: Person}`` from the rows of this LMS's roster export."""
        raise NotImplementedError

    def write_grades(self, header: list[str], rows: list[dict[str, str]], lesson: str,
                     grades: dict[str, Grade], dest: Path, column: str | None) -> list[str]:
        """Write the LMS's grade import file to ``dest`` from its roster export (``header``,
        ``rows``) and ``grades`` keyed by LMS key. Returns notes (students left blank)."""
        raise NotImplementedError(f"{self.name}: 성적 내보내기를 지원하지 않습니다 "
                                  "(no grade import file for this LMS)")


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV export: UTF-8 (with or without BOM) comma-separated, Excel's
    "CSV" of Korean Windows (cp949), or UTF-16 with BOM tab-separated (Blackboard's ``.xls``
    download, Excel's "Unicode text"). Raises ValueError naming the file and what to do for
    any other encoding."""
    raw = Path(path).read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text, delimiter = raw.decode("utf-16"), "\t"
    else:
        for encoding in ("utf-8-sig", "cp949"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValueError(f"{path}: 인코딩을 읽을 수 없습니다 (unknown encoding: not UTF-8, "
                             "cp949 or UTF-16): Excel에서 '다른 이름으로 저장' → 'CSV UTF-8 "
                             "(쉼표로 분리)' (save as CSV UTF-8)")
        delimiter = "\t" if "\t" in text.splitlines()[0] and "," not in text.splitlines()[0] \
            else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [dict(r) for r in reader]
    return list(reader.fieldnames or []), rows


def points(value: float) -> str:
    """A score as the LMSs print it: two decimals (``8.50``)."""
    return f"{value:.2f}"
