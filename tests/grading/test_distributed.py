"""Grading across machines: a real Redis broker (Debian's redis-server), two ``./course worker``
processes and the PostgreSQL gradebook give what the local pool gives, survive a worker killed
with SIGKILL, refuse another version of a lesson, and stop when the broker goes away."""

import os
import re
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.authoring.examples import CRASH
from autograder.authoring.mistakes import load_mistakes
from autograder.grade.command import grade_command
from autograder.grade.distributed.coordinator import BrokerLost, grade_class_broker
from autograder.grade.distributed.local import Redis, Worker
from autograder.grade.scratch import ScratchCourse, release_notebook, submission
from autograder.pipeline.export import rows
from autograder.pipeline.preprocessors import RENAMED
from dlcourse.lab import free_port
from tests.conftest import LESSONS, need
from tests.support.integrity_helpers import answer_ids, require_bwrap

LESSON = LESSONS[0]
#: Redis hands a killed worker's task to the other worker after this many seconds (a grading
#: run here takes ~7-30 s on a busy machine; the default, 900 s, is for real classes).
REDELIVER = 90
#: The three that start a kernel come first, so both workers are mid-task early on.
#: f-marker hands in the untouched release with a .dlcourse-renamed naming the solutions (issue
#: #27: ignored on both paths); g-renamed a lone notebook under another name (the course's own
#: rename record travels to the worker).
STUDENTS = ["a-perfect", "b-mistake", "c-crash", "d-broken", "e-missing", "f-marker",
            "g-renamed"]
GRADING = re.compile(r"grading (\S+)/(\S+)$", re.M)
GRADED = re.compile(r"graded (\S+)/(\S+): ", re.M)


def work(student: str):
    mistake = load_mistakes(LESSON)[0]
    return {
        "a-perfect": lambda: submission(LESSON),
        "b-mistake": lambda: submission(LESSON, mistake.answers),
        "c-crash": lambda: submission(LESSON, {answer_ids(LESSON)[-1]: CRASH}),
        "d-broken": lambda: b'{"cells": [',
        "e-missing": lambda: None,
        "f-marker": lambda: release_notebook(LESSON),
        "g-renamed": lambda: submission(LESSON),
    }[student]()


def redis_server(base: Path) -> Redis:
    need(shutil.which("redis-server") is not None,
         "redis-server is not installed (apt-get install redis-server): the grading broker")
    return Redis(base)


def worker(broker: str, db: str, log: Path, *extra: str) -> Worker:
    return Worker(broker, db, log, "--redeliver-after", str(REDELIVER), *extra)


def course_with(db_url: str | None) -> ScratchCourse:
    course = ScratchCourse([LESSON], db_url=db_url)
    course.release()
    for student in STUDENTS:
        path = course.submit(student, LESSON, work(student))
        if student == "f-marker":
            (path.parent / RENAMED).write_text(f"../../../solutions/{LESSON}/{LESSON}.ipynb",
                                               encoding="utf-8")
            os.utime(path, (1_000_000_000,) * 2)  # older than the solutions: the old bait
        if student == "g-renamed":
            path.rename(path.with_name(f"{LESSON} (1).ipynb"))
    return course


def table(course: ScratchCourse) -> list[dict]:
    """The CSV export's rows, sorted: nbgrader lists students by name, which PostgreSQL returns
    in no fixed order when (as here) the names are empty."""
    with Gradebook(course.db_url) as gb:
        return sorted(rows(gb, course.path), key=lambda r: (r["student"], r["assignment"],
                                                            r["cell"]))


def csv_lines(course: ScratchCourse) -> list[str]:
    head, *body = (course.path / "grades.csv").read_text(encoding="utf-8-sig").splitlines()
    return [head, *sorted(body)]


