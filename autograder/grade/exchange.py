"""nbgrader's exchange ``collect`` with the course's own submission times.

Configured as ``ExchangeFactory.collect`` in autograder/pipeline/nbgrader_config.py, so ``nbgrader
collect <lesson>`` run in the course root uses it. nbgrader's own collect takes a submission's
time from the inbound folder's name (``<student>+<lesson>+<time>+<random>``) to pick the latest
and copies the student's ``timestamp.txt``; in the inbound folder (mode 733) a student can write
both. :class:`CourseCollect` picks and records by the time only the kernel sets instead
(:func:`autograder.pipeline.received.inbound_time`), writes it as the collected ``timestamp.txt``, and
logs a warning for the instructor where the folder name or the student's ``timestamp.txt``
says otherwise.

In nbgrader's default exchange the student id in an inbound folder's name is the unix user who
submitted it, and the inbound folder is writable by every student: a folder named for a student
but owned by another unix user (``st_uid`` through ``pwd``), or named with an id that breaks the
course's id rule (:func:`autograder.paths.check_id`), is refused before anything in
``submitted/`` is touched, so the named student's own latest folder is collected and an earlier
collected submission is never replaced; each refusal is logged (console and nbgrader's log) and
``nbgrader collect`` exits 1. nbgrader itself only warns. ``ExchangeCollect.check_owner = False``
turns the owner check off where one service user writes every submission. Source: nbgrader 0.9
``nbgrader/exchange/default/collect.py``.
"""

from __future__ import annotations

import os
import pwd

from nbgrader.exchange.default.collect import ExchangeCollect

from ..paths import UnsafePath, check_id
from ..pipeline import deadlines, received


def owner(path: str) -> str:
    """The unix user name that owns ``path`` (``st_uid`` through ``pwd``; the link itself, not
    its target), or ``uid N`` where the passwd database has no such user."""
    uid = os.lstat(path).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


class CourseCollect(ExchangeCollect):
    """nbgrader's ``ExchangeCollect``; each record's ``timestamp`` is the course's time and a
    folder whose name or owner does not match its student is refused (module docstring)."""

    def init_src(self):
        self._refused: list[tuple[str, str]] = []  # (inbound folder, why), filled by the records
        super().init_src()

    def _path_to_record(self, path):
        rec = super()._path_to_record(path)
        rec["claimed"] = rec["filename"].rsplit("+", 3)[2]  # the folder name's time
        rec["received"] = received.inbound_time(path)
        rec["timestamp"] = rec["received"].replace(tzinfo=None)  # nbgrader's naive UTC
        rec["refused"] = self._refusal(path, rec["username"])
        if rec["refused"]:
            self._refused.append((path, rec["refused"]))
        return rec

    def _refusal(self, path: str, student: str) -> str | None:
        """Why the inbound folder ``path`` named for ``student`` is not collected, or None."""
        try:
            check_id(student)
        except UnsafePath as err:
            return str(err)
        who = owner(path)
        if self.check_owner and who != student:
            return (f"{student}의 폴더인데 주인이 {who} (owned by {who}, not {student}); "
                    "한 서비스 사용자가 모든 제출을 쓰는 설정이면 ExchangeCollect.check_owner = False")
        return None

    def _sort_by_timestamp(self, records):
        # the student's own folders first, latest first: a refused folder is picked only where
        # it is the student's only one, and copy_files then refuses it
        return sorted(super()._sort_by_timestamp(records), key=lambda rec: bool(rec["refused"]))

    def copy_files(self):
        refused = sorted(self._refused)
        for path, why in refused:
            self.log.error("수집 거부 (not collected): %s: %s", path, why)
        self.src_records = [rec for rec in self.src_records if not rec["refused"]]
        self._records = {rec["filename"]: rec for rec in self.src_records}
        super().copy_files()
        if refused:
            self.fail(f"수집 거부 (not collected) {len(refused)}: "
                      + ", ".join(os.path.basename(path) for path, _ in refused))

    def do_copy(self, src, dest, log=None):
        rec = self._records[os.path.basename(src)]
        student, lesson = rec["username"], self.coursedir.assignment_id
        super().do_copy(src, dest, log)
        stamp = os.path.join(dest, "timestamp.txt")
        claimed = [rec["claimed"]]
        if os.path.exists(stamp):
            with open(stamp, encoding="utf-8", errors="replace") as fh:
                claimed.append(fh.read())
        root = self.coursedir.root
        when = rec["received"]
        received.record(root, student, lesson, when, f"nbgrader exchange inbound {rec['filename']}",
                        tuple(claimed))
        tz = deadlines.load(root).timezone
        wrong = sorted({w for c in claimed if (w := received.disagreement(c, when, tz))})
        if wrong:
            self.log.warning("%s/%s: the submission's own times (%s) disagree with the "
                             "exchange's inbound time %s; the course grades with the latter",
                             student, lesson, ", ".join(wrong), when.astimezone(tz))
