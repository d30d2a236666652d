"""When each submission arrived, as the course knows it: never as the student's upload says.

nbgrader decides lateness from ``submitted/<student>/<lesson>/timestamp.txt``
(``CourseDirectory.get_existing_timestamp``), a file that arrives inside the student's upload:
nbgrader's ``submit`` writes it in the student's own folder, and the exchange's ``inbound``
folder (mode 733) lets a student write, rewrite or rename anything of their own there, folder
names included (nbgrader's ``collect`` also believes the time in the folder name). So the
course keeps its own record, out of the student's reach: ``<root>/.dlcourse/received/<student>/
<lesson>.json`` (:func:`record_path`), written by the course only, from

- nbgrader's exchange (``nbgrader collect`` with the course's configuration, which uses
  :class:`autograder.grade.exchange.CourseCollect`): the inbound submission's inode change time
  (``st_ctime``), the latest over its folder and every file in it (:func:`inbound_time`). The
  kernel sets it on every change (writing, renaming, ``chmod``, ``touch``) and no user can set
  it back (``utime(2)`` sets atime and mtime, and moves ctime to now: POSIX ``futimens``), so a
  student who renames, touches or rewrites a submission after the deadline makes it later,
  never earlier;
- an LMS download: the LMS's own record (:mod:`autograder.lms`: the receipt, the roster, the
  prefix the LMS writes);
- ``./course grade --accept`` for a submission without a record while a late policy applies:
  the moment the course first sees it (:func:`unknown` lists those, and ``./course grade`` stops
  without ``--accept``: such a submission is never on time by default).

Before each grading run :func:`apply` writes the course's time into ``timestamp.txt`` (the file
nbgrader reads) and tells the instructor where the student's own time disagreed; the distributed
coordinator sends :func:`timestamp` to its workers. Where there is no record and no late policy
applies, the time decides nothing and ``timestamp.txt`` is left as nbgrader collected it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.utils import parse_utc

from ..paths import check_id, course_folder
from . import deadlines

#: Seconds by which the student's own time (``timestamp.txt``, an exchange folder's name) may
#: differ from the course's before the instructor is told: nbgrader's ``submit`` takes its time
#: before it copies the files, whose change times follow within the copy.
AGREE_SECONDS = 60.0


@dataclass(frozen=True)
class Received:
    """``when``: aware UTC time the course takes as the submission time (None: on time by the
    LMS's own record, a Canvas file not marked ``LATE``); ``source``: where it comes from, in
    words; ``claimed``: the times the student's upload stated (``timestamp.txt``,
    an exchange folder name), as text, for the instructor."""

    when: datetime | None
    source: str
    claimed: tuple[str, ...] = ()


def record_path(root: Path, student: str, lesson: str) -> Path:
    """``<root>/.dlcourse/received/<student>/<lesson>.json``, outside ``submitted/`` so no upload
    writes it. Raises :class:`autograder.paths.UnsafePath` for an unsafe id."""
    return Path(root) / ".dlcourse" / "received" / check_id(student) / f"{check_id(lesson)}.json"


def timestamp_text(when: datetime) -> str:
    """nbgrader's ``timestamp.txt`` (its ``timestamp_format`` in UTC, read by ``parse_utc``)."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def record(root: Path, student: str, lesson: str, when: datetime | None, source: str,
           claimed: tuple[str, ...] = ()) -> Received:
    """Record ``when`` (aware; None: on time by the LMS's record) as the submission time of
    ``student``'s ``lesson``, and write it as ``submitted/<student>/<lesson>/timestamp.txt``
    (None: no such file) when that folder exists."""
    rec = Received(when and when.astimezone(UTC), source, tuple(claimed))
    path = record_path(root, student, lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"received": rec.when and rec.when.isoformat(), "source": source,
                                "claimed": list(rec.claimed)}, ensure_ascii=False),
                    encoding="utf-8")
    _stamp(root, student, lesson, rec)
    return rec


def _stamp(root: Path, student: str, lesson: str, rec: Received) -> None:
    """``timestamp.txt`` of the submitted folder (when it exists) as ``rec`` states it."""
    folder = course_folder(root, student, lesson)
    if not folder.is_dir():
        return
    if rec.when is None:
        (folder / "timestamp.txt").unlink(missing_ok=True)
    else:
        (folder / "timestamp.txt").write_text(timestamp_text(rec.when) + "\n", encoding="utf-8")


def read(root: Path, student: str, lesson: str) -> Received | None:
    """The course's record, or None when it has none."""
    path = record_path(root, student, lesson)
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    when = data["received"] and datetime.fromisoformat(data["received"])
    return Received(when, data["source"], tuple(data.get("claimed", ())))


