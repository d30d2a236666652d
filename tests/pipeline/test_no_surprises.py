"""No surprises for honest students: what Validate says of every visible fact is what the grade
says, and correct work written the way students really write it gets full marks.

One scratch course grades every fixture below in one ``grade_class`` call (the real pipeline:
nbgrader, the rebuild, the sandbox, the verdict); Validate (``dlcourse.validate``) checks the
same files in two worker processes. The tests compare, per test cell, Validate's verdict with
the grader's verdict on the visible facts (kept in the autograded notebook), and assert the
exact scores, statuses and the notes that name what the grader restored, moved or ignored.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from autograder.authoring.mistakes import expected_scores, load_mistakes
from autograder.authoring.mistakes import max_scores as course_max
from autograder.grade.pool import adopt_renamed, grade_class
from autograder.grade.scratch import ScratchCourse, reference_answers, release_notebook, submission
from autograder.pipeline import status
from autograder.pipeline.preprocessors import renamed_from
from dlcourse import grading_env
from dlcourse.grading_env import module_message, syntax_message
from dlcourse.status import Status
from dlcourse.submission import MAX_FILE_BYTES, WRITTEN_MESSAGE, role
from tests.conftest import once_per_session
from tests.environment.test_platforms import interpreter
from tests.pipeline.test_grading_env import JUDGE
from tests.support.integrity_helpers import (
    FIXTURES,
    html_text,
    require_bwrap,
    same_judgement,
    validate_all,
)

pytestmark = pytest.mark.slow

EDITS = FIXTURES / "notebook-edits"
NOT_IMPLEMENTED = "not implemented yet"


# --------------------------------------------------------------------------- fixture kinds


def _code_answer(cell) -> bool:
    """An answer cell of code (the edits below are a coder's; written answers are markdown)."""
    return role(cell) == "answer" and cell.cell_type == "code"


def _answers(nb):
    return [c for c in nb.cells if _code_answer(c)]


def _plain(source: str, cid: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.id = cid
    return cell


def stub_then_answer(lesson: str, answers: dict[str, str] | None = None):
    """Every stub left as it is, the answer typed in a new cell right below it."""
    nb, ref = release_notebook(lesson), {**reference_answers(lesson), **(answers or {})}
    out = []
    for cell in nb.cells:
        out.append(cell)
        if _code_answer(cell):
            out.append(_plain(ref[cell.metadata.nbgrader["grade_id"]], f"new-{cell.id}"))
    nb.cells = out
    return nb


def without_metadata(lesson: str):
    """Every answer re-created as a plain code cell (pasted from another editor)."""
    nb = submission(lesson)
    for i, cell in enumerate(nb.cells):
        if _code_answer(cell):
            nb.cells[i] = _plain(cell.source, f"pasted-{i}")
    return nb


def as_markdown(lesson: str):
    """Every answer cell turned into markdown by accident (the M key), metadata kept."""
    nb = submission(lesson)
    for i, cell in enumerate(nb.cells):
        if _code_answer(cell):
            md = nbformat.v4.new_markdown_cell(cell.source)
            md.metadata, md.id = cell.metadata, cell.id
            nb.cells[i] = md
    return nb


def pasted_picture(lesson: str):
    """The reference answers and a note with a picture pasted into it (JupyterLab stores it as a
    cell attachment, ``![image.png](attachment:image.png)``)."""
    nb = submission(lesson)
    note = nbformat.v4.new_markdown_cell("제 메모: ![image.png](attachment:image.png)")
    note.attachments = {"image.png": {"image/png": PNG_1PX}}
    nb.cells.insert(1, note)
    return nb


#: A 1×1 PNG, base64 (what a pasted screenshot is, smaller).
PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
           "AABJRU5ErkJggg==")


def _halves(source: str) -> tuple[str, str]:
    """Where a student would split an answer cell: before its second top-level definition, or
    after an added import when it has one definition."""
    starts = [m.start() for m in re.finditer(r"^(?:def|class|@)\S*", source, re.M)]
    if len(starts) >= 2:
        return source[:starts[1]], source[starts[1]:]
    return "import torch\n", source


def split_answers(lesson: str):
    """Every answer cell split in two in JupyterLab (both halves keep the nbgrader metadata)."""
    nb = submission(lesson)
    out = []
    for cell in nb.cells:
        if _code_answer(cell):
            first, second = copy.deepcopy(cell), copy.deepcopy(cell)
            first.source, second.source = _halves(cell.source)
            second.id = f"{cell.id}-split"
            out += [first, second]
        else:
            out.append(cell)
    nb.cells = out
    return nb


def other_kernel(lesson: str):
    """Saved from another environment: a kernel that is not installed, odd language info."""
    nb = submission(lesson)
    nb.metadata["kernelspec"] = {"name": "conda-env-dl-py", "display_name": "Python (dl)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": 3}
    return nb


def colab_copy(lesson: str):
    """Saved by an editor that keeps neither nbgrader metadata nor cell ids (Colab's "Save a
    copy" names it ``Copy of <lesson>.ipynb``)."""
    nb = submission(lesson)
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 4
    for cell in data["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)
    return json.dumps(data, ensure_ascii=False).encode()


def pasted_copy(lesson: str, code: str):
    """The reference answers, and at the very end a pasted copy of the first answer cell (its
    nbgrader metadata kept, as copy and paste does) holding an experiment."""
    nb = submission(lesson)
    first = copy.deepcopy(_answers(nb)[0])
    first.id, first.source = "pasted-at-the-end", code
    nb.cells.append(first)
    return nb


def big_outputs(lesson: str, megabytes: int = 23) -> bytes:
    """Correct answers with ``megabytes`` MB of saved plot output (a PNG) in a "try it" cell."""
    nb = submission(lesson)
    cell = next(c for c in nb.cells if c.cell_type == "code" and role(c) == "free")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "image/png": "iVBORw0KGgo" + "A" * (megabytes * 2**20), "text/plain": "<Figure>"})]
    return nbformat.writes(nb).encode()


