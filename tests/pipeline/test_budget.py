"""One submission's budget, not the machine's: a notebook that starts many processes, or many
that each allocate memory, ends over its own budget with that status, while a perfect
submission graded beside it in the same run keeps full marks.

The budget here is small (1 GiB, 48 processes and threads) so that the machine is never at risk.
"""

import os

import pytest

from autograder.grade.pool import grade_class
from autograder.grade.scratch import ScratchCourse, reference_answers, submission
from autograder.pipeline import status
from autograder.sandbox.budget import Budget
from dlcourse.status import Status

LESSON = "01_neuron"
BUDGET_MB, MAX_PROCS = 1024, 48
#: Forks until the process budget refuses; each child holds 4 MiB and sleeps.
FORKER = """
import os, time
for _ in range(400):
    if os.fork() == 0:
        block = b"x" * (4 * 2**20)
        time.sleep(30)
        os._exit(0)
"""
#: Six children of 300 MiB each: together over the 1 GiB budget, each under the per-process
#: address-space limit (4 GiB).
HOG = """
import os, time
children = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        block = b"x" * (300 * 2**20)
        time.sleep(5)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""


@pytest.fixture(scope="module")
def graded():
    probe = Budget.open(BUDGET_MB, MAX_PROCS)
    if probe is None:
        pytest.skip("no writable cgroup (v2 with memory and pids, or v1 memory and pids): "
                    "the notebook's budget is RLIMIT_AS per process and RLIMIT_NPROC")
    probe.close()
    course = ScratchCourse([LESSON])
    with open(course.path / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(f"\nc.SandboxedExecute.budget_mb = {BUDGET_MB}\n"
                 f"c.SandboxedExecute.max_procs = {MAX_PROCS}\n")
    course.release()
    first = next(iter(reference_answers(LESSON)))
    course.submit("perfect", LESSON, submission(LESSON))
    course.submit("forker", LESSON, submission(LESSON, {first: FORKER}))
    course.submit("hog", LESSON, submission(LESSON, {first: HOG}))
    results = grade_class(course.path, [(s, LESSON) for s in ("perfect", "forker", "hog")],
                          workers=2, progress=False, db=course.db_url)
    yield course, results, status.load(course.db_url)
    course.cleanup()


def statuses(course, known, student: str) -> tuple[set[str], set[str]]:
    """The statuses of ``student``'s test cells and of their written answers (markdown graded
    by hand: they wait for a person also when the code above them never ran)."""
    written = set(course.written_points(LESSON))
    cells = {c: v["status"] for (a, s, n, c), v in known.items() if s == student and c}
    assert written and written < set(cells), (written, cells)
    return ({v for c, v in cells.items() if c not in written},
            {v for c, v in cells.items() if c in written})


@pytest.mark.slow
@pytest.mark.parametrize("student, kind, phrase", [
    ("forker", "processes", f"{MAX_PROCS}개보다 많이"),
    ("hog", "memory", f"{BUDGET_MB} MiB를 넘어"),
])
def test_over_budget_notebook_stops_with_its_status(bwrap, graded, student, kind, phrase):
    course, results, known = graded
    assert all(r.success for r in results), [r.message for r in results]
    row = known[LESSON, student, LESSON, ""]
    assert row["status"] == f"crashed ({kind})", row
    assert f"(crashed ({kind}))" in row["message"] and phrase in row["message"], row
    assert set(course.scores(LESSON, student).values()) == {0.0}
    assert statuses(course, known, student) == ({"not run"}, {Status.NEEDS_MANUAL})


@pytest.mark.slow
def test_perfect_submission_graded_beside_it_keeps_full_marks(bwrap, graded):
    course, results, known = graded
    assert course.scores(LESSON, "perfect") == course.max_scores(LESSON)
    assert statuses(course, known, "perfect") == ({"graded"}, {Status.NEEDS_MANUAL})
    assert known[LESSON, "perfect", LESSON, ""]["status"] == "graded"


#: A bubblewrap without ``--size`` (older than 0.8): the system's or the wheel's, refusing it.
NO_SIZE = """#!/bin/sh
for arg in "$@"; do
    [ "$arg" = --size ] && { echo "bwrap: Unknown option --size" >&2; exit 1; }
done
exec {real} "$@"
"""


@pytest.fixture(scope="module")
def unsized(tmp_path_factory):
    """The filler of :mod:`tests.pipeline.test_bounds` and a perfect submission graded with a bwrap
    without ``--size``: the notebook's tmpfs has no size of its own."""
    from autograder.sandbox.bwrap import find_bwrap
    from tests.pipeline.test_bounds import filler

    probe = Budget.open(BUDGET_MB, MAX_PROCS)
    if probe is None:
        pytest.skip("no writable cgroup: without --size nothing bounds a notebook's tmpfs")
    probe.close()
    fake = tmp_path_factory.mktemp("old-bwrap") / "bwrap"
    fake.write_text(NO_SIZE.replace("{real}", find_bwrap().path))
    fake.chmod(0o755)
    course = ScratchCourse([LESSON])
    with open(course.path / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(f"\nc.SandboxedExecute.budget_mb = {BUDGET_MB}\n")
    course.release()
    course.submit("perfect", LESSON, submission(LESSON))
    course.submit("filler", LESSON, filler())
    os.environ["DLCOURSE_BWRAP"] = str(fake)  # the grading workers' bwrap
    try:
        results = grade_class(course.path, [(s, LESSON) for s in ("filler", "perfect")],
                              workers=2, progress=False, db=course.db_url)
    finally:
        del os.environ["DLCOURSE_BWRAP"]
    yield course, results, status.load(course.db_url)
    course.cleanup()


@pytest.mark.slow
def test_without_size_the_memory_budget_bounds_the_disk(bwrap, unsized):
    """A bwrap without ``--size``: the filler's tmpfs fills the notebook's memory cgroup, and it
    stops over its memory budget; the perfect submission beside it keeps full marks."""
    course, results, known = unsized
    assert all(r.success for r in results), [r.message for r in results]
    row = known[LESSON, "filler", LESSON, ""]
    assert row["status"] == "crashed (memory)", row
    assert f"{BUDGET_MB} MiB를 넘어" in row["message"], row
    assert course.scores(LESSON, "perfect") == course.max_scores(LESSON)
    assert statuses(course, known, "perfect") == ({"graded"}, {Status.NEEDS_MANUAL})
    assert known[LESSON, "perfect", LESSON, ""]["status"] == "graded"
