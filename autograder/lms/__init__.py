"""LMS downloads in, grades back out (``./course grade --lms``, ``./course lms-export``).

One module per LMS (``moodle``, ``canvas``, ``blackboard``, and ``course`` for the course's own
``<student>_<lesson>`` names and the plain roster CSV), each a :class:`~.base.LmsFormat`
registered in :data:`FORMATS`; a new LMS is one more module and one more entry there.

:func:`import_download` reads a download (a zip or its unpacked folder; several LMSs' files may
sit side by side), maps every file to a course student through the roster, and lays it out as
``submitted/<student>/<lesson>/<lesson>.ipynb`` with the submission time the download or roster
states in the course's record (:mod:`autograder.pipeline.received`) and nbgrader's ``timestamp.txt``. It
never merges and never loses: a collision, a file it cannot place, or an id missing from the
roster stops it with the whole list before anything is written, unless the instructor accepts (``accept=True``), which skips exactly the
listed files. Importing the same download again changes nothing.

Nothing the student typed decides: the owner and time come from the prefix the LMS writes (the
earliest one, :func:`_entry`) and Blackboard's receipt; a file without a time stops the import
while a late policy applies; ids, zip entries and symlinks that could leave ``submitted/`` are
refused (:func:`autograder.paths.confined_path`, :func:`unsafe_entry`), and the download is bounded
(:func:`import_limits`) and read one notebook at a time.

:func:`export_grades` writes the LMS's own grade import file from the roster export it came
from (Moodle grading worksheet, Canvas gradebook CSV, Blackboard Grade Center download).
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from dlcourse.status import Status
from dlcourse.submission import MAX_FILE_BYTES
from dlcourse.validate import find_release

from ..paths import STUDENT_ID, check_id, confined_path, course_folder
from ..pipeline import deadlines, received
from .base import Entry, Grade, LmsFormat, Person, read_table, same_name
from .blackboard import Blackboard
from .canvas import Canvas
from .course import CourseNames
from .moodle import Moodle

#: Formats in the order a file name is tried: the most specific names first.
FORMATS: dict[str, LmsFormat] = {f.name: f for f in (Moodle(), Blackboard(), Canvas(),
                                                      CourseNames())}
#: Files operating systems add to folders and zips; never a submission.
#: Defaults of :func:`import_limits`: 2000 files and 4 GiB uncompressed in one download.
MAX_IMPORT_FILES = 2000
MAX_IMPORT_BYTES = 4 * 2**30
JUNK = re.compile(r"(^|/)(__MACOSX|\.DS_Store|Thumbs\.db|desktop\.ini|\.ipynb_checkpoints)(/|$)")


class ImportStopped(Exception):
    """The download has files that cannot be placed without a guess; ``problems`` lists them
    all. Nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Placement:
    """One notebook to lay out: ``student``/``lesson``, what the LMS said (``entry``), the
    roster's ``person``, the file's ``source`` path in the download, ``read()`` giving its
    bytes (read when written, one notebook at a time), the aware submission time (or None) and
    how many attempts the LMS had."""

    student: str
    lesson: str
    entry: Entry
    person: Person
    source: str
    read: Callable[[], bytes]
    submitted: datetime | None
    attempts: int = 1
    state: str = ""  # new, replaced or unchanged, once written


def import_limits() -> tuple[int, int]:
    """``(bytes, files)``: the most a download may hold, uncompressed as its zip declares (a
    zip entry is never read past its declared size) and counting the notebooks inside
    submitted zips; ``DLCOURSE_LMS_MAX_BYTES`` and ``DLCOURSE_LMS_MAX_FILES`` set them."""
    return (int(os.environ.get("DLCOURSE_LMS_MAX_BYTES", MAX_IMPORT_BYTES)),
            int(os.environ.get("DLCOURSE_LMS_MAX_FILES", MAX_IMPORT_FILES)))


def unsafe_entry(name: str) -> bool:
    """True for a zip entry or folder path that could leave its folder: absolute, a drive, a
    backslash, or a ``..`` part."""
    parts = name.split("/")
    return name.startswith("/") or "\\" in name or ":" in parts[0] or ".." in parts