# What students on Python 3.12+ (Colab: 3.13) write and the grader's Python 3.11 refuses (PEP 701,
# PEP 695), and a package only the student installed (tests/fixtures/student-site/).
NEWER_FSTRING = '''def predict(X: torch.Tensor, w: torch.Tensor, b, threshold: float = 0.5) -> torch.Tensor:
    """X: (N, D), w: (D,), b: float or 0-dim tensor → (N,) torch.long, 1 where p >= threshold."""
    limits = {"low": 0.0, "high": 1.0}
    assert limits["low"] <= threshold <= limits["high"], f"threshold {threshold} > {limits["high"]}"
    return (neuron_forward(X, w, b) >= threshold).long()
'''
NEWER_GENERIC = '''def neuron_forward[B: (float, torch.Tensor)](X: torch.Tensor, w: torch.Tensor, b: B) -> torch.Tensor:
    """X: (N, D), w: (D,), b: float or 0-dim tensor → (N,) probabilities sigmoid(X w + b)."""
    return sigmoid(X @ w + b)
'''
STUDENT_SITE = FIXTURES / "student-site"
OWN_PACKAGE = '''from fastsigmoid import threshold_at


def predict(X: torch.Tensor, w: torch.Tensor, b, threshold: float = 0.5) -> torch.Tensor:
    """X: (N, D), w: (D,), b: float or 0-dim tensor → (N,) torch.long, 1 where p >= threshold."""
    return threshold_at(neuron_forward(X, w, b), threshold)
'''
PREDICT_CELLS = ["check_predict", "check_predict_threshold"]
FORWARD_CELLS = ["check_forward_values", "check_forward_shapes", *PREDICT_CELLS]


