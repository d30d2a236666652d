"""Every notebook runs top to bottom on CPU in a student's kernel (nbclient): the instructor
notebooks without an error, the untouched student notebooks stopping only where the student
reads a Korean message."""

import os

import nbformat
import pytest

from autograder import RELEASE, SOLUTIONS
from autograder.pipeline.reference import execute
from dlcourse.check import RUN_ABOVE
from tests.conftest import LESSONS, TCP_WARNING

#: The stub every exercise cell raises in the student notebooks (nbgrader_config.py).
STUB = "아직 구현하지 않았습니다 (not implemented yet)"


def errors_of(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def pictures_missing(nb) -> list[int]:
    """Code cells that ran ``plt.show()`` without an error but kept no picture."""
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and "plt.show()" in c.source and not errors_of(c)
            and not any("image/png" in o.get("data", {}) for o in c.outputs)]


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_executes(lesson, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # execute() hides it from the kernel
    path = SOLUTIONS / lesson / f"{lesson}.ipynb"
    nb = execute(nbformat.read(path, as_version=4), path.parent, timeout=180, grading=False)
    errors = [f"cell {i}: {e.ename}: {e.evalue}" for i, c in enumerate(nb.cells)
              for e in errors_of(c)]
    assert not errors, "\n".join(errors)
    passed = sum("통과 (OK)" in o.get("text", "") for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert passed == sum(1 for c in nb.cells if "with Check(" in c.source)
    assert not pictures_missing(nb), f"plt.show() cells without a picture: {pictures_missing(nb)}"
    assert os.environ.get("NBGRADER_EXECUTION") == "autograde", "execute() changed os.environ"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_notebook_stops_only_at_korean_messages(lesson):
    """A student runs the untouched notebook in order and, at every cell that stops, reads the
    message and runs on below: each stop is the Korean stub message or the course's "run the
    cells above first" guidance (dlcourse.check.RUN_ABOVE), never a bare traceback, and the
    pictures that do not depend on an exercise are drawn. (The browser suite walks lesson 01
    this way in JupyterLab itself.)"""
    path = RELEASE / lesson / f"{lesson}.ipynb"
    nb = execute(nbformat.read(path, as_version=4), path.parent, timeout=180, grading=False,
                 allow_errors=True)
    stops = [(i, f"{e.ename}: {e.evalue}") for i, c in enumerate(nb.cells) for e in errors_of(c)]
    assert any(STUB in text for _, text in stops), f"no cell stops at an exercise stub: {stops}"
    confusing = [f"cell {i}: {text}" for i, text in stops
                 if STUB not in text and RUN_ABOVE not in text]
    assert not confusing, ("cells that stop with a bare traceback instead of the stub message "
                           "or the 'run the cells above first' guidance:\n" + "\n".join(confusing))
    assert not pictures_missing(nb), f"plt.show() cells without a picture: {pictures_missing(nb)}"


def test_trusted_kernels_talk_encrypted(tmp_path, capfd):
    """The kernels the course starts over TCP get CurveZMQ keys (autograder.KERNEL_CONFIG):
    no "running over TCP without encryption" warning on every reference run."""
    nb = execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]),
                 tmp_path, timeout=60, grading=False)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert TCP_WARNING not in capfd.readouterr().err