def zip_symlink(info: zipfile.ZipInfo) -> bool:
    """Whether a zip entry is a symbolic link (its Unix mode, the high 16 bits of
    ``external_attr``, is S_IFLNK: APPNOTE.TXT 4.4.15 and Info-ZIP's Unix extra attributes)."""
    return stat.S_ISLNK(info.external_attr >> 16)


def _files(download: Path) -> tuple[list[tuple[str, int, Callable[[], bytes]]], list[str]]:
    """``(path relative to the download, size, read())`` of every file of a folder or zip, and
    the entries refused (symlinks, paths leaving the download). Raises ImportStopped when the
    download is over :func:`import_limits` (nothing read)."""
    download = Path(download)
    refused = []
    if download.is_dir():
        files = []
        for p in sorted(download.rglob("*")):
            rel = p.relative_to(download).as_posix()
            if p.is_symlink():
                refused.append(f"{rel}: 심볼릭 링크는 읽지 않습니다 (symlink refused)")
            elif p.is_file():
                files.append((rel, p.stat().st_size, p.read_bytes))
    else:
        zf = zipfile.ZipFile(download)  # BadZipFile for a broken download: nothing to guess
        files = []
        for i in sorted(zf.infolist(), key=lambda i: i.filename):
            if i.is_dir():
                continue
            if unsafe_entry(i.filename):
                refused.append(f"{i.filename}: 다운로드 밖을 가리키는 경로입니다 (unsafe zip entry)")
            elif zip_symlink(i):
                refused.append(f"{i.filename}: 심볼릭 링크는 읽지 않습니다 (symlink refused)")
            else:
                files.append((i.filename, i.file_size, (lambda i=i: zf.read(i))))
    _bound(str(download), [size for _, size, _ in files])
    return files, refused


def _bound(where: str, sizes: list[int], seen: list[int] | None = None) -> None:
    """Raise ImportStopped when ``sizes`` (with those ``seen`` so far) pass the import's
    limits."""
    total = sizes + (seen or [])
    max_bytes, max_files = import_limits()
    if len(total) > max_files or sum(total) > max_bytes:
        raise ImportStopped([f"{where}: LMS 다운로드가 너무 큽니다 (download too large): "
                             f"{len(total)} files, {sum(total)} bytes uncompressed; limit "
                             f"{max_files} files, {max_bytes} bytes (DLCOURSE_LMS_MAX_FILES, "
                             "DLCOURSE_LMS_MAX_BYTES)"])


def _notebooks(path: str, original: str, read: Callable[[], bytes],
               seen: list[int]) -> list[tuple[str, Callable[[], bytes]]]:
    """``(original name, read())`` of a submitted notebook, or of each notebook in a submitted
    zip (only the inner file names are used: no path from a zip reaches the disk). ``seen``:
    the sizes counted so far against :func:`import_limits`, extended with the inner ones."""
    if not original.endswith(".zip"):
        return [(original, read)]
    out = []
    with zipfile.ZipFile(io.BytesIO(read())) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and not JUNK.search(i.filename)
                 and i.filename.endswith(".ipynb")]
    _bound(path, [i.file_size for i in infos], seen)
    seen.extend(i.file_size for i in infos)
    for info in infos:
        if info.file_size > MAX_FILE_BYTES:
            raise ValueError(f"{path}: {info.filename}: 파일이 너무 큽니다 (too large)")
        if zip_symlink(info):  # a path is harmless here: only the file name is used
            raise ValueError(f"{path}: {info.filename}: zip 안의 심볼릭 링크는 읽지 않습니다 "
                             "(symlink in a submitted zip refused)")

        def inner(info=info):
            with zipfile.ZipFile(io.BytesIO(read())) as zf:
                return zf.read(info)
        out.append((Path(info.filename).name, inner))
    return out