@dataclass
class Fixture:
    student: str
    lesson: str
    nb: object  # a notebook or bytes
    fails: list[str] | None = None  # None: full marks; else the test cells that score 0
    notes: tuple[str, ...] = ()  # phrases the notes (CSV, feedback, Validate) must contain
    filename: str | None = None  # handed in under another name
    warns: bool = False  # Validate warns about the file's size
    not_implemented: bool = False  # the student really left a stub
    files: dict[str, bytes] | None = None  # handed in beside the notebook
    says: str | None = None  # words every failing cell's message must contain


def fixtures() -> list[Fixture]:
    mistake = load_mistakes("01_neuron")[0]
    return [
        Fixture("case-new-cell", "01_neuron",
                (EDITS / "answer-in-new-cell-below-stub.ipynb").read_bytes()),
        Fixture("case-helper", "01_neuron",
                (EDITS / "helper-in-inserted-cell.ipynb").read_bytes()),
        Fixture("case-markdown", "01_neuron",
                (EDITS / "answer-cell-turned-markdown.ipynb").read_bytes(),
                notes=("answer cell restored to code",)),
        Fixture("case-no-metadata", "01_neuron",
                (EDITS / "answer-cell-without-metadata.ipynb").read_bytes(),
                notes=("answer cell matched by its place",)),
        Fixture("split", "01_neuron", split_answers("01_neuron")),
        Fixture("other-kernel", "01_neuron", other_kernel("01_neuron"),
                notes=("kernelspec ignored",)),
        Fixture("big-outputs", "01_neuron", lambda: big_outputs("01_neuron"),
                notes=("saved outputs dropped",), warns=True),
        Fixture("renamed", "01_neuron", submission("01_neuron"),
                filename="01_neuron (1).ipynb", notes=("renamed notebook graded",)),
        Fixture("colab-copy", "01_neuron", lambda: colab_copy("01_neuron"),
                filename="Copy of 01_neuron.ipynb",
                notes=("renamed notebook graded", "answer cell matched by its place")),
        Fixture("pasted-copy", "01_neuron", pasted_copy(
            "01_neuron", "def sigmoid(z):\n    return 1 / (1 + torch.exp(-z))  # try naive\n")),
        # The grader never sees files handed in beside the notebook; Validate runs in a fresh
        # folder too, and both name the answer cell's own error.
        Fixture("local-module", "01_neuron", submission(
            "01_neuron", {"ex_sigmoid": "from mylib import sigmoid\n"}),
            fails=list(course_max("01_neuron")), files={"mylib.py": b"import torch\n"
                                                        b"sigmoid = torch.sigmoid\n"},
            says="ModuleNotFoundError"),
        Fixture("newer-fstring", "01_neuron", submission("01_neuron", {"ex_predict": NEWER_FSTRING}),
                fails=PREDICT_CELLS, says=syntax_message("fstring quotes", 4)),
        Fixture("newer-generic", "01_neuron", submission("01_neuron",
                                                         {"ex_forward": NEWER_GENERIC}),
                fails=FORWARD_CELLS, says=syntax_message("type parameters", 1)),
        Fixture("lacks-module", "01_neuron", submission("01_neuron", {"ex_predict": OWN_PACKAGE}),
                fails=PREDICT_CELLS, says=module_message("fastsigmoid")),
        Fixture("pasted-picture", "01_neuron", pasted_picture("01_neuron"),
                notes=("cell attachments not kept",)),
        Fixture("untouched", "01_neuron", release_notebook("01_neuron"),
                not_implemented=True),
        Fixture("wrong-below-stub", "01_neuron", stub_then_answer("01_neuron", mistake.answers),
                fails=mistake.fails),
        Fixture("stub-then-answer", "02_forward", stub_then_answer("02_forward")),
        Fixture("no-metadata", "03_loss", without_metadata("03_loss"),
                notes=("answer cell matched by its place",)),
        Fixture("markdown", "04_backprop", as_markdown("04_backprop"),
                notes=("answer cell restored to code",)),
        # Facts the grader measures itself on its reference run's data (net_accuracy, net_loss):
        # Validate, measuring on the kernel's data, says the same.
        Fixture("split-05", "05_optimizer", split_answers("05_optimizer")),
        Fixture("stub-then-answer-06", "06_grade_classifier",
                stub_then_answer("06_grade_classifier")),
        Fixture("stub-then-answer-07", "07_generalization", stub_then_answer("07_generalization")),
    ]


