"""One submission cannot take the run down (issue 27, item 5): a notebook that floods its
outputs keeps its grade and a bounded autograded notebook and feedback page, a notebook that
fills its disk stops over its own disk budget, a notebook whose grading worker dies fails
alone, and the classmates graded beside them are graded as if they were not there, through
``./course grade``.

The course copy is checkout B of :mod:`tests.environment.test_fresh_machine`, with small output and disk
bounds and non-default limits in its ``nbgrader_config.py`` (the flood and the filler stay
quick; the preflight must print these limits).
"""

import csv
import os
import signal
import threading
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.mistakes import expected_scores, max_scores
from autograder.grade.pool import WORKER_DIED
from autograder.grade.scratch import submission
from autograder.pipeline.preprocessors import OVER_BUDGET, TRUNCATED
from autograder.sandbox.backends import Limits
from autograder.sandbox.budget import Budget, describe
from autograder.sandbox.bwrap import disk_bound
from dlcourse.submission import CELL_TIMEOUT, NOTEBOOK_TIMEOUT, is_test_cell, role
from tests.conftest import once_per_session
from tests.environment.test_fresh_machine import LESSON, _copy_course, _course, _scores
from tests.support.integrity_helpers import require_bwrap

pytestmark = pytest.mark.slow

PER_OUTPUT, PER_NOTEBOOK = 20_000, 100_000  # bytes, configured below
#: Limits other than the defaults, configured below: the preflight checks and prints these.
LIMITS = {"budget_mb": 3000, "memory_mb": 3500, "file_mb": 200, "max_procs": 200,
          "disk_mb": 64}
FLOOD_MB = 40  # what the flooding cell prints, in one line and in many

FLOOD = f'''import sys
sys.stdout.write("x" * ({FLOOD_MB} * 2**19))
for _ in range(2000):
    print("y" * 10_000)
from IPython.display import HTML, display
display(HTML("<p>" + "z" * 2**20 + "</p>"))
'''


#: Floods through outputs a notebook keeps updating: one display updated with ~1 MiB again and
#: again, 500 displays sharing one id updated at once (each update fits one output's bound,
#: all of them not), and a ``clear_output(wait=True)`` progress loop.
UPDATES = {
    "updater": '''from IPython.display import HTML, display, update_display
handle = display("start", display_id=True)
for _ in range(40):
    handle.update(HTML("<p>" + "u" * 2**20 + "</p>"))
for _ in range(500):
    display("a", display_id="shared")
update_display(HTML("<p>" + "v" * 15_000 + "</p>"), display_id="shared")
''',
    "clearer": '''from IPython.display import clear_output
for _ in range(2000):
    clear_output(wait=True)
    print("c" * 10_000)
''',
}


def flood(source: str = FLOOD) -> nbformat.NotebookNode:
    """Correct answers, and a "try it" cell that runs ``source`` (by default one that prints
    ~``2 * FLOOD_MB`` MB)."""
    nb = submission(LESSON)
    cell = next(c for c in nb.cells if c.cell_type == "code" and role(c) == "free")
    cell.source = source
    return nb


#: A "try it" cell that writes files of 64 MiB (under RLIMIT_FSIZE) in 1 MiB blocks until
#: refused: in the kernel's sockets folder (the one folder of the grader's disk bound in the
#: sandbox, named by the kernel's own command line), in its working folder and in /tmp.
#: Prints the errno of each refusal.
FILLER = '''import itertools, os, sys
block = b"x" * 2**20
sockets = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
for n, folder in enumerate((sockets, ".", "/tmp")):
    try:
        for i in itertools.count():
            with open(os.path.join(folder, f"fill{i}.bin"), "wb") as fh:
                for _ in range(64):
                    fh.write(block)
                    fh.flush()
    except OSError as err:
        print(f"refused {n} {err.errno}")
'''


def filler() -> nbformat.NotebookNode:
    nb = submission(LESSON)
    cell = next(c for c in nb.cells if c.cell_type == "code" and role(c) == "free")
    cell.source = FILLER
    return nb


def after_first_free(nb: nbformat.NotebookNode) -> list[str]:
    """The test cells below the first "try it" cell: not run once it stops the notebook (a
    written answer below it is markdown, graded by hand: not a test cell)."""
    free = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and role(c) == "free")
    return [c.metadata.nbgrader["grade_id"] for c in nb.cells[free:] if is_test_cell(c)]