def match_lesson(original: str, read: Callable[[], bytes], lessons: list[str]) -> list[str]:
    """The lessons a submitted notebook is: those its file name holds, ignoring case
    (``01_Neuron.ipynb``); when that is not exactly one, the lesson whose test and read-only
    cells it shares (:func:`dlcourse.validate.find_release`, the rule that finds a renamed
    notebook's lesson), if it is one of ``lessons``."""
    named = [lesson for lesson in lessons if lesson.casefold() in original.casefold()]
    if len(named) == 1:
        return named
    try:
        nb = nbformat.reads(read().decode("utf-8-sig"), as_version=4)
    except Exception:  # not a notebook: said as "matches no lesson"
        return named
    found, _ = find_release(nb, Path(original))
    return [found] if found in lessons else named


def detect_roster(header: list[str]) -> LmsFormat:
    """The format whose roster columns the header has. Raises ValueError otherwise."""
    for fmt in FORMATS.values():
        if fmt.roster_columns and all(c in header for c in fmt.roster_columns):
            return fmt
    raise ValueError(f"명단 형식을 알 수 없습니다 (unknown roster columns: {header}); expected "
                     + "; ".join(f"{f.name}: {', '.join(f.roster_columns)}"
                                 for f in FORMATS.values()))


#: An id as Excel shows a long number it has converted (``2024000123`` → ``2.024E+09``): the
#: real id is lost, so such a roster is refused.
EXCEL_NUMBER = re.compile(r"\d+(?:\.\d+)?[eE][+-]?\d+")


def load_roster(path: Path, tz) -> tuple[LmsFormat, dict[str, Person]]:
    """The format and ``{LMS key: Person}`` of a roster export. Raises ValueError for an
    unknown format or encoding, and for ids Excel has turned into numbers (``2.024E+09``)."""
    header, rows = read_table(path)
    fmt = detect_roster(header)
    people = fmt.roster(rows, tz)
    mangled = sorted({v for key, p in people.items() for v in (key, p.student)
                      if EXCEL_NUMBER.fullmatch(v)})
    if mangled:
        raise ValueError(f"{path}: Excel이 숫자로 바꾼 id가 있습니다 (ids changed into numbers by "
                         f"Excel: {', '.join(mangled)}): LMS에서 명단을 다시 받아 Excel로 열지 말고 "
                         "쓰거나, id 열을 '텍스트'로 지정해 저장하세요 (download the roster again; "
                         "format the id column as Text before saving)")
    return fmt, people


def _entry(path: str, tz) -> tuple[LmsFormat | None, Entry | None]:
    """The format whose own prefix of ``path`` ends first, and its entry: an LMS writes its
    prefix before the student's file name, so a name the student typed to look like another
    LMS's (a Canvas ``LATE`` file named like a Blackboard attempt) never decides. The course's
    own names are tried only when no LMS's match."""
    found = [(len(path) - len(e.original), f, e) for f in FORMATS.values()
             if f.name != "course" and (e := f.entry(path, tz))]
    if found:
        _, fmt, entry = min(found, key=lambda t: t[0])
        return fmt, entry
    entry = FORMATS["course"].entry(path, tz)
    return (FORMATS["course"], entry) if entry else (None, None)


def resolve(path: str, entry: Entry, people: dict[str, Person]) -> Entry:
    """The one of ``entry.readings`` (a file name holding its LMS's pattern more than once,
    :class:`~.base.Entry`) whose key is in ``people`` (the roster of that LMS) under the name the
    file name gives; ``entry`` itself when it reads one way only. Raises ValueError listing the
    readings when not exactly one fits (no roster, or names that do not tell)."""
    if not entry.readings:
        return entry
    fits = [e for e in entry.readings if e.key in people and same_name(e.name, people[e.key].name)]
    if len(fits) == 1:
        return fits[0]
    ways = ", ".join(f"{e.lms} id {e.key} ({e.name!r})" for e in entry.readings)
    raise ValueError(f"{path}: 파일 이름을 여러 학생의 것으로 읽을 수 있습니다 (ambiguous file "
                     f"name: {ways}); 명단의 이름으로도 가릴 수 없습니다 (the roster's names do "
                     "not decide)")


