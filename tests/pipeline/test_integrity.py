"""Autograder integrity: malicious and broken submissions graded through the real pipeline.

One scratch course grades every case of :func:`build_cases` in one ``grade_class`` call (after a
first round in which some students hand in the reference answers, to prove that no older grade
survives a newer submission); the tests read the gradebook, the status table, the CSV rows and
the feedback. The kernel-side code of the attacks lives in ``tests/submissions/``.

Issue items proven here (see each test's docstring): 1–11 (12, student-side validate, is elsewhere).

Debugging: ``INTEGRITY_ONLY=reference,run-exit`` grades only those students;
``INTEGRITY_REUSE=/some/folder`` grades once into that folder and reuses the results afterwards.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from filelock import FileLock
from nbgrader.api import Gradebook

from autograder import ROOT
from autograder.authoring.mistakes import expected_scores, load_mistakes
from autograder.grade.pool import cause, grade_class
from autograder.grade.scratch import ScratchCourse, reference_answers, release_notebook, submission
from autograder.pipeline import status
from autograder.pipeline.export import rows as export_rows
from autograder.pipeline.preprocessors import SKIPPED
from dlcourse.submission import SKIP_TAG, SOLUTION_REGION, WRITTEN_MESSAGE, is_written
from tests.conftest import session_folder
from tests.support.integrity_helpers import (
    OLD_NBFORMAT,
    SUBMISSIONS,
    Case,
    answer_ids,
    attack,
    delete_tests,
    duplicate_answers,
    duplicate_ids,
    edit_tests,
    exit_first,
    extra_cells,
    fake_readonly,
    grade_ids,
    hidden_lines,
    html_text,
    huge,
    keep_before,
    require_bwrap,
    retype_tests,
    reverse_cells,
    runtime,
    set_points,
    tamper,
    with_stderr,
    wrong,
)
from tests.support.markdown_render import feedback_problems

LESSON = "01_neuron"
WORKERS = 2
# Small limits so the loops end quickly, with room for the setup cell (torch, matplotlib) on a
# busy 2-core machine: with every kernel on one thread it takes ~5 s there, the whole notebook
# ~10 s (up to 20 s with more kernels than cores).
CELL_TIMEOUT, NOTEBOOK_TIMEOUT = 30, 50
CONFIG = f"""
c.Execute.timeout = {CELL_TIMEOUT}
c.SandboxedExecute.notebook_timeout = {NOTEBOOK_TIMEOUT}
c.SandboxedExecute.memory_mb = 2048
"""
ATTACKS = ["cheat_allclose", "cheat_testing", "cheat_check_api", "cheat_builtins",
           "cheat_traceback", "cheat_always_yes", "cheat_frame", "cheat_fake_output",
           "escape_read_solutions", "escape_read_others", "escape_write", "escape_network",
           "leak_hidden"]

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------- the cases


def build_cases(course: ScratchCourse, port: int) -> list[Case]:
    L = LESSON
    maxes = course.max_scores(L)
    full, zero = expected_scores(maxes, None), expected_scores(maxes, list(maxes))
    ref, release = submission(L), release_notebook(L)
    stubs = {g: c.source for g, c in
             ((c.metadata.nbgrader["grade_id"], c) for c in release.cells
              if c.metadata.get("nbgrader", {}).get("solution"))}
    last = answer_ids(L)[-1]
    survivors = keep_before(L, last, maxes)
    mistakes = load_mistakes(L)
    subs = {"course": str(course.path), "root": str(ROOT), "lesson": L, "victim": "reference",
            "port": port}
    text = nbformat.writes(ref)

    def stopped(kind):  # the cells before the stop keep their result; the rest are "not run"
        return {g: ("graded" if g in survivors and survivors[g] else "not run") for g in maxes}

    cases = [
        # 1. the baseline
        Case("reference", "1", ref, full),
        Case("untouched", "1", release, zero),
        Case("wrong", "1", wrong(L), zero),
        Case("last-stubbed", "1", submission(L, {last: stubs[last]}), survivors),
        # 2. edited locked cells, points, cell types, duplicated ids
        Case("edit-tests", "2", tamper(release, lambda nb: edit_tests(nb, 'print("통과 (OK)")')),
             zero),
        Case("edit-tests-ref", "2", tamper(ref, lambda nb: edit_tests(nb, "assert False")), full),
        Case("edit-readonly", "2", tamper(release, fake_readonly), zero),
        Case("points-wrong", "2", tamper(release, lambda nb: set_points(nb, 1000)), zero),
        Case("points-ref", "2", tamper(ref, lambda nb: set_points(nb, 1000)), full),
        Case("retype-wrong", "2", tamper(release, lambda nb: retype_tests(nb, "markdown")), zero),
        Case("retype-ref", "2", tamper(ref, lambda nb: retype_tests(nb, "raw")), full),
        Case("duplicate-ids", "2", tamper(release, duplicate_ids), zero),
        # A copied answer cell runs in the student's order (a split cell does too): the stub
        # pasted below each answer redefines it, as Validate shows the student.
        Case("duplicate-answers", "2", tamper(ref, lambda nb: duplicate_answers(nb, stubs)), zero),
        # 3. deleted, reordered, extra cells
        Case("deleted-tests", "3", tamper(release, delete_tests), zero),
        Case("deleted-tests-ref", "3", tamper(ref, delete_tests), full),
        Case("reordered", "3", tamper(ref, reverse_cells), full),
        Case("extra-cells", "3", tamper(ref, extra_cells), full),
        # Every cell the student wrote runs, in the student's order: a first cell that ends the
        # kernel leaves every test cell not run (Validate says the same).
        Case("extra-cell-exit", "3", tamper(ref, exit_first), zero, "crashed",
             {g: "not run" for g in maxes}),
        # 4. files
        Case("missing", "4", None, zero, "missing", earlier=True, note=("missing", f"{L}.ipynb")),
        Case("missing-new", "4", None, zero, "missing", note=("missing", f"{L}.ipynb")),
        # A lone notebook under another name is graded, and the rename is named.
        Case("renamed", "4", ref, full, notebook_name=f"{L}-final.ipynb",
             note=("renamed notebook graded", f"{L}-final.ipynb")),
        Case("duplicated", "4", ref, full, files={f"{L} (1).ipynb": nbformat.writes(release)
                                                  .encode()},
             note=("extra files", f"{L} (1).ipynb")),
        Case("extra-files", "4", ref, full,
             files={"notes.txt": "메모".encode(), "helper.py": b"X = 1\n",
                    "dlcourse/__init__.py": b"", "dlcourse/check.py":
                    (SUBMISSIONS / "extra_dlcourse_check.py.tmpl").read_bytes()},
             note=("extra files", "notes.txt")),
        # nbgrader itself fails (an unreadable timestamp.txt from the collect step): 0 with
        # "grader error" and nbgrader's reason for the instructor, never an older grade
        Case("bad-timestamp", "4", ref, zero, "grader error",
             files={"timestamp.txt": b"the day before the deadline"}, earlier=True,
             note=("timestamp",)),
        Case("extra-files-wrong", "4", wrong(L), zero,
             files={"dlcourse/__init__.py": b"", "dlcourse/check.py":
                    (SUBMISSIONS / "extra_dlcourse_check.py.tmpl").read_bytes()},
             note=("extra files",)),
        # 5. unreadable files
        Case("invalid-json", "5", text[: len(text) // 2].encode(), zero, "invalid json",
             earlier=True),
        Case("empty", "5", b"", zero, "empty"),
        Case("old-nbformat", "5", OLD_NBFORMAT, zero, "old nbformat"),
        Case("not-utf8", "5", text.encode("utf-16"), zero, "not utf-8"),
        Case("huge", "5", lambda: huge(ref).encode(), zero, "too large"),
        # 6. the kernel dies, loops or eats memory
        Case("run-exit", "6", runtime(L, "run_exit"), survivors, "crashed", stopped("crashed"),
             earlier=True),
        Case("run-segfault", "6", runtime(L, "run_segfault"), survivors, "crashed",
             stopped("crashed")),
        Case("run-loop", "6", runtime(L, "run_loop"), survivors, "timed out",
             stopped("timed out")),
        Case("run-loop-swallow", "6", runtime(L, "run_loop_swallow"), survivors, "timed out",
             stopped("timed out"), earlier=True),
        Case("run-memory", "6", runtime(L, "run_memory"), survivors, "graded"),
        Case("run-flood", "6", runtime(L, "run_flood"), survivors),
        # 9. stderr
        Case("stderr", "9", with_stderr(L), full),
        # Cells that only show (skip-at-grading) are not run; one the student changed runs.
        Case("edited-demo", "skip", tamper(ref, edit_first_skipped), full),
    ]
    # 7, 8, 10: attacks in the kernel, every answer wrong: none may earn a point.
    for name in ATTACKS:
        item = "8" if name.startswith("escape") else "10" if name.startswith("leak") else "7"
        cases.append(Case(name.replace("_", "-"), item, attack(L, name, subs), zero,
                          earlier=name == "cheat_allclose"))
    if mistakes:
        m = mistakes[0]
        cases.append(Case("partial", "1", submission(L, m.answers), expected_scores(maxes, m.fails)))
    only = os.environ.get("INTEGRITY_ONLY")  # debugging: a comma-separated list of students
    if only:
        cases = [c for c in cases if c.student in only.split(",")]
    return cases


#: What the student in the ``edited-demo`` case adds to the first cell tagged skip-at-grading.
EDITED_DEMO = 'print("edited-demo ran")\n'


def edit_first_skipped(nb) -> None:
    next(c for c in nb.cells if SKIP_TAG in c.metadata.get("tags", [])).source += EDITED_DEMO


def submit(course: ScratchCourse, case: Case) -> None:
    nb = case.nb() if callable(case.nb) else case.nb
    path = course.submit(case.student, LESSON, nb)
    if case.notebook_name:
        path.rename(path.with_name(case.notebook_name))
    for rel, data in case.files.items():
        dest = path.parent / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


class Listener:
    """A TCP server on the grader's loopback, counting connections (item 8: no network)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def snapshot(db_url: str) -> dict:
    """Everything grading decides, without timestamps: scores, manual flags and statuses."""
    out = {}
    with Gradebook(db_url) as gb:
        for a in gb.assignments:
            for s in gb.students:
                try:
                    nb = gb.find_submission_notebook(a.name, a.name, s.id)
                except Exception:
                    continue
                for g in nb.grades:
                    out[f"{s.id}/{g.name}"] = [g.auto_score, g.manual_score,
                                               g.needs_manual_grade]
    for key, row in status.load(db_url).items():
        out["status:" + "/".join(key)] = [row["status"], row["message"]]
    return out


