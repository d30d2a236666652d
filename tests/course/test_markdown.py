"""Every markdown cell of every lesson (the solutions and the student notebooks) reads as
rendered text under CommonMark rules (:mod:`tests.support.markdown_render`): no literal ``**`` or
``__``, no unrendered ``$…$``, no pipe rows left out of a table."""

import nbformat
import pytest

from autograder import RELEASE, ROOT
from tests.conftest import LESSONS
from tests.support.markdown_render import markdown_problems


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("kind", ["solutions", "student"])
def test_markdown_cells_render(lesson, kind):
    path = (ROOT / "solutions" if kind == "solutions" else RELEASE) / lesson / f"{lesson}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
    assert cells, f"{path} has no markdown cell"
    problems = [p for i, c in cells for p in markdown_problems(c.source, f"{lesson} cell {i}")]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source, found", [
    ("배운 **로지스틱 회귀(Logistic Regression)**와 똑같은", ["literal '**'"]),
    ("배운 **로지스틱 회귀**(Logistic Regression)와 똑같은", []),
    ("dunder__name 이 아닌 `__init__` 과 $x^2$ 와 `x**2`", ["literal '__'"]),
    ("값이 $p 인 경우", ["unrendered math"]),
    ("$$\nw = w - \\eta \\nabla L\n$$\n\n값 $p$ 는", []),
    ("| a | b |\n| - |\n| 1 | 2 |", ["not a table"]),
    ("| a | b |\n|---|---|\n| 1 | 2 |", []),
])
def test_the_check_finds_what_a_reader_would_see(source, found):
    problems = markdown_problems(source, "cell")
    assert [f for f in found if not any(f in p for p in problems)] == [], problems
    assert [p for p in problems if not any(f in p for f in found)] == [], problems