def inbound_time(folder: Path) -> datetime:
    """The latest inode change time (``st_ctime``, aware UTC) of ``folder`` and everything in
    it, symbolic links not followed: when the submission last changed, as only the kernel
    records it."""
    latest = os.lstat(folder).st_ctime
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            latest = max(latest, os.lstat(os.path.join(top, name)).st_ctime)
    return datetime.fromtimestamp(latest, UTC)


def _utc(text: str) -> datetime | None:
    """A time the student stated, as aware UTC (None when unreadable)."""
    try:
        return parse_utc(text.strip()).replace(tzinfo=UTC)
    except (ValueError, OverflowError, TypeError):
        return None


def _local(when: datetime, tz) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def disagreement(claimed: str, course: datetime | None, tz) -> str:
    """'' when the student's ``claimed`` time is within :data:`AGREE_SECONDS` of the course's;
    else the words for the instructor (always, when the course's is None)."""
    said = _utc(claimed)
    if said is not None and course is not None \
            and abs((said - course).total_seconds()) <= AGREE_SECONDS:
        return ""
    shown = _local(said, tz) if said else repr(claimed.strip()[:80])
    return f"학생이 적은 시간 {shown}"


def applies(dl: deadlines.Deadlines, lesson: str) -> bool:
    """True when the time of a submission of ``lesson`` can change its score."""
    return lesson in dl.due and dl.policy.method != "none"


def unknown(root: Path, pairs: list[tuple[str, str]]) -> list[str]:
    """One line per submission whose time the course does not know while a late policy applies
    to its lesson (reads only). Raises ValueError for a malformed ``deadlines.toml``."""
    dl = deadlines.load(root)
    return [f"{s}/{lesson}: 제출 시간을 알 수 없습니다 (submission time unknown, late policy "
            "applies): 과목의 기록이 없고 timestamp.txt 는 학생의 파일입니다 (no course record; "
            "timestamp.txt is the student's own)"
            for s, lesson in pairs if applies(dl, lesson) and read(root, s, lesson) is None]


def apply(root: Path, pairs: list[tuple[str, str]], accept: bool = False) -> list[str]:
    """Write the course's time of every pair into its ``timestamp.txt`` (what nbgrader reads).
    With ``accept``, a submission without a record while a late policy applies (:func:`unknown`)
    is recorded as received now. Returns notes for the instructor: each time the student's
    upload stated that disagrees with the course's, each time taken as now."""
    dl = deadlines.load(root)
    now = datetime.now(UTC)
    notes = []
    for s, lesson in pairs:
        rec = read(root, s, lesson)
        stamp = course_folder(root, s, lesson) / "timestamp.txt"
        if rec is None:
            if not (accept and applies(dl, lesson)):
                continue  # the time decides nothing (unknown() stops ./course grade otherwise)
            claimed = (stamp.read_text(encoding="utf-8", errors="replace"),) \
                if stamp.exists() else ()
            rec = record(root, s, lesson, now, "./course grade --accept", claimed)
            notes.append(f"{s}/{lesson}: 제출 시간을 알 수 없어 지금 시각 {_local(now, dl.timezone)}"
                         "을 제출 시간으로 기록했습니다 (submission time unknown: recorded as "
                         "received now, accepted)")
        said = list(rec.claimed)
        if stamp.exists():
            said.append(stamp.read_text(encoding="utf-8", errors="replace"))
        wrong = sorted({w for c in said if (w := disagreement(c, rec.when, dl.timezone))})
        if wrong and rec.when is None:
            notes.append(f"{s}/{lesson}: 제출물의 timestamp.txt 는 무시합니다; {rec.source} 의 "
                         "기록으로는 제시간 제출입니다 (timestamp.txt ignored: on time by the LMS's "
                         "record)")
        elif wrong:
            notes.append(f"{s}/{lesson}: 제출물의 시간이 과목의 기록과 다릅니다 (timestamp.txt "
                         f"disagrees with the course's record): {', '.join(wrong)}; 과목의 기록 "
                         f"{_local(rec.when, dl.timezone)} ({rec.source}) 으로 채점합니다 "
                         "(graded with the course's time)")
        _stamp(root, s, lesson, rec)
    return notes


def timestamp(root: Path, student: str, lesson: str) -> str | None:
    """The ``timestamp.txt`` a distributed worker gets: the course's record as nbgrader's text;
    without a record (no late policy applies, :func:`unknown`) the collected file, or None."""
    rec = read(root, student, lesson)
    if rec is not None:
        return rec.when and timestamp_text(rec.when) + "\n"
    stamp = course_folder(root, student, lesson) / "timestamp.txt"
    return stamp.read_text(encoding="utf-8") if stamp.exists() else None