# --------------------------------------------------------------------------- one grading


def _write(folder: Path, fx: Fixture) -> Path:
    nb = fx.nb() if callable(fx.nb) else fx.nb
    path = folder / fx.student / fx.lesson / (fx.filename or f"{fx.lesson}.ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(nb if isinstance(nb, bytes) else nbformat.writes(nb).encode())
    for name, data in (fx.files or {}).items():
        (path.parent / name).write_bytes(data)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every case graded once per test session, also when pytest's workers split this module
    (:func:`tests.conftest.once_per_session`)."""
    require_bwrap()
    made = once_per_session(tmp_path_factory, "no-surprises", _grade_all)
    return {**made, "cases": {f.student: f for f in _cases()}}  # (their checks do not pickle)


def _cases() -> list[Fixture]:
    cases = fixtures()
    only = os.environ.get("NO_SURPRISES_ONLY")  # debugging: a comma-separated list of students
    return [f for f in cases if f.student in only.split(",")] if only else cases


def _grade_all(base: Path) -> dict:
    cases = _cases()
    lessons = sorted({f.lesson for f in cases})
    course = ScratchCourse(lessons, path=base / "course")
    course.release()
    files = {f.student: _write(course.path / "submitted", f) for f in cases}
    originals = {s: p.read_bytes() for s, p in files.items()}
    reports = dict(zip(files, validate_all(list(files.values())), strict=True))
    results = grade_class(course.path, [(f.student, f.lesson) for f in cases], workers=2,
                          progress=False, db=course.db_url)
    course.nbgrader("generate_feedback", "*", "--force")
    course.nbgrader("export", "--to", "grades.csv")
    return {"course": course, "reports": reports,
            "results": {r.student: r for r in results}, "files": files,
            "originals": originals, "status": status.load(course.db_url)}


def _autograded(graded, fx: Fixture):
    path = (graded["course"].path / "autograded" / fx.student / fx.lesson / f"{fx.lesson}.ipynb")
    return nbformat.read(path, as_version=4)


def _csv(graded) -> list[dict]:
    with open(graded["course"].path / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


STUDENTS = [f.student for f in fixtures()]


@pytest.mark.parametrize("student", STUDENTS)
def test_score_status_and_notes(graded, student):
    """Exact scores and statuses; the notes name what was restored, moved or ignored, in the
    CSV, the feedback page and Validate's report; "not implemented" only for a real stub."""
    if student not in graded["cases"]:
        pytest.skip("not in NO_SURPRISES_ONLY")
    fx, course = graded["cases"][student], graded["course"]
    maxes = course.max_scores(fx.lesson)
    want = expected_scores(maxes, list(maxes) if fx.not_implemented else fx.fails)
    assert course.scores(fx.lesson, student) == want, graded["results"][student]
    rows = [r for r in _csv(graded) if r["student"] == student]
    total = next(r for r in rows if r["cell"] == "(total)")
    assert total["status"] == "graded"
    messages = " ".join(r["message"] for r in rows)
    assert (NOT_IMPLEMENTED in messages) == fx.not_implemented, messages
    if fx.says:
        failing = [r["message"] for r in rows if r["cell"] != "(total)"
                   and r["status"] != Status.NEEDS_MANUAL and not float(r["score"])]
        assert failing and all(fx.says in m for m in failing), failing
    report = graded["reports"][student]
    feedback = html_text(course.path / "feedback" / student / fx.lesson / f"{fx.lesson}.html")
    for phrase in fx.notes:
        assert phrase in total["message"], total
        assert phrase in feedback
        if phrase != "renamed notebook graded":  # Validate checks the file as it is named
            assert any(phrase in n for n in report.notes), report.text()
    assert any("large file" in w for w in report.warnings) == fx.warns, report.text()


@pytest.mark.parametrize("student", STUDENTS)
def test_validate_says_what_the_grade_says(graded, student):
    """One judgement: per test cell, Validate's verdict is the grader's verdict on the visible
    facts (same pass/fail, same message)."""
    if student not in graded["cases"]:
        pytest.skip("not in NO_SURPRISES_ONLY")
    fx = graded["cases"][student]
    nb = _autograded(graded, fx)
    report = graded["reports"][student]
    same_judgement(report, nb)
    assert report.passed == (fx.fails is None and not fx.not_implemented)


def test_submitted_files_are_kept(graded):
    """Grading never changes what a student handed in; a renamed notebook is graded from a copy
    under the expected name, the original kept beside it."""
    for student, path in graded["files"].items():
        assert path.read_bytes() == graded["originals"][student], student
    if "renamed" not in graded["files"]:
        pytest.skip("not in NO_SURPRISES_ONLY")
    renamed = graded["files"]["renamed"]
    assert (renamed.parent / "01_neuron.ipynb").read_bytes() == renamed.read_bytes()


def test_grades_csv_opens_in_korean_excel_and_pandas(graded):
    """grades.csv is UTF-8 with a byte-order mark (Excel on Korean Windows) and parses with
    pandas, Korean messages intact."""
    path = graded["course"].path / "grades.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(path, encoding="utf-8-sig")
    assert list(frame.columns[:3]) == ["student", "assignment", "cell"]
    assert frame["message"].fillna("").str.contains("통과").any()


def _messages(graded, student: str) -> dict[str, str]:
    return {r["cell"]: r["message"] for r in _csv(graded) if r["student"] == student}


@pytest.mark.parametrize(("student", "error", "sentence", "version"), [
    ("newer-fstring", "SyntaxError: f-string: unmatched '[' ", syntax_message("fstring quotes", 4),
     "3.13"),
    ("newer-generic", "SyntaxError: expected '(' ", syntax_message("type parameters", 1), "3.12"),
])
def test_newer_python_syntax_is_named_alike(graded, student, error, sentence, version):
    """Syntax of Python 3.12+ (PEP 701, PEP 695) runs in the student's kernel and is a
    SyntaxError at grading: the grader's message (CSV and feedback) names the cell, the error
    and the construct with its rewrite, in the very sentence Validate prints on the student's
    newer Python for the same cell (judged here by that Python itself)."""
    if student not in graded["cases"]:
        pytest.skip("not in NO_SURPRISES_ONLY")
    fx = graded["cases"][student]
    messages = _messages(graded, student)
    cell = "ex_predict" if student == "newer-fstring" else "ex_forward"
    pattern = (rf"NameError: name '\w+' is not defined — .* — 위 셀에서 먼저 난 오류 "
               rf"\(first error above\) {cell}: {re.escape(error)}\(\d+\.py, line \d\) — "
               rf"{re.escape(sentence)}")
    for gid in fx.fails:
        assert re.fullmatch(pattern, messages[gid]), messages[gid]
    feedback = html_text(graded["course"].path / "feedback" / student / fx.lesson
                         / f"{fx.lesson}.html")
    assert sentence in feedback
    exe = interpreter(version)
    if exe is None:
        pytest.skip(f"no Python {version} interpreter on this machine")
    source = NEWER_FSTRING if student == "newer-fstring" else NEWER_GENERIC
    proc = subprocess.run([exe, "-c", JUDGE, grading_env.__file__],
                          input=json.dumps({cell: source}), capture_output=True, text=True,
                          check=True)
    ((line, kind),) = json.loads(proc.stdout)[cell]
    assert syntax_message(kind, line) == sentence


def test_a_package_only_the_student_has(graded):
    """A module the student installed (on PYTHONPATH here) passes every visible test in the
    student's kernel; Validate says it fails at grading, names the module and the cell, exit 1;
    the grade names it too (test_score_status_and_notes)."""
    if "lacks-module" not in graded["cases"]:
        pytest.skip("not in NO_SURPRISES_ONLY")
    path = graded["files"]["lacks-module"]
    env = {**os.environ, "PYTHONPATH": str(STUDENT_SITE)}
    proc = subprocess.run([sys.executable, "-m", "dlcourse.validate", str(path)], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == (
        f"{path}: 보이는 검사는 통과했지만 채점 때 실패합니다 (will fail at grading)\n"
        f"  서술형 (written answer) written_step_function: {WRITTEN_MESSAGE}\n"
        f"  채점 때 실패 (fails at grading): 셀 ex_predict: 1행: {module_message('fastsigmoid')}\n")
    messages = _messages(graded, "lacks-module")
    for gid in PREDICT_CELLS:
        assert messages[gid].endswith(
            "(first error above) ex_predict: ModuleNotFoundError: No module named 'fastsigmoid' — "
            + module_message("fastsigmoid")), messages[gid]


# --------------------------------------------------------------------------- Validate alone


@pytest.mark.parametrize("command", [["dlcourse.validate"], ["autograder", "validate"]])
def test_validate_on_a_cp949_console(tmp_path, command):
    """A Korean Windows console or a redirected pipe (cp949), through ``python -m
    dlcourse.validate`` and ``./course validate``: the report, exit 0, no traceback."""
    path = tmp_path / "01_neuron.ipynb"
    path.write_bytes((EDITS / "correct-for-cp949-console.ipynb").read_bytes())
    env = {**os.environ, "PYTHONIOENCODING": "cp949"}
    proc = subprocess.run([sys.executable, "-m", *command, str(path)], env=env,
                          capture_output=True, cwd=tmp_path)
    out = proc.stdout.decode("cp949")
    assert proc.returncode == 0, out + proc.stderr.decode("cp949", "replace")
    assert "통과 (OK)" in out and "Traceback" not in out + proc.stderr.decode("cp949", "replace")


def test_validate_refuses_a_notebook_of_no_lesson(tmp_path):
    """A notebook with no test cell of any lesson is never "OK with 0 checks"."""
    path = tmp_path / "Copy of 01_neuron.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), path)
    proc = subprocess.run([sys.executable, "-m", "dlcourse.validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "(not a lesson of this course" in proc.stdout, proc.stdout


def test_a_renamed_notebook_handed_in_again_is_graded_anew(tmp_path):
    """The copy made for a renamed notebook follows a newer file under the student's name; a
    newer notebook under the expected name wins over an older renamed one."""
    folder = tmp_path / "submitted" / "s1" / "01_neuron"
    folder.mkdir(parents=True)
    renamed, expected = folder / "Copy of 01_neuron.ipynb", folder / "01_neuron.ipynb"
    renamed.write_text("first", encoding="utf-8")
    assert adopt_renamed(tmp_path, "s1", "01_neuron") == renamed.name
    assert expected.read_text(encoding="utf-8") == "first"
    renamed.write_text("second", encoding="utf-8")
    os.utime(renamed, (expected.stat().st_mtime + 10,) * 2)
    assert adopt_renamed(tmp_path, "s1", "01_neuron") == renamed.name
    assert expected.read_text(encoding="utf-8") == "second"
    assert renamed_from(tmp_path, "s1", "01_neuron", expected.name) == renamed.name
    expected.write_text("handed in properly", encoding="utf-8")
    os.utime(expected, (renamed.stat().st_mtime + 10,) * 2)
    assert adopt_renamed(tmp_path, "s1", "01_neuron") is None
    assert expected.read_text(encoding="utf-8") == "handed in properly"
    assert renamed_from(tmp_path, "s1", "01_neuron", expected.name) is None


@pytest.mark.parametrize("kind", ["missing", "too large", "invalid json", "not a notebook"])
def test_validate_names_files_the_grader_refuses(tmp_path, kind):
    """Files the grader cannot read: Validate says why before the student hands them in, exit 1,
    no traceback."""
    path = tmp_path / "01_neuron.ipynb"
    if kind == "too large":
        with open(path, "wb") as fh:
            fh.truncate(MAX_FILE_BYTES + 1)
    elif kind == "invalid json":
        path.write_text('{"cells": [', encoding="utf-8")
    elif kind == "not a notebook":
        path.write_text(json.dumps([1, 2]), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "dlcourse.validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    word = {"missing": "file not found"}.get(kind, kind)
    assert f"({word}" in proc.stdout.lower() or word in proc.stdout.lower(), proc.stdout


# --------------------------------------------------------------------------- the instructor


def test_one_lesson_with_nothing_to_grade(tmp_path):
    """A lesson whose notebooks are all missing never stops the feedback, CSV and report of
    the others, and is said on screen; the students' statuses say "missing"."""
    require_bwrap()
    lessons = ["01_neuron", "02_forward"]
    course = ScratchCourse(lessons, path=tmp_path / "course")
    for student in ("s1", "s2"):
        folder = course.path / "submitted" / student / "01_neuron"
        folder.mkdir(parents=True)
        (folder / "notes.txt").write_text("노트북을 깜빡했어요", encoding="utf-8")
    course.submit("s1", "02_forward", submission("02_forward"))
    course.submit("s2", "02_forward", release_notebook("02_forward"))
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_DB_URL"}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from autograder.grade.command import grade_command; "
         f"sys.exit(grade_command({lessons!r}, workers=2, root=Path({str(course.path)!r})))"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "01_neuron: 채점된 노트북이 없어" in proc.stdout
    with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
        totals = {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)
                  if r["cell"] == "(total)"}
    assert totals[("s1", "01_neuron")]["status"] == "missing"
    assert totals[("s2", "01_neuron")]["status"] == "missing"
    written = sum(course.written_points("02_forward").values())
    assert float(totals[("s1", "02_forward")]["score"]) == float(
        totals[("s1", "02_forward")]["max_score"]) - written > 0  # the written answer waits
    assert (course.path / "feedback" / "s1" / "02_forward" / "02_forward.html").exists()
    assert (course.path / "reports" / "instructor-report.html").exists()


def test_validate_button_answers_with_the_same_report(tmp_path):
    """JupyterLab's Validate button (``./course lab``) is answered by dlcourse.validate: the
    notes of a notebook that passes reach the dialog, and nbgrader's own validator is off."""
    import urllib.request

    from dlcourse.validate_button import PASSED_WITH_NOTES
    from tests.support.lab import LabServer

    folder = tmp_path / "notebooks" / "01_neuron"
    folder.mkdir(parents=True)
    (folder / "01_neuron.ipynb").write_bytes(
        (EDITS / "answer-cell-without-metadata.ipynb").read_bytes())
    with LabServer(tmp_path / "notebooks", env={"OMP_NUM_THREADS": "1"}) as lab:
        request = urllib.request.Request(
            lab.url("/assignments/validate"), method="POST",
            data=json.dumps({"path": "01_neuron/01_neuron.ipynb"}).encode(),
            headers={"Content-Type": "application/json",
                     "Authorization": f"token {lab.token}"})
        with urllib.request.urlopen(request, timeout=300) as response:
            answer = json.loads(response.read())
    entries = answer["value"]["failed"]
    assert answer["success"] is True and len(entries) == 1, answer
    assert entries[0]["source"] == PASSED_WITH_NOTES
    assert "answer cell matched by its place" in entries[0]["raw_error"]