@pytest.fixture(scope="module")
def grid(postgres):
    """Both gradings of the class: ``./course grade`` with the local pool (SQLite) and with
    ``--broker`` on two workers (PostgreSQL); the workers and Redis stay up for the tests."""
    require_bwrap()
    base = Path(tempfile.mkdtemp(prefix="dlcourse-celery-"))
    redis = redis_server(base)
    local, dist, workers = course_with(None), course_with(postgres), []
    try:
        workers = [worker(redis.url, postgres, base / f"worker{i}.log") for i in range(2)]
        for w in workers:
            w.wait_ready()
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("NBGRADER_DB_URL", raising=False)
            rc_local = grade_command([LESSON], workers=2, root=local.path)
            mp.setenv("NBGRADER_DB_URL", postgres)
            rc_dist = grade_command([LESSON], root=dist.path, broker=redis.url)
        yield dict(base=base, redis=redis, local=local, dist=dist, workers=workers,
                   rc=(rc_local, rc_dist), db=postgres)
    finally:
        for w in workers:
            w.stop()
        redis.stop()
        local.cleanup()
        dist.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def completions(logs: list[str]) -> list[tuple[str, str]]:
    return sorted(m for text in logs for m in GRADED.findall(text))


@pytest.mark.slow
@pytest.mark.postgres
def test_broker_grades_exactly_like_the_local_pool(grid):
    local, dist = grid["local"], grid["dist"]
    assert grid["rc"] == (0, 0)
    assert csv_lines(dist) == csv_lines(local)
    assert table(dist) == table(local)
    totals = {r["student"]: r["status"] for r in table(dist) if r["cell"] == "(total)"}
    assert totals == {"a-perfect": "graded", "b-mistake": "graded", "c-crash": "crashed",
                      "d-broken": "invalid json", "e-missing": "missing",
                      "f-marker": "graded", "g-renamed": "graded"}
    maxes = dist.max_scores(LESSON)
    assert dist.scores(LESSON, "a-perfect") == dist.scores(LESSON, "g-renamed") == maxes
    assert dist.scores(LESSON, "f-marker") == {cell: 0.0 for cell in maxes}
    notes = {r["student"]: r["message"] for r in table(dist) if r["cell"] == "(total)"}
    assert "uploaded marker ignored" in notes["f-marker"], notes
    assert "renamed notebook graded" in notes["g-renamed"], notes
    assert dist.scores(LESSON, "b-mistake") == local.scores(LESSON, "b-mistake") != maxes
    # The coordinator got the autograded notebooks back and made the feedback from them.
    name = Path("autograded", "b-mistake", LESSON, f"{LESSON}.ipynb")
    graded, want = (nbformat.read(c.path / name, as_version=4) for c in (dist, local))
    assert [c.source for c in graded.cells] == [c.source for c in want.cells]
    assert [c.get("metadata", {}).get("dlcourse") for c in graded.cells] == \
        [c.get("metadata", {}).get("dlcourse") for c in want.cells]
    assert (dist.path / "feedback" / "a-perfect" / LESSON / f"{LESSON}.html").exists()
    assert not (dist.path / "autograded" / "e-missing" / LESSON).exists()
    # Every pair graded once, by one of the two workers.
    assert completions([w.text() for w in grid["workers"]]) == [(s, LESSON) for s in STUDENTS]