def _read(download: Path, lessons: list[str], roster: Path | None, root: Path):
    """Placements, problems and the skipped: ``{(student, lesson or None): [problem]}`` for
    each problem whose student is known (``None``: no lesson matched) (nothing written)."""
    dl = deadlines.load(root)
    tz = dl.timezone
    roster_fmt, people = load_roster(roster, tz) if roster else (None, {})
    found: dict[tuple[str, str, str], list[Placement]] = defaultdict(list)
    files, problems = _files(download)
    skipped: dict[tuple[str, str | None], list[str]] = defaultdict(list)

    def skip(problem: str, person: Person | None, lesson: str | None = None) -> None:
        problems.append(problem)
        if person is not None:
            skipped[(person.student, lesson)].append(problem)

    readers = {path: read for path, _, read in files}
    seen = [size for _, size, _ in files]
    for path, size, read in files:
        if JUNK.search(path) or any(f.is_receipt(path) for f in FORMATS.values()):
            continue
        fmt, entry = _entry(path, tz)
        if entry is None:
            problems.append(f"{path}: 어느 LMS의 파일 이름인지 알 수 없습니다 (unknown file name)")
            continue
        try:  # a name the student typed that holds the LMS's pattern again
            entry = resolve(path, entry, people if roster_fmt is fmt else {})
        except ValueError as err:
            problems.append(str(err))
            continue
        if roster is None:
            person = Person(student=entry.key)
        elif roster_fmt.name in (fmt.name, "course") and entry.key in people:
            person = people[entry.key]
        else:
            person = None
        owner = person if person and STUDENT_ID.match(person.student) \
            and ".." not in person.student else None
        try:
            entry = fmt.named(entry, path, readers)
        except ValueError as err:
            skip(str(err), owner)
            continue
        if not entry.original.endswith((".ipynb", ".zip")):
            skip(f"{path}: 노트북이 아닙니다 (not a notebook)", owner)
            continue
        if size > MAX_FILE_BYTES:
            skip(f"{path}: 파일이 너무 큽니다 (too large)", owner)
            continue
        if roster is None:  # the name the LMS's other files give (a Blackboard receipt)
            person = Person(student=entry.key, name=entry.name)
        if person is None:
            problems.append(f"{path}: {fmt.name} id {entry.key!r} 가 명단에 없습니다 "
                            "(id missing from the roster)")
            continue
        if not STUDENT_ID.match(person.student) or ".." in person.student:
            problems.append(f"{path}: 학생 id {person.student!r} 를 폴더 이름으로 쓸 수 없습니다 "
                            "(unsafe student id)")
            continue
        try:
            notebooks = _notebooks(path, entry.original, read, seen)
        except (zipfile.BadZipFile, ValueError) as err:
            skip(str(err) if isinstance(err, ValueError) else
                 f"{path}: 깨진 zip 파일입니다 (bad zip)", owner)
            continue
        if not notebooks:
            skip(f"{path}: zip 안에 노트북이 없습니다 (no notebook in zip)", owner)
        for original, read_nb in notebooks:
            matched = match_lesson(original, read_nb, lessons)
            if len(matched) != 1:
                skip(f"{path}: {original!r} 는 어느 과제인지 알 수 없습니다 "
                     f"(matches no lesson: {matched or lessons})", owner)
                continue
            when = entry.submitted or person.submitted
            # Canvas's own record of an unmarked file is "on time"; any other file without a
            # time cannot be judged, and is never on time by default
            if when is None and matched[0] in dl.due and dl.policy.method != "none" \
                    and (entry.late or fmt.name != "canvas"):
                marked = f"{fmt.name} 가 지각 (LATE) 으로 표시했지만 " if entry.late else ""
                skip(f"{path}: {marked}제출 시간을 알 수 없습니다 (submission time "
                     "unknown, late policy applies)", owner, matched[0])
                continue
            found[(fmt.name, entry.key, matched[0])].append(
                Placement(person.student, matched[0], entry, person, path, read_nb, when))

    placements: list[Placement] = []
    for (lms, key, lesson), group in sorted(found.items()):
        times = [p.submitted for p in group]
        if len(group) > 1 and lms == "blackboard" and len(set(times)) == len(times):
            latest = max(group, key=lambda p: p.submitted)
            latest.attempts = len(group)
            placements.append(latest)
        elif len(group) > 1:
            skip(f"{lms} {key} / {lesson}: 제출 파일이 여러 개입니다 (collision): "
                 + ", ".join(p.source for p in group), group[0].person, lesson)
        else:
            placements.append(group[0])
    owners: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for p in placements:
        owners[(p.student, p.lesson)].add((p.entry.lms, p.entry.key))
    for (student, lesson), keys in sorted(owners.items()):
        if len(keys) > 1:
            skip(f"{student}/{lesson}: 서로 다른 LMS id가 한 학생이 됩니다 (collision): "
                 + ", ".join(f"{lms} {key}" for lms, key in sorted(keys)), Person(student), lesson)
    clashing = {k for k, keys in owners.items() if len(keys) > 1}
    placements = [p for p in placements if (p.student, p.lesson) not in clashing]
    return placements, problems, skipped


