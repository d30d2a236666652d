"""nbgrader's exchange ``collect`` with the course's own submission times.

Configured as ``ExchangeFactory.collect`` in autograder/nbgrader_config.py, so ``nbgrader
collect <lesson>`` run in the course root uses it. nbgrader's own collect takes a submission's
time from the inbound folder's name (``<student>+<lesson>+<time>+<random>``) to pick the latest
and copies the student's ``timestamp.txt``; in the inbound folder (mode 733) a student can write
both. :class:`CourseCollect` picks and records by the time only the kernel sets instead
(:func:`autograder.received.inbound_time`), writes it as the collected ``timestamp.txt``, and
logs a warning for the instructor where the folder name or the student's ``timestamp.txt``
says otherwise. Source: nbgrader 0.9 ``nbgrader/exchange/default/collect.py``.
"""

from __future__ import annotations

import os

from nbgrader.exchange.default.collect import ExchangeCollect

from . import received
from .lms import deadlines
from .paths import UnsafePath, check_id


class CourseCollect(ExchangeCollect):
    """nbgrader's ``ExchangeCollect``; each record's ``timestamp`` is the course's time."""

    def _path_to_record(self, path):
        rec = super()._path_to_record(path)
        rec["claimed"] = rec["filename"].rsplit("+", 3)[2]  # the folder name's time
        rec["received"] = received.inbound_time(path)
        rec["timestamp"] = rec["received"].replace(tzinfo=None)  # nbgrader's naive UTC
        return rec

    def copy_files(self):
        self._records = {rec["filename"]: rec for rec in self.src_records}
        super().copy_files()

    def do_copy(self, src, dest, log=None):
        rec = self._records[os.path.basename(src)]
        student, lesson = rec["username"], self.coursedir.assignment_id
        try:
            check_id(student)
        except UnsafePath as err:
            self.log.error("%s: not collected: %s", src, err)
            return
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