@pytest.mark.slow
@pytest.mark.postgres
def test_worker_killed_mid_task_loses_nothing(grid):
    """Two kills mid-task: the whole of one worker (its task comes back after the visibility
    timeout, on the other worker), then the other's pool process (its task comes back at once:
    task_reject_on_worker_lost)."""
    victim, other = grid["workers"]
    before = [len(w.text()) for w in grid["workers"]]
    killed, lost = [], []

    def busy(worker: Worker, since: int) -> tuple[str, str] | None:
        started = [m for m in GRADING.findall(worker.text()[since:]) if m[0] in STUDENTS[:3]]
        return started[0] if started else None

    def kill_when_busy():
        deadline = time.monotonic() + 300
        while not killed and time.monotonic() < deadline:
            if pair := busy(victim, before[0]):
                time.sleep(2)  # well inside the kernel run
                mark = len(other.text())
                victim.kill()
                killed.append(pair)
            time.sleep(0.2)
        while killed and not lost and time.monotonic() < deadline:
            if pair := busy(other, mark):
                time.sleep(2)
                pid = other.proc.pid
                for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                    os.kill(int(child), signal.SIGKILL)
                lost.append(pair)
            time.sleep(0.2)

    # If a killed task never came back, the coordinator would wait for ever: stopping the
    # broker after 10 minutes turns that into a failure (BrokerLost).
    watchdog = threading.Timer(600, grid["redis"].stop)
    killer = threading.Thread(target=kill_when_busy)
    watchdog.start()
    killer.start()
    try:
        results = grade_class_broker(grid["dist"].path, [(s, LESSON) for s in STUDENTS],
                                     grid["redis"].url, grid["db"], progress=False)
    finally:
        watchdog.cancel()
        killer.join()
    log = [victim.text()[before[0]:], other.text()[before[1]:]]
    assert killed and lost and killed != lost, log
    assert "exited with 'signal 9 (SIGKILL)'" in log[1] and "WorkerLostError" in log[1]
    assert [r.student for r in results] == STUDENTS and all(r.success for r in results)
    assert table(grid["dist"]) == table(grid["local"])
    # The killed worker finished nothing after it was killed; every pair, both killed ones
    # included, was graded to the end exactly once.
    assert killed[0] not in completions(log[:1])
    assert completions(log) == [(s, LESSON) for s in STUDENTS]


@pytest.mark.slow
@pytest.mark.postgres
def test_worker_with_a_changed_lesson_refuses_its_tasks(grid):
    for w in grid["workers"]:
        w.stop()
    changed = ScratchCourse([LESSON], path=grid["base"] / "changed")
    source = changed.path / "solutions" / LESSON / f"{LESSON}.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("한 줄 더 (one more line)"))
    nbformat.write(nb, source)
    stale = worker(grid["redis"].url, grid["db"], grid["base"] / "stale.log",
                   "--course", str(changed.path)).wait_ready()
    try:
        results = grade_class_broker(grid["dist"].path, [("a-perfect", LESSON)],
                                     grid["redis"].url, grid["db"], progress=False)
    finally:
        stale.stop()
    assert len(results) == 1 and not results[0].success
    message = results[0].message
    assert message.startswith("CourseVersionError: 과목 버전이 다릅니다 (course version mismatch): "
                              f"{LESSON} is "), message
    assert str(changed.path) in message and "update this worker's checkout" in message
    assert "course version mismatch" in stale.text()
    assert GRADING.findall(stale.text()) == []
    # The refused pair is a grader error in the gradebook, not an old or a made-up score.
    totals = {r["student"]: r for r in table(grid["dist"]) if r["cell"] == "(total)"}
    assert totals["a-perfect"]["status"] == "grader error" and totals["a-perfect"]["score"] == 0


def test_coordinator_stops_when_the_broker_goes_away(tmp_path):
    folder = tmp_path / "submitted" / "s1" / LESSON
    folder.mkdir(parents=True)
    (folder / f"{LESSON}.ipynb").write_text("{}", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    dead = f"redis://127.0.0.1:{free_port()}/0"
    t0 = time.monotonic()
    with pytest.raises(BrokerLost) as err:
        grade_class_broker(tmp_path, [("s1", LESSON)], dead, db, progress=False)
    assert time.monotonic() - t0 < 30
    assert str(err.value).startswith(
        "브로커에 연결할 수 없어 채점을 멈춥니다 (broker unreachable, grading stopped): "
        f"{dead}: ")
    assert "0/1개 채점 완료 (graded)" in str(err.value)

    redis = redis_server(tmp_path)  # no worker: the task waits until the broker stops
    stopper = threading.Timer(3, redis.stop)
    stopper.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(BrokerLost) as err:
            grade_class_broker(tmp_path, [("s1", LESSON)], redis.url, db, progress=False)
    finally:
        stopper.join()
        redis.stop()
    assert 3 < time.monotonic() - t0 < 60
    assert "(broker unreachable, grading stopped)" in str(err.value)
    assert "0/1개 채점 완료 (graded)" in str(err.value)