def _grade_all(shared: Path) -> dict:
    course = ScratchCourse([LESSON], path=shared / "course")
    with open(course.path / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(CONFIG)
    course.release()
    listener = Listener()
    cases = build_cases(course, listener.port)
    # The graders' scratch folders (kernel sockets, working copies) go here, to be counted.
    scratch = shared / "tmp"
    scratch.mkdir(exist_ok=True)
    t0 = time.monotonic()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TMPDIR", str(scratch))
        # Round 1: some students first hand in the reference answers (full marks) ...
        first = [c for c in cases if c.earlier]
        for c in first:
            course.submit(c.student, LESSON, submission(LESSON))
        first_results = grade_class(course.path, [(c.student, LESSON) for c in first],
                                    workers=WORKERS, progress=False)
        earlier = {c.student: course.scores(LESSON, c.student) for c in first}
        course.nbgrader("generate_feedback", "*", "--force")  # pages of the older grades
        first_status = status.load(course.db_url)
        # What round 1 said of each student, for the assertion message when it went wrong.
        earlier_why = {r.student: [r.success, r.message, round(r.seconds, 1),
                                   first_status.get((LESSON, r.student, LESSON, ""))]
                       for r in first_results}
        # ... round 2: everybody hands in their case; one batch.
        for c in cases:
            submit(course, c)
        submitted = {str(p.relative_to(course.path)): p.read_bytes()
                     for p in (course.path / "submitted").rglob("*") if p.is_file()}
        results = grade_class(course.path, [(c.student, LESSON) for c in cases],
                              workers=WORKERS, progress=False)
    seconds = time.monotonic() - t0
    fb = course.nbgrader("generate_feedback", "*", "--force", check=False)
    with Gradebook(course.db_url) as gb:
        csv_rows = export_rows(gb, course.path)
    return {
        "path": str(course.path), "db_url": course.db_url, "seconds": seconds,
        "maxes": course.max_scores(LESSON),
        "earlier": earlier,
        "earlier_why": earlier_why,
        "scores": {c.student: course.scores(LESSON, c.student) for c in cases},
        "results": {r.student: [r.success, r.message, r.seconds] for r in results},
        "connections": listener.connections,
        "scratch_left": sorted(os.listdir(scratch)),
        "submitted": {k: v.hex() for k, v in submitted.items()
                      if "/reference/" in k or k.startswith("submitted/reference")},
        "feedback_rc": [fb.returncode, fb.stdout[-3000:], fb.stderr[-3000:]],
        "csv": csv_rows,
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every case once per test session (shared by pytest-xdist workers)."""
    require_bwrap()
    shared = session_folder(tmp_path_factory, "integrity")
    # debugging: INTEGRITY_REUSE=<folder> grades once into that folder and reuses it afterwards
    shared = Path(os.environ.get("INTEGRITY_REUSE") or shared)
    shared.mkdir(parents=True, exist_ok=True)
    done = shared / "graded.json"
    failed = shared / "failed.txt"
    with FileLock(str(shared / "graded.lock")):
        if not done.exists() and not failed.exists():
            try:
                done.write_text(json.dumps(_grade_all(shared), default=str), encoding="utf-8")
            except BaseException:
                failed.write_text(traceback.format_exc(), encoding="utf-8")
                raise
    if failed.exists():
        pytest.fail(f"grading the cases failed (once for all workers):\n{failed.read_text()}")
    data = json.loads(done.read_text(encoding="utf-8"))
    course = ScratchCourse.__new__(ScratchCourse)
    course.path, course.db_url, course.root, course.lessons = (
        Path(data["path"]), data["db_url"], ROOT, [LESSON])
    data["course"] = course
    data["status"] = status.load(course.db_url)
    data["cases"] = {c.student: c for c in build_cases(course, 1)}
    return data


#: The lesson's written answers (graded by hand): ``{grade_id: points}``.
WRITTEN = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"]
           for c in nbformat.read(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb",
                                  as_version=4).cells if is_written(c)}


def _check_case(graded, student: str) -> None:
    case = graded["cases"][student]
    got = graded["scores"][student]
    assert got == case.scores, f"{student}: scores {got}, expected {case.scores}"
    st = graded["status"]
    nb_row = st.get((LESSON, student, LESSON, ""))
    assert nb_row is not None, f"{student}: no notebook status recorded"
    assert nb_row["status"] == case.status, (student, nb_row)
    want_cells = case.cell_status or {g: case.status for g in case.scores}
    for g, want in want_cells.items():
        row = st.get((LESSON, student, LESSON, g))
        assert row is not None, f"{student}/{g}: no status recorded"
        if want is not None:
            assert row["status"] == want, (student, g, row)
        assert row["message"], f"{student}/{g}: a status without a message"
    # the CSV export agrees, with a status for every number and no test cell left to grade by
    # hand; a written answer waits for a person (no score) or, empty, scores 0
    csv = [r for r in graded["csv"] if r["student"] == student]
    tests = [r for r in csv if r["cell"] not in WRITTEN]
    assert {r["cell"]: r["score"] for r in tests if r["cell"] != "(total)"} == case.scores
    total = next(r for r in csv if r["cell"] == "(total)")
    assert total["score"] == sum(case.scores.values())
    assert total["max_score"] == sum(graded["maxes"].values()) + sum(WRITTEN.values())
    assert total["status"] == case.status
    assert all(r["status"] != "needs manual grading" for r in tests)
    written = {r["cell"]: r for r in csv if r["cell"] in WRITTEN}
    assert sorted(written) == sorted(WRITTEN), csv
    for row in written.values():
        if row["status"] == "needs manual grading":
            assert row["score"] is None and row["message"] == WRITTEN_MESSAGE, row
        else:
            assert row["score"] == 0.0 and row["status"] in ("graded", case.status), row
    # the batch went on and said something clear about files or why nbgrader failed
    success, message, _ = graded["results"][student]
    assert success == (case.status != "grader error"), f"{student}: {success}: {message}"
    for word in case.note:
        assert word in message and student in message, (student, message)


_ITEMS: dict[str, list[str]] = {}


def _students(item: str) -> list[str]:
    """The students of one issue item (for parametrize; built once at collection)."""
    if not _ITEMS:
        course = ScratchCourse.__new__(ScratchCourse)
        course.path = Path("/nonexistent")
        maxes = {g: 1.0 for g in grade_ids(LESSON)}
        course.max_scores = lambda lesson: maxes
        for c in build_cases(course, 1):
            _ITEMS.setdefault(c.item, []).append(c.student)
    return _ITEMS.get(item, [])


# --------------------------------------------------------------------------- 1 – 7, 9


@pytest.mark.parametrize("student", _students("1"))
def test_baseline_scores(graded, student):
    """Item 1: untouched release 0, reference full marks, partly right exactly its points."""
    _check_case(graded, student)


@pytest.mark.parametrize("student", _students("2"))
def test_tampered_locked_cells_gain_nothing(graded, student):
    """Item 2: edited test/read-only cells, points, cell types, duplicated grade ids."""
    _check_case(graded, student)
    assert graded["maxes"] == graded["course"].max_scores(LESSON)


@pytest.mark.parametrize("student", _students("3"))
def test_deleted_reordered_extra_cells(graded, student):
    """Item 3: deleted test cells are restored, reordered and extra cells ignored."""
    _check_case(graded, student)


def _sources(path: Path) -> str:
    """The cell sources of a handed-in notebook ("" when it cannot be read as one)."""
    try:
        return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    except Exception:
        return ""


def test_feedback_shows_no_rubric_or_model_answer(graded):
    """No text of a written answer's rubric reaches any feedback page, nor text of its model
    answer that the student did not hand in themselves (the page's text: markdown rendered)."""
    regions = [line for c in nbformat.read(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb",
                                           as_version=4).cells if is_written(c)
               for region in SOLUTION_REGION.findall(c.source)
               for line in region.splitlines()[1:-1]]
    secrets = {part.strip() for line in regions for part in re.split(r"\*\*|\$[^$]*\$|`", line)
               if len(part.strip()) > 12}
    assert len(secrets) > 5, secrets
    pages = sorted((graded["course"].path / "feedback").glob(f"*/{LESSON}/{LESSON}.html"))
    assert len(pages) > 10
    for page in pages:
        text = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text()
        own = _sources(graded["course"].path / "submitted" / page.parts[-3] / LESSON /
                       f"{LESSON}.ipynb")
        leaked = [s for s in secrets if s in text and s not in own]
        assert not leaked, (page, leaked)


def test_extra_graded_cell_is_not_in_gradebook(graded):
    """Item 3: an extra cell claiming to be graded (``bonus``, 50 points) is not graded."""
    with Gradebook(graded["db_url"]) as gb:
        nb = gb.find_submission_notebook(LESSON, LESSON, "extra-cells")
        assert sorted(g.name for g in nb.grades if g.cell_type == "code"
                      and g.max_score) == sorted(graded["maxes"])
        assert nb.max_score == sum(graded["maxes"].values()) + sum(WRITTEN.values())


@pytest.mark.parametrize("student", _students("4"))
def test_file_problems(graded, student):
    """Item 4: renamed, missing, duplicated notebooks and extra files: a clear message naming
    the student and the notebook, a missing notebook scores 0 with that status; a file that
    makes nbgrader itself fail scores 0 as a grader error, with nbgrader's reason."""
    _check_case(graded, student)


@pytest.mark.parametrize("student", _students("5"))
def test_unreadable_files(graded, student):
    """Item 5: invalid JSON, empty, nbformat 3, UTF-16, 100 MB: 0 with the status, a message."""
    _check_case(graded, student)
    row = graded["status"][(LESSON, student, LESSON, "")]
    assert "(" in row["message"] and any("\uac00" <= ch <= "\ud7a3" for ch in row["message"])


@pytest.mark.parametrize("student", _students("6"))
def test_runtime_failures(graded, student):
    """Item 6: dead kernel, segfault, loops (also ignoring Ctrl-C), memory, 100 MB of output:
    bounded, the cells before keep their points, an explicit status, the batch goes on."""
    _check_case(graded, student)
    seconds = graded["status"][(LESSON, student, LESSON, "")]["seconds"]
    assert seconds is not None and seconds < NOTEBOOK_TIMEOUT + 15, seconds


def test_no_older_grade_survives(graded):
    """Item 6 (and 4, 5): students graded with full marks before hand in something that dies,
    loops, cannot be read, is missing or makes nbgrader fail: only the new result counts."""
    assert graded["earlier"], "no students were graded twice"
    full = expected_scores(graded["maxes"], None)
    for student, before in graded["earlier"].items():
        assert before == full, (student, before, graded["earlier_why"][student])
        assert graded["scores"][student] == graded["cases"][student].scores, student
        if graded["cases"][student].status in ("missing", "grader error"):
            # nbgrader graded nothing: the older autograded notebook and feedback page are gone
            for step in ("autograded", "feedback"):
                assert not (graded["course"].path / step / student / LESSON).exists(), (
                    student, step)


def test_grader_error_names_its_cause(graded):
    """Item 4: when nbgrader itself fails, ``./course grade`` tells the instructor why (the root
    cause in nbgrader's log); the student's status says only that grading failed."""
    _, message, _ = graded["results"]["bad-timestamp"]
    assert "the day before the deadline" in cause(message), message
    row = graded["status"][(LESSON, "bad-timestamp", LESSON, "")]
    assert "grader error" in row["message"] and "deadline" not in row["message"], row


@pytest.mark.parametrize("student", _students("7"))
def test_kernel_cheats_earn_nothing(graded, student):
    """Item 7: replacing or wrapping the comparison machinery, always-equal objects, frame
    inspection, fake success output: 0 points."""
    _check_case(graded, student)


def test_stderr_does_not_cost_points(graded):
    """Item 9: torch's warnings and other stderr output beside a right answer: full marks."""
    _check_case(graded, "stderr")


# --------------------------------------------------------------------------- 8


@pytest.mark.parametrize("student", _students("8"))
def test_sandbox_escapes_fail(graded, student):
    """Item 8: reading solutions/ and hidden tests, other students' work, writing the gradebook
    and others' results, the network: every attempt fails (its success would have been
    rewarded with the reference answer), and nothing changed on the grader's side."""
    _check_case(graded, student)


def test_sandbox_left_no_trace(graded):
    """Item 8, from the grader's side: the victim's files and grades, the gradebook, the course
    folders and the grader's state are unchanged; nobody connected to the grader's loopback;
    no kernel left its scratch folder (sockets, working copy) behind."""
    course = graded["course"]
    assert graded["connections"] == 0
    assert graded["scratch_left"] == [], "kernels' scratch folders left behind"
    for rel, data in graded["submitted"].items():
        assert (course.path / rel).read_bytes() == bytes.fromhex(data), rel
    pwned = [p for folder in (course.path, ROOT / ".grading")
             for p in folder.rglob("pwned*")]
    assert pwned == []
    assert graded["scores"]["reference"] == expected_scores(graded["maxes"], None)
    con = sqlite3.connect(course.path / "gradebook.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    autograded = course.path / "autograded" / "reference" / LESSON / f"{LESSON}.ipynb"
    nbformat.validate(nbformat.read(autograded, as_version=4))


# --------------------------------------------------------------------------- 10


def _feedback(graded, student) -> str:
    path = graded["course"].path / "feedback" / student / LESSON / f"{LESSON}.html"
    assert path.exists(), f"no feedback for {student}: {graded['feedback_rc']}"
    return html_text(path)


def test_cells_skipped_at_grading_say_so(graded):
    """Issue 26: the cells the instructor tagged skip-at-grading are not run, and the graded
    notebook and the feedback say so in each of them (nothing silent); a tagged cell the
    student changed runs as the student wrote it. Scores are full marks either way."""
    source = nbformat.read(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    tagged = [c.source for c in source.cells if SKIP_TAG in c.metadata.get("tags", [])]
    assert len(tagged) >= 2, "the lesson has no cells tagged skip-at-grading"
    note = SKIPPED.strip()
    for student, runs in (("reference", 0), ("edited-demo", 1)):
        _check_case(graded, student)
        path = graded["course"].path / "autograded" / student / LESSON / f"{LESSON}.ipynb"
        graded_nb = nbformat.read(path, as_version=4)
        notes = [c for c in graded_nb.cells if c.cell_type == "code"
                 and [o.get("text") for o in c.outputs] == [SKIPPED]]
        assert len(notes) == len(tagged) - runs, (student, len(notes), len(tagged))
        text = _feedback(graded, student)
        assert text.count(note) == len(tagged) - runs, (student, text.count(note))
        assert ("edited-demo ran" in text) == bool(runs), student


def test_feedback_explains_failures(graded):
    """Item 10: the feedback names each failed check and why, in Korean with the English key
    phrase."""
    for student in ("untouched", "wrong", "partial", "run-exit", "run-loop"):
        if student not in graded["cases"]:
            continue
        text = _feedback(graded, student)
        for g, score in graded["scores"][student].items():
            row = graded["status"][(LESSON, student, LESSON, g)]
            if score == 0:
                assert row["message"] in text, (student, g, row["message"])
                msg = row["message"]
                assert any("\uac00" <= ch <= "\ud7a3" for ch in msg), msg
                assert "(" in msg and any(ch.isascii() and ch.isalpha() for ch in msg), msg


def test_feedback_reveals_no_hidden_tests(graded):
    """Item 10: no feedback and no message shows hidden test code or a hidden expected value,
    whatever the student's code printed or raised (``leak-hidden`` tries)."""
    _check_case(graded, "leak-hidden")
    lines = hidden_lines(LESSON, ROOT)
    assert lines, "the lesson has no hidden tests?"
    feedback = graded["course"].path / "feedback"
    pages = list(feedback.rglob("*.html"))
    assert len(pages) >= len([c for c in graded["cases"].values() if c.status == "graded"])
    for page in pages:
        text = html_text(page)
        assert "BEGIN HIDDEN TESTS" not in text, page
        for line in lines:
            assert line not in text, (page, line)
    for row in graded["csv"]:
        for line in lines:
            assert line not in (row["message"] or ""), (row, line)
    for row in graded["status"].values():
        if "숨은 검사(hidden test)" in row["message"]:
            # no expected value for hidden checks ("기대 (숨김)": expected (hidden) is fine)
            assert "기대" not in row["message"].replace("기대 (숨김)", ""), row


# --------------------------------------------------------------------------- 11


def _kill_midway_and_regrade(tmp: Path, pairs_cases) -> tuple[dict, dict, dict, str]:
    course = ScratchCourse([LESSON], path=tmp / "course")
    with open(course.path / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(CONFIG)
    course.release()
    for student, nb in pairs_cases.items():
        course.submit(student, LESSON, nb)
    pairs = [(s, LESSON) for s in pairs_cases]
    grade_class(course.path, pairs, workers=WORKERS, progress=False)
    first = snapshot(course.db_url)
    grade_class(course.path, pairs, workers=WORKERS, progress=False)
    again = snapshot(course.db_url)
    # A grading run killed (SIGKILL, the whole process group) while it writes the gradebook.
    code = ("import sys; from pathlib import Path; from autograder.grade.pool import grade_class; "
            f"grade_class(Path({str(course.path)!r}), {pairs!r}, workers={WORKERS}, "
            "progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = {k: v for k, v in status.load(course.db_url).items()}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        now = status.load(course.db_url)
        if any(now[k]["updated"] != start[k]["updated"] for k in now if k in start):
            break  # at least one notebook regraded, others in flight
        time.sleep(0.2)
    killed_early = proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(course.path / "gradebook.db")
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
    assert killed_early, "the grading run ended before it could be killed"
    grade_class(course.path, pairs, workers=WORKERS, progress=False)
    return first, again, snapshot(course.db_url), integrity


def test_regrade_idempotent_and_kill_safe(tmp_path):
    """Item 11: regrading gives the same gradebook; a run killed with SIGKILL midway and started
    again ends with the gradebook of an uninterrupted run; the gradebook is never corrupt."""
    require_bwrap()
    # Full marks, and a kernel that dies midway (the cells before it keep their points).
    cases = {"reference": submission(LESSON), "crash": runtime(LESSON, "run_exit")}
    first, again, after_kill, integrity = _kill_midway_and_regrade(tmp_path, cases)
    assert integrity == "ok"
    assert again == first
    assert after_kill == first
    assert any(v[0] for k, v in first.items() if k.startswith("reference/"))


def test_answers_known(graded):
    """The reference answers in use are the lesson's (guards the case construction)."""
    assert set(reference_answers(LESSON)) == set(answer_ids(LESSON)) | set(WRITTEN)
    assert graded["seconds"] > 0


def test_feedback_pages_render(graded):
    """Issue 28: every feedback page of the grading shows its markdown cells rendered under
    CommonMark rules (no literal ``**`` or ``__``, no pipe rows left out of a table)."""
    pages = sorted((graded["course"].path / "feedback").rglob("*.html"))
    assert pages, f"no feedback pages: {graded['feedback_rc']}"
    rendered = [page for page in pages
                if BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select(".text_cell_render")]
    assert len(rendered) > len(pages) // 2, "the selector finds no markdown cell in most pages"
    problems = [p for page in pages
                for p in feedback_problems(page.read_text(encoding="utf-8"), page.parent.parent.name)]
    assert not problems, "\n".join(problems[:40])