def import_download(download: Path, root: Path, lessons: list[str], roster: Path | None = None,
                    accept: bool = False) -> tuple[list[Placement], list[str]]:
    """Lay out an LMS download in ``root/submitted`` (see the module's docstring).

    ``download``: a zip or folder; ``roster``: the LMS's roster export or a roster CSV (None:
    the LMS key is the student id); ``accept``: skip the problem files instead of stopping.
    Returns the placements (``state`` new / replaced / unchanged) and notes for the instructor.
    Raises ImportStopped with every problem (nothing written) unless ``accept``."""
    placements, problems, skipped = _read(Path(download), lessons, roster, Path(root))
    if problems and not accept:
        raise ImportStopped(problems)
    notes = [f"건너뜀 (skipped, accepted): {p}" for p in problems]
    placed = {(p.student, p.lesson) for p in placements}
    for (student, lesson), why in sorted(skipped.items(), key=str):
        for each in [lesson] if lesson else lessons:
            if (student, each) not in placed:
                path = refusal_record(root, student, each)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("; ".join(why), encoding="utf-8")
    for student, lesson in placed:
        refusal_record(root, student, lesson).unlink(missing_ok=True)
    for p in placements:
        folder = confined_path(Path(root) / "submitted", p.student, p.lesson)
        nb, stamp = folder / f"{p.lesson}.ipynb", folder / "timestamp.txt"
        want_stamp = received.timestamp_text(p.submitted) if p.submitted else None
        have_stamp = stamp.read_text(encoding="utf-8").strip() if stamp.exists() else None
        had = received.read(root, p.student, p.lesson)
        want = p.submitted.astimezone(UTC) if p.submitted else None
        # Canvas's own record of a file not marked LATE is "on time" (no time); any other
        # file without a time has none (placed only where no late policy applies)
        known = want is not None or (p.entry.lms == "canvas" and not p.entry.late)
        data = p.read()
        if (nb.exists() and nb.read_bytes() == data and have_stamp == want_stamp
                and (had is not None) == known and (had is None or had.when == want)):
            p.state = "unchanged"
            continue
        p.state = "replaced" if nb.exists() else "new"
        folder.mkdir(parents=True, exist_ok=True)
        nb.write_bytes(data)
        if known:  # the course's record, and nbgrader's timestamp.txt written from it
            received.record(root, p.student, p.lesson, p.submitted, f"{p.entry.lms}: {p.source}")
        else:
            stamp.unlink(missing_ok=True)
            received.record_path(root, p.student, p.lesson).unlink(missing_ok=True)
    for p in placements:
        if p.entry.note:
            notes.append(p.entry.note)
        if p.attempts > 1:
            notes.append(f"{p.student}/{p.lesson}: 제출 {p.attempts}회 중 마지막 사용 "
                         f"(latest of {p.attempts} attempts): {p.source}")
    counts = {s: sum(p.state == s for p in placements) for s in ("new", "replaced", "unchanged")}
    notes.append("LMS import: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    return placements, notes


def refusal_record(root: Path, student: str, lesson: str) -> Path:
    """The course's record of a file of ``student`` for ``lesson`` that ``--accept`` skipped:
    ``<root>/.dlcourse/refused/<student>/<lesson>.txt`` holds the problems; removed when a later
    import places a file. Raises :class:`autograder.paths.UnsafePath` for an unsafe id."""
    return Path(root) / ".dlcourse" / "refused" / check_id(student) / f"{check_id(lesson)}.txt"


def refusals(root: Path, lessons: list[str]) -> dict[tuple[str, str], str]:
    """``{(student, lesson): why}`` of :func:`refusal_record` for ``lessons`` where
    ``submitted/<student>/<lesson>/`` does not exist (nothing of the student's to grade)."""
    base = Path(root) / ".dlcourse" / "refused"
    out = {}
    for lesson in lessons:
        for path in sorted(base.glob(f"*/{lesson}.txt")):
            student = path.parent.name
            if not course_folder(root, student, lesson).is_dir():
                out[(student, lesson)] = path.read_text(encoding="utf-8")
    return out


def register_students(db_url: str, placements: list[Placement]) -> None:
    """Record each placed student's name and email from the LMS in nbgrader's gradebook."""
    with Gradebook(db_url) as gb:
        for p in placements:
            gb.update_or_create_student(p.student, first_name=p.person.name or None,
                                        email=p.person.email or None)


def comment(cells: list[dict], total: dict) -> str:
    """The feedback comment sent to the LMS: total, deadline line, and every check not passed
    with its message (rows of ``autograder.pipeline.export.rows``); a written answer no person
    has graded yet shows ``-`` for its score."""
    parts = [f"{total['score']:g}/{total['max_score']:g}점 (score)"]
    if total.get("late"):
        parts.append(total["late"])
    for c in cells:
        if (c["score"] or 0) < c["max_score"]:
            score = "-" if c["score"] is None else f"{c['score']:g}"
            parts.append(f"{c['cell']} {score}/{c['max_score']:g} {c['status']}"
                         + (f": {c['message']}" if c["message"] else ""))
    return "; ".join(parts)


def export_grades(root: Path, db_url: str, lesson: str, roster: Path, dest: Path,
                  column: str | None = None) -> list[str]:
    """Write ``dest``, the grade import file of the LMS whose roster export ``roster`` is, with
    every graded student's total for ``lesson`` (late penalty taken off) and comment.
    Returns notes: roster rows left blank, graded students the roster lacks, exported totals
    that still lack a written answer no person has graded (export again after formgrader).
    Raises ValueError for a roster that is not an LMS export or a missing grade column."""
    from ..pipeline.export import rows, waiting_message

    header, table = read_table(roster)
    fmt = detect_roster(header)
    people = fmt.roster(table, deadlines.load(root).timezone)
    with Gradebook(db_url) as gb:
        data = rows(gb, Path(root), assignments=[lesson])
    totals = {r["student"]: r for r in data if r["cell"] == "(total)" and r["status"] != Status.MISSING}
    grades = {}
    for key, person in people.items():
        total = totals.get(person.student)
        if total is not None:
            cells = [r for r in data if r["student"] == person.student and r["cell"] != "(total)"]
            grades[key] = Grade(total["score"], total["max_score"], comment(cells, total))
    notes = fmt.write_grades(header, table, lesson, grades, Path(dest), column)
    known = {p.student for p in people.values()}
    notes += [f"{s}: 명단에 없어 내보내지 않음 (graded, not in the roster)"
              for s in sorted(set(totals) - known)]
    waiting = Counter(r["student"] for r in data
                      if r["status"] == Status.NEEDS_MANUAL and r["student"] in known)
    notes += [f"{s}: {waiting_message(n)}: 내보낸 점수에 빠져 있음 (not in the exported score)"
              for s, n in sorted(waiting.items())]
    return notes
