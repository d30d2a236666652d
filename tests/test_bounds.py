"""One submission cannot take the run down (issue 27, item 5): a notebook that floods its
outputs keeps its grade and a bounded autograded notebook and feedback page, and the classmate
graded beside it is graded as if it were not there, through ``./course grade``.

The course copy is checkout B of :mod:`tests.test_fresh_machine`, with small output bounds in
its ``nbgrader_config.py`` so that the flood stays quick.
"""

import csv

import nbformat
import pytest

from autograder.grading import submission
from autograder.mistakes import expected_scores, max_scores
from autograder.preprocessors import TRUNCATED
from dlcourse.submission import role
from tests.integrity_helpers import require_bwrap
from tests.test_fresh_machine import LESSON, _copy_course, _course, _scores

pytestmark = pytest.mark.slow

PER_OUTPUT, PER_NOTEBOOK = 20_000, 100_000  # bytes, configured below
FLOOD_MB = 40  # what the flooding cell prints, in one line and in many

FLOOD = f'''import sys
sys.stdout.write("x" * ({FLOOD_MB} * 2**19))
for _ in range(2000):
    print("y" * 10_000)
from IPython.display import HTML, display
display(HTML("<p>" + "z" * 2**20 + "</p>"))
'''


def flood() -> nbformat.NotebookNode:
    """Correct answers, and a "try it" cell that prints ~``2 * FLOOD_MB`` MB."""
    nb = submission(LESSON)
    cell = next(c for c in nb.cells if c.cell_type == "code" and role(c) == "free")
    cell.source = FLOOD
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bwrap()
    dest = _copy_course(tmp_path_factory.mktemp("bounds") / "course")
    with open(dest / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(f"\nc.SandboxedExecute.max_output_bytes = {PER_OUTPUT}\n"
                 f"c.SandboxedExecute.max_outputs_bytes = {PER_NOTEBOOK}\n")
    for student, nb in [("flood", flood()), ("honest", submission(LESSON))]:
        folder = dest / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{LESSON}.ipynb")
    proc = _course(dest, "grade", LESSON, "--workers", "2")
    return dest, proc


def test_output_flood_is_truncated_and_graded(graded):
    """Exit 0; both students get full marks and "graded"; the flood's message says its outputs
    were truncated; its autograded notebook and feedback page stay under the bounds (the page
    no bigger than the honest one's plus the notebook's output bound twice over)."""
    dest, proc = graded
    assert proc.returncode == 0, proc.stdout + proc.stderr
    full = expected_scores(max_scores(LESSON), [])
    with open(dest / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    totals = {r["student"]: r for r in rows if r["cell"] == "(total)"}
    assert set(totals) == {"flood", "honest"}
    for student in ("flood", "honest"):
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