MARK = "kill-my-grader"
#: A "try it" cell whose kernel marks its working folder and waits for the killer.
KILLER = f'open("{MARK}", "w").close()\nimport time\ntime.sleep(120)\n'


def killer() -> nbformat.NotebookNode:
    nb = submission(LESSON)
    cell = next(c for c in nb.cells if c.cell_type == "code" and role(c) == "free")
    cell.source = KILLER
    return nb


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def memory_killer(stop: threading.Event, killed: list[int]) -> None:
    """What a worker's memory limit does (the kernel's OOM killer, a container's limit): kill
    -9 the grading worker process whose kernel's working folder holds :data:`MARK`, each time
    one appears (the grader grades it again alone, and it is killed again)."""
    while not stop.wait(0.2):
        for entry in Path("/proc").iterdir():
            try:
                if not (entry.name.isdigit() and (entry / "cwd" / MARK).exists()):
                    continue
                pid = int(entry.name)
                while pid > 1 and b"multiprocessing.spawn" not in Path(
                        f"/proc/{pid}/cmdline").read_bytes():
                    pid = _parent(pid)
            except OSError:  # gone meanwhile, or not ours
                continue
            if pid > 1 and pid not in killed:
                killed.append(pid)
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Graded once per test session, also when pytest's workers split this module
    (:func:`tests.conftest.once_per_session`)."""
    require_bwrap()
    return once_per_session(tmp_path_factory, "bounds", _grade)


def _grade(tmp: Path):
    dest = _copy_course(tmp / "course")
    with open(dest / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(f"\nc.SandboxedExecute.max_output_bytes = {PER_OUTPUT}\n"
                 f"c.SandboxedExecute.max_outputs_bytes = {PER_NOTEBOOK}\n")
        fh.writelines(f"c.SandboxedExecute.{key} = {value}\n" for key, value in LIMITS.items())
    for student, nb in [("filler", filler()), ("flood", flood()), ("honest", submission(LESSON)),
                        ("killer", killer()), ("zhonest", submission(LESSON)),
                        *((student, flood(source)) for student, source in UPDATES.items())]:
        folder = dest / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{LESSON}.ipynb")
    stop, killed = threading.Event(), []
    watcher = threading.Thread(target=memory_killer, args=(stop, killed), daemon=True)
    watcher.start()
    try:
        proc = _course(dest, "grade", LESSON, "--workers", "2")
    finally:
        stop.set()
        watcher.join()
    return dest, proc, killed


def _totals(dest: Path) -> dict[str, dict]:
    with open(dest / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh) if r["cell"] == "(total)"}


def test_output_flood_is_truncated_and_graded(graded):
    """Both students get full marks and "graded"; the flood's message says its outputs
    were truncated; its autograded notebook and feedback page stay under the bounds (the page
    no bigger than the honest one's plus the notebook's output bound twice over)."""
    dest, proc, _ = graded
    full = expected_scores(max_scores(LESSON), [])
    totals = _totals(dest)
    for student in ("flood", "honest", "zhonest"):
        assert _scores(dest, student) == full, totals[student]
        assert totals[student]["status"] == "graded"
    assert TRUNCATED in totals["flood"]["message"]
    assert TRUNCATED not in totals["honest"]["message"]
    autograded = dest / "autograded" / "flood" / LESSON / f"{LESSON}.ipynb"
    outputs = [o for c in nbformat.read(autograded, as_version=4).cells
               for o in c.get("outputs", [])]
    assert any(TRUNCATED in o.get("text", "") for o in outputs)
    assert sum(len(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(outputs=[o])]))) for o in outputs) < 3 * PER_NOTEBOOK
    page = dest / "feedback" / "flood" / LESSON / f"{LESSON}.html"
    honest = dest / "feedback" / "honest" / LESSON / f"{LESSON}.html"
    assert page.stat().st_size < honest.stat().st_size + 2 * PER_NOTEBOOK
    assert TRUNCATED in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("student", sorted(UPDATES))
def test_updated_and_cleared_outputs_are_bounded_like_a_flood(graded, student):
    """A flood through ``update_display_data`` (``handle.update``, a display id shared by many
    outputs) or a ``clear_output(wait=True)`` loop gets what a plain flood gets: full marks,
    "graded", the truncation message, and an autograded notebook and feedback page within the
    same bounds."""
    dest, proc, _ = graded
    totals = _totals(dest)
    assert _scores(dest, student) == expected_scores(max_scores(LESSON), []), totals[student]
    assert totals[student]["status"] == "graded"
    assert totals[student]["message"] == totals["flood"]["message"]
    assert TRUNCATED in totals[student]["message"]
    autograded = dest / "autograded" / student / LESSON / f"{LESSON}.ipynb"
    assert autograded.stat().st_size < (dest / "autograded" / "honest" / LESSON
                                        / f"{LESSON}.ipynb").stat().st_size + 3 * PER_NOTEBOOK
    page = dest / "feedback" / student / LESSON / f"{LESSON}.html"
    honest = dest / "feedback" / "honest" / LESSON / f"{LESSON}.html"
    assert page.stat().st_size < honest.stat().st_size + 2 * PER_NOTEBOOK
    assert TRUNCATED in page.read_text(encoding="utf-8")


def test_a_killed_worker_fails_only_its_submission(graded):
    """The grading worker of "killer" is killed (twice: in the pool, then graded alone): the
    run finishes with every row in grades.csv, "killer" scores 0 with status "grader error" and
    the worker-died message, and the classmates graded beside it keep full marks."""
    dest, proc, killed = graded
    assert len(killed) == 2, (killed, proc.stdout + proc.stderr)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # a grader error: the instructor acts
    totals = _totals(dest)
    assert set(totals) == {"filler", "flood", "honest", "killer", "zhonest", *UPDATES}, (
        proc.stdout + proc.stderr)
    assert totals["killer"]["status"] == "grader error"
    assert totals["killer"]["message"] == WORKER_DIED
    assert float(totals["killer"]["score"]) == 0
    assert _scores(dest, "killer") == expected_scores(max_scores(LESSON), list(max_scores(LESSON)))
    full = expected_scores(max_scores(LESSON), [])
    for student in ("flood", "honest", "zhonest"):
        assert _scores(dest, student) == full, totals[student]


def test_preflight_prints_the_configured_limits(graded):
    """The preflight's kernel ran under the configured limits, and its line names them."""
    dest, proc, _ = graded
    line = next(x for x in proc.stdout.splitlines() if x.startswith("sandbox: bwrap "))
    want = describe(Limits(**LIMITS))
    probe = Budget.open(LIMITS["budget_mb"], LIMITS["max_procs"])
    if probe is not None:
        probe.close()
    disk = disk_bound(LIMITS["disk_mb"], probe is not None)
    assert line.endswith(f"; limits: {want}; {disk}; {CELL_TIMEOUT} s per cell, "
                         f"{NOTEBOOK_TIMEOUT} s per notebook"), line
    for part in ("RLIMIT_AS 3500 MiB", "RLIMIT_FSIZE 200 MiB", "200 processes",
                 "disk: a 64 MiB tmpfs of its own (bwrap --size)"):
        assert part in line, line
    assert "4096" not in line and "256" not in line, line


