"""Grading across machines: Celery workers fed through a Redis broker.

``./course grade --broker URL`` (the coordinator, :mod:`.coordinator`) sends one task per
(student, lesson); ``./course worker --broker URL`` (:mod:`.worker`) runs on every grading
machine that has the course checked out. Nothing is shared but the broker and the gradebook:

- a task carries the submission's bytes and the course version of its lesson; the worker grades
  it with the same nbgrader pipeline as ``./course grade`` (rebuild, sandbox, verdict) in a scratch
  copy of its own checkout, writes the scores and statuses into the shared gradebook
  (``NBGRADER_DB_URL``, PostgreSQL) and returns the autograded notebook and the statuses;
- the coordinator writes the autograded notebooks into its course, settles missing and failed
  submissions exactly as the local pool does, and makes feedback, the CSV and the report once.

Delivery follows Celery's rules for tasks that must not be lost (Celery user guide, "Tasks":
``acks_late``, ``task_reject_on_worker_lost``; "Using Redis": the visibility timeout): a message
is acknowledged only when its task has returned, a pool process killed mid-task sends its task
back at once, and a whole worker killed (SIGKILL, a lost machine) leaves its task unacknowledged
in Redis, where another worker restores it after the visibility timeout. Grading is idempotent
(``nbgrader autograde --force`` replaces a submission's grades), so a second delivery grades the
pair once in the gradebook. A submission that crashes or times out is a graded status, returned
normally, never an exception that Celery could retry.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

from celery import Celery

from ... import ROOT

#: Task name shared by the coordinator (which sends it by name) and the workers.
TASK = "dlcourse.grade"
#: Seconds before Redis hands an unacknowledged task (its worker died) to another worker.
#: Longer than any task can run: the notebook limit (SandboxedExecute.notebook_timeout, 300 s)
#: plus rebuilding, the reference run of a fresh lesson and writing the grades.
REDELIVER_AFTER = 900
#: Seconds the coordinator and workers wait for the broker before giving up on one attempt.
BROKER_TIMEOUT = 5.0


class CourseVersionError(RuntimeError):
    """A task was made for another version of the course than the worker's checkout."""


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def course_version(course: Path, lesson: str) -> str:
    """The version of ``lesson`` as graded from the course folder ``course``: 16 hex digits of
    SHA-256 over the lesson's instructor notebook folder (its sources, hidden tests and reference
    answers), its released folder, and the grading code and helpers this process runs
    (``autograder/``, ``dlcourse/``, ``data/`` of the checkout), with the nbgrader and torch
    releases (torch without its ``+cpu``/``+cu…`` build tag: the CPU and CUDA wheels of one
    release grade alike, on the CPU). Equal versions grade a submission alike."""
    h = hashlib.sha256()
    for base, folder in ((course, f"solutions/{lesson}"), (course, f"notebooks/{lesson}"),
                         (ROOT, "autograder"), (ROOT, "dlcourse"), (ROOT, "data")):
        for path in _files(base / folder):
            h.update(path.relative_to(base).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    for package in ("nbgrader", "torch"):
        h.update(f"{package}=={version(package).split('+')[0]}\0".encode())
    return h.hexdigest()[:16]


def make_app(broker: str, redeliver_after: int = REDELIVER_AFTER) -> Celery:
    """The Celery application of the course on ``broker`` (a ``redis://`` URL), which is also
    the result backend. ``redeliver_after``: the Redis visibility timeout in seconds, used by
    workers when they restore the tasks of a worker that died."""
    app = Celery("dlcourse", broker=broker, backend=broker, set_as_current=False)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_accept_content=["json"],
        # Notebooks are JSON text: gzip makes the messages several times smaller.
        task_compression="gzip", result_compression="gzip",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A task is a whole notebook: each pool process reserves one at a time, so no worker
        # sits on tasks another could grade, and a lost worker holds one task per process.
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_timeout=BROKER_TIMEOUT,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": redeliver_after,
            # Sweep for tasks of dead workers every 10 s (kombu's default scans every 100 s).
            "unacked_restore_interval": min(10, redeliver_after),
            "unacked_restore_throttle": 1,
            "socket_timeout": 30, "socket_connect_timeout": BROKER_TIMEOUT,
            "health_check_interval": 10,
        },
        redis_socket_timeout=30, redis_socket_connect_timeout=BROKER_TIMEOUT,
        redis_backend_health_check_interval=10,
        result_backend_transport_options={"retry_policy": {"max_retries": 2}},
        # The coordinator deletes each result as it reads it; a day bounds what a coordinator
        # that stopped early leaves in Redis.
        result_expires=86400,
    )
    return app
