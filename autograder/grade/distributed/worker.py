"""``./course worker``: a Celery worker that grades submissions sent through the broker.

The worker grades in a scratch copy of its course checkout (:class:`~autograder.grade.scratch.
ScratchCourse`: the lessons and the nbgrader configuration, nothing of any student) with
nbgrader's API, one pool process per core, writing grades and statuses into the gradebook
named by ``NBGRADER_DB_URL``. It refuses tasks made for another version of a lesson.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
from pathlib import Path

from celery.utils.log import get_task_logger
from sqlalchemy import select

from dlcourse.status import Status
from dlcourse.submission import MAX_FILE_BYTES

from ... import ROOT, lessons
from ...paths import UnsafePath, check_id, confined, course_folder, rename_record
from ...pipeline import status
from ...pipeline.deadlines import DEADLINES_FILE
from ...pipeline.preprocessors import RENAMED
from .. import pool as parallel
from ..scratch import ScratchCourse
from . import REDELIVER_AFTER, TASK, CourseVersionError, course_version, make_app

log = get_task_logger(__name__)


class Grader:
    """What one worker grades with: its scratch course, the gradebook and the lesson versions."""

    def __init__(self, course: Path, db: str):
        self.source = Path(course).resolve()
        self.lessons = lessons(self.source)
        self.db = db
        self.scratch = ScratchCourse(self.lessons, root=self.source)
        self.versions = prepare(self.source, self.lessons)

    def grade(self, job: dict, hostname: str) -> dict:
        """Grade one submission. ``job``: ``student``, ``lesson``, ``version`` (of the lesson,
        :func:`~autograder.grade.distributed.course_version`), ``notebook`` (base64 of the file's
        bytes, or ``None`` when there is no file), ``size`` (bytes of the file; over
        ``MAX_FILE_BYTES`` the bytes stay home), ``timestamp`` (``timestamp.txt`` as the course's record
        states it, :func:`autograder.pipeline.received.timestamp`), ``renamed``
        (the name the student gave the notebook, from the course's record,
        :func:`~autograder.paths.rename_record`), ``marker`` (the upload held a
        ``.dlcourse-renamed``: ignored and named) and
        ``deadlines`` (the coordinator's ``deadlines.toml``), each ``None`` when absent. Returns the :class:`~autograder.grade.pool.Result` fields, ``autograded`` (the
        autograded notebook's text, ``None`` when nbgrader wrote none), ``statuses`` (``{cell:
        status}``, ``""`` the notebook) and ``worker``. Raises :class:`CourseVersionError` for
        another version of the lesson and ``ValueError`` for a malformed job."""
        student, lesson = job["student"], job["lesson"]
        renamed = job["renamed"]
        try:
            check_id(student)
            if lesson not in self.versions:
                raise UnsafePath(lesson)
            if renamed is not None:
                confined(course_folder(self.scratch.path, student, lesson), renamed)
        except UnsafePath as err:
            raise ValueError(f"잘못된 채점 요청 (malformed task): {student!r}/{lesson!r}") from err
        if job["version"] != self.versions[lesson]:
            raise CourseVersionError(
                f"과목 버전이 다릅니다 (course version mismatch): {lesson} is "
                f"{self.versions[lesson]} on worker {hostname} ({self.source}) but "
                f"{job['version']} on the coordinator; 작업자의 저장소를 갱신하고 다시 시작하세요 "
                f"(update this worker's checkout and restart it)")
        root = self.scratch.path
        folder = course_folder(root, student, lesson)
        autograded = course_folder(root, student, lesson, "autograded")
        record = rename_record(root, student, lesson)
        for old in (folder, autograded, course_folder(root, student, lesson, "feedback")):
            shutil.rmtree(old, ignore_errors=True)
        record.unlink(missing_ok=True)
        folder.mkdir(parents=True)
        notebook = folder / f"{lesson}.ipynb"
        if job["size"] > MAX_FILE_BYTES:
            # Too large to carry: a sparse file of the same size gets the grader's "too large".
            with notebook.open("wb") as fh:
                fh.truncate(job["size"])
        elif job["notebook"] is not None:
            notebook.write_bytes(base64.b64decode(job["notebook"]))
            if renamed is not None:  # the feedback names the file the student handed in
                shutil.copyfile(notebook, folder / renamed)
                record.parent.mkdir(parents=True, exist_ok=True)
                record.write_text(renamed, encoding="utf-8")
        if job.get("marker"):  # the upload held one: its content stays home, only the note
            (folder / RENAMED).write_text("", encoding="utf-8")
        if job["timestamp"] is not None:
            (folder / "timestamp.txt").write_text(job["timestamp"], encoding="utf-8")
        self.use_deadlines(job["deadlines"])
        if parallel._api is None:
            parallel._init_worker(str(root), self.db)
        log.info("grading %s/%s", student, lesson)
        if notebook.exists():
            res = parallel._grade(student, lesson)
        else:  # nothing to grade: the coordinator records "missing", as the local pool does
            res = parallel.Result(student, lesson, 0.0, False, "")
        out = autograded / f"{lesson}.ipynb"
        text = out.read_text(encoding="utf-8") if out.exists() else None
        table = status.cell_status
        with status.engine(self.db).connect() as conn:
            statuses = {r.cell: r.status for r in conn.execute(select(table).where(
                (table.c.assignment == lesson) & (table.c.student == student)
                & (table.c.notebook == lesson)))}
        state = Status.MISSING if not notebook.exists() else statuses.get("", Status.GRADER_ERROR)
        log.info("graded %s/%s: %s in %.1f s", student, lesson, state, res.seconds)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(autograded, ignore_errors=True)
        return dict(student=student, lesson=lesson, seconds=res.seconds, success=res.success,
                    message=res.message, autograded=text, statuses=statuses, worker=hostname)


    def use_deadlines(self, text: str | None) -> None:
        """Grade with the coordinator's ``deadlines.toml`` (nbgrader's late policy reads it
        from the course folder): replaced atomically, as pool processes share the folder."""
        path = self.scratch.path / DEADLINES_FILE
        if text is None:
            path.unlink(missing_ok=True)
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)


def prepare(course: Path, names: list[str]) -> dict[str, str]:
    """Once at start-up: the version of every lesson the worker can grade (``{lesson:
    version}``), after :func:`autograder.grade.preflight.preflight` proved that this machine can run
    a sandboxed grading kernel (torch, the course's helpers, its data); a worker that cannot
    grade stops here with the preflight's message (``SystemExit``) before it takes a task."""
    from ..preflight import GradingStopped, preflight

    try:
        print(f"[worker] {preflight(True, course)}", flush=True)
    except GradingStopped as stop:
        raise SystemExit(str(stop)) from None
    return {lesson: course_version(course, lesson) for lesson in names}


def run_worker(broker: str, concurrency: int | None = None, course: Path = ROOT,
               redeliver_after: int = REDELIVER_AFTER) -> int:
    """Run a worker until it is stopped (SIGTERM or Ctrl-C: it finishes its current tasks).
    ``concurrency``: pool processes (default: the machine's cores)."""
    db = os.environ.get("NBGRADER_DB_URL", "")
    if not db or db.startswith("sqlite"):
        raise SystemExit("작업자는 공유 채점 기록부가 필요합니다 (shared gradebook needed): set "
                         "NBGRADER_DB_URL to the course's PostgreSQL gradebook")
    grader = Grader(course, db)
    app = make_app(broker, redeliver_after)

    @app.task(name=TASK, bind=True)
    def grade(self, job: dict) -> dict:
        return grader.grade(job, self.request.hostname)

    for lesson, ver in grader.versions.items():
        print(f"[worker] {lesson} version {ver}", flush=True)
    try:
        app.worker_main(["worker", "--loglevel=INFO", "--without-gossip", "--without-mingle",
                         f"--concurrency={concurrency or os.cpu_count() or 1}",
                         f"--hostname=grader{os.getpid()}@{socket.gethostname()}"])
    finally:
        grader.scratch.cleanup()
    return 0