def test_a_disk_filling_notebook_stops_over_its_own_disk_budget(graded):
    """The filler cannot write in the sockets folder (EACCES) and fills its own 64 MiB tmpfs
    (ENOSPC), never the grader's disk: it stops there with status "crashed (disk)" and its
    message; the checks above the cell keep their points, those below are not run; the
    classmates graded beside it keep full marks and "graded"."""
    dest, proc, _ = graded
    totals = _totals(dest)
    message = OVER_BUDGET["disk"].format(disk_mb=LIMITS["disk_mb"])
    assert totals["filler"]["status"] == "crashed (disk)", totals["filler"]
    assert message in totals["filler"]["message"], totals["filler"]
    assert "(crashed (disk))" in message and "64 MiB" in message
    nb = filler()
    assert _scores(dest, "filler") == expected_scores(max_scores(LESSON), after_first_free(nb))
    autograded = nbformat.read(dest / "autograded" / "filler" / LESSON / f"{LESSON}.ipynb", 4)
    cell = next(c for c in autograded.cells if c.source == FILLER)
    printed = "".join(o.get("text", "") for o in cell.outputs)
    assert printed == "refused 0 13\nrefused 1 28\nrefused 2 28\n", cell.outputs
    full = expected_scores(max_scores(LESSON), [])
    for student in ("honest", "zhonest"):
        assert _scores(dest, student) == full, totals[student]
        assert totals[student]["status"] == "graded", totals[student]
