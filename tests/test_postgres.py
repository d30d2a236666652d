"""The gradebook on a real PostgreSQL server (Debian's package), several workers writing at once."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from autograder.export import rows
from autograder.grading import ScratchCourse, release_notebook, submission
from autograder.mistakes import expected_scores, load_mistakes
from autograder.parallel import grade_class

from .conftest import LESSONS, need


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres():
    bin_dir = _pg_bin()
    need(bin_dir is not None, "PostgreSQL is not installed (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="dlcourse-pg-"))  # pytest's tmp is private to root
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                                 "--auth=trust", "-E", "UTF8"]), check=True, capture_output=True)
    opts = f"-k {sock} -p {port} -c listen_addresses='' -c max_connections=50"
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-w",
                                 "-l", str(base / "log"), "start"]), check=True,
                   capture_output=True)
    try:
        subprocess.run(_as_postgres([str(bin_dir / "createdb"), "-h", str(sock), "-p", str(port),
                                     "-U", "postgres", "gradebook"]), check=True)
        yield f"postgresql+psycopg2://postgres@/gradebook?host={sock}&port={port}"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                                     "immediate", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.postgres
def test_parallel_grading_into_postgres(postgres, bwrap):
    lesson = LESSONS[0]
    mistakes = load_mistakes(lesson)[:1]
    course = ScratchCourse([lesson], db_url=postgres)
    course.release()
    cases = {"ref-a": submission(lesson), "ref-b": submission(lesson),
             "blank": release_notebook(lesson)}
    cases.update({m.student: submission(lesson, m.answers) for m in mistakes})
    for student, nb in cases.items():
        course.submit(student, lesson, nb)
    results = grade_class(course.path, [(s, lesson) for s in cases], workers=3,
                          progress=False, db=postgres)
    assert all(r.success for r in results), [r.message for r in results if not r.success]
    maxes = course.max_scores(lesson)
    want = {"ref-a": expected_scores(maxes, None), "ref-b": expected_scores(maxes, None),
            "blank": expected_scores(maxes, list(maxes))}
    want.update({m.student: expected_scores(maxes, m.fails) for m in mistakes})
    assert {s: course.scores(lesson, s) for s in cases} == want
    from nbgrader.api import Gradebook

    with Gradebook(postgres) as gb:
        table = rows(gb, course.path)
    totals = {r["student"]: r for r in table if r["cell"] == "(total)"}
    assert set(totals) == set(cases)
    assert all(r["status"] == "graded" for r in totals.values())
    course.cleanup()
