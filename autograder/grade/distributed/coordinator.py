"""``./course grade --broker URL``: send a class to the workers and collect what they return."""

from __future__ import annotations

import base64
import shutil
from collections import Counter
from pathlib import Path

from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url
from redis.exceptions import RedisError
from tqdm import tqdm

from dlcourse.status import Status
from dlcourse.submission import MAX_FILE_BYTES

from ...paths import course_folder
from ...pipeline import received
from ...pipeline.deadlines import DEADLINES_FILE
from ...pipeline.preprocessors import RENAMED, renamed_from
from ..pool import Result, adopt_renamed, refused, settle
from . import BROKER_TIMEOUT, TASK, course_version, make_app

#: Tasks, and bytes of notebooks, waiting in the broker at once: bound what Redis holds (it keeps
#: every message in memory) while keeping every worker process busy.
IN_FLIGHT = 256
IN_FLIGHT_BYTES = 512 * 2**20
#: Errors that mean the broker (also the result backend) cannot be reached.
BROKER_ERRORS = (OperationalError, RedisError, ConnectionError)


class BrokerLost(SystemExit):
    """The broker went away or never answered: the coordinator stops instead of waiting."""


def _broker_lost(url: str, err: BaseException, done: int, total: int) -> BrokerLost:
    return BrokerLost(
        f"브로커에 연결할 수 없어 채점을 멈춥니다 (broker unreachable, grading stopped): {url}: "
        f"{type(err).__name__}: {err}\n{done}/{total}개 채점 완료 (graded); 브로커를 확인하고 "
        f"다시 실행하세요 (check the broker and run again; graded work is graded again)")


def _text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def job(root: Path, student: str, lesson: str, ver: str) -> dict:
    """The task for one submission (see :meth:`autograder.grade.distributed.worker.Grader.grade`),
    after :func:`~autograder.grade.pool.adopt_renamed` as the local pool does."""
    folder = course_folder(root, student, lesson)
    notebook = folder / f"{lesson}.ipynb"
    size = notebook.stat().st_size if notebook.exists() else 0
    data = None
    renamed = renamed_from(root, student, lesson, notebook.name)  # the course's own record
    if notebook.exists() and size <= MAX_FILE_BYTES:
        data = base64.b64encode(notebook.read_bytes()).decode("ascii")
    return dict(student=student, lesson=lesson, version=ver, notebook=data, size=size,
                timestamp=received.timestamp(root, student, lesson), renamed=renamed,
                marker=(folder / RENAMED).exists(),
                deadlines=_text(root / DEADLINES_FILE))


def _receive(root: Path, url: str, meta: dict, pair: tuple[str, str], write) -> Result:
    student, lesson = pair
    if meta["status"] != "SUCCESS":
        err = meta["result"]
        return settle(root, url, Result(student, lesson, 0.0, False,
                                        f"{type(err).__name__}: {err}"), write)
    got = meta["result"]
    out = course_folder(root, student, lesson, "autograded") / f"{lesson}.ipynb"
    shutil.rmtree(out.parent, ignore_errors=True)  # nothing of an older grading stays
    if got["autograded"] is not None:
        out.parent.mkdir(parents=True)
        out.write_text(got["autograded"], encoding="utf-8")
        stamp = received.timestamp(root, student, lesson)
        if stamp is not None:  # nbgrader autograde copies it beside the notebook
            (out.parent / "timestamp.txt").write_text(stamp, encoding="utf-8")
    res = Result(student, lesson, got["seconds"], got["success"], got["message"])
    return settle(root, url, res, write)


def _label(root: Path, res: Result, meta: dict) -> str:
    """The notebook's status for the progress bar."""
    if not res.success:
        return Status.GRADER_ERROR
    if not (course_folder(root, res.student, res.lesson) / f"{res.lesson}.ipynb").exists():
        return Status.MISSING
    return meta["result"]["statuses"].get("", Status.GRADED)


def grade_class_broker(root: Path, pairs: list[tuple[str, str]], broker: str, db: str,
                       progress: bool = True) -> list[Result]:
    """Autograde ``pairs`` on the workers listening on ``broker`` into the shared gradebook
    ``db`` (which the workers must also use); returns one Result per pair, as
    :func:`autograder.grade.pool.grade_class` does. Raises :class:`BrokerLost` (a SystemExit with
    the message) when the broker cannot be reached or goes away."""
    root = Path(root).resolve()
    app = make_app(broker)
    shown = maybe_sanitize_url(broker)  # the password masked
    versions = {lesson: course_version(root, lesson) for lesson in sorted({p[1] for p in pairs})}
    todo, pending, size, results = list(reversed(pairs)), {}, {}, []
    states: Counter[str] = Counter()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        if progress and not app.control.ping(timeout=2.0):
            print("연결된 작업자가 아직 없습니다 (no worker answered yet): start ./course worker "
                  f"--broker {shown} on the grading machines; waiting")
    except BROKER_ERRORS as err:
        raise _broker_lost(shown, err, 0, len(pairs)) from err
    bar = tqdm(total=len(pairs), disable=not progress, desc="grading", unit="nb")
    retry = {"max_retries": 2, "interval_start": 0, "interval_step": 1, "interval_max": 2}
    try:
        while todo or pending:
            while todo and len(pending) < IN_FLIGHT and (
                    not pending or sum(size.values()) < IN_FLIGHT_BYTES):
                student, lesson = todo.pop()
                adopt_renamed(root, student, lesson)
                if refused(root, student, lesson):  # never sent: zeroed with the reason
                    res = settle(root, db, Result(student, lesson, 0.0, False), bar.write)
                    states[Status.REFUSED] += 1
                    bar.update()
                    results.append(res)
                    continue
                task = job(root, student, lesson, versions[lesson])
                # Only the id is kept: the AsyncResult goes at once, and with it Celery's
                # subscription to the task's result channel (results are polled, in batches).
                task_id = app.send_task(TASK, args=(task,), retry=True, retry_policy=retry).id
                pending[task_id] = (student, lesson)
                size[task_id] = len(task["notebook"] or "")
            for task_id, meta in app.backend.get_many(set(pending), interval=0.5,
                                                      max_iterations=1):
                pair = pending.pop(task_id)
                size.pop(task_id)
                res = _receive(root, db, meta, pair, bar.write)
                app.backend.forget(task_id)
                states[_label(root, res, meta)] += 1
                bar.set_postfix_str(", ".join(f"{k} {v}" for k, v in sorted(states.items())))
                bar.update()
                results.append(res)
    except BROKER_ERRORS as err:
        raise _broker_lost(shown, err, len(results), len(pairs)) from err
    finally:
        bar.close()
    return sorted(results, key=lambda r: (r.student, r.lesson))
