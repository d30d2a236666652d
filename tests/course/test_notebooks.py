"""Every notebook runs top to bottom on CPU in a student's kernel (nbclient): the instructor
notebooks without an error, the untouched student notebooks stopping only where the student
reads a Korean message."""

import os
import re

import nbformat
import pytest

from autograder import RELEASE, SOLUTIONS
from autograder.pipeline.reference import execute
from dlcourse.check import RUN_ABOVE
from dlcourse.exercises import HEADING
from tests.conftest import LESSONS, TCP_WARNING

#: The stub every exercise cell raises in the student notebooks (nbgrader_config.py).
STUB = "아직 구현하지 않았습니다 (not implemented yet)"


def errors_of(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


#: The key phrase a cell that called an unanswered exercise's stub opens its error with.
COMPLETE_FIRST = re.compile(r"연습 (\d+(?:\.\d+)*)[을를] 먼저 완성하세요 \(complete Exercise \1 first\)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: A frame of IPython's traceback: a cell's (``Cell In[5], line 3, in predict(...)``) or a
#: file's (``File .../module.py:12, in helper(...)``); group 1 names the function.
FRAME = re.compile(r"^(?:Cell In\[\d+\], line \d+|File .+:\d+), in ([\w.]+)\(", re.M)
#: A name an answer cell defines at its top level.
DEFINES = re.compile(r"^(?:def|class)\s+(\w+)", re.M)


def answer_exercises(nb) -> dict[str, str]:
    """``{name: exercise}`` of every ``def``/``class`` of the answer cells, each under the
    last ``### 연습 N.M (Exercise N.M, k점)`` heading above it."""
    found, exercise = {}, None
    for c in nb.cells:
        if c.cell_type == "markdown":
            exercise = ([m.group(1) for m in HEADING.finditer(c.source)] or [exercise])[-1]
        elif c.metadata.get("nbgrader", {}).get("solution"):
            found.update(dict.fromkeys(DEFINES.findall(c.source), exercise))
    return found


def stub_stops(nb) -> list[tuple[int, str, str | None]]:
    """``(cell, exercise the stub belongs to, exercise the message names)`` of every code cell
    that stopped at an answer's stub: the innermost frame of the traceback IPython printed is
    a function an answer cell defines."""
    answers = answer_exercises(nb)
    found = []
    for i, c in enumerate(nb.cells):
        for e in errors_of(c):
            text = ANSI.sub("", "\n".join(e.traceback))
            frames = FRAME.findall(text)
            if e.ename == "NotImplementedError" and frames and frames[-1].split(".")[0] in answers:
                named = COMPLETE_FIRST.search(text)
                found.append((i, answers[frames[-1].split(".")[0]], named and named.group(1)))
    return found


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
    said = [i for i, c in enumerate(nb.cells) for o in c.get("outputs", [])
            if COMPLETE_FIRST.search(ANSI.sub("", str(o)))]
    assert not said, f"cells asking to complete an exercise first, all answered: {said}"
    assert os.environ.get("NBGRADER_EXECUTION") == "autograde", "execute() changed os.environ"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_notebook_stops_only_at_korean_messages(lesson):
    """A student runs the untouched notebook in order and, at every cell that stops, reads the
    message and runs on below: each stop is the Korean stub message or the course's "run the
    cells above first" guidance (dlcourse.check.RUN_ABOVE), never a bare traceback, and the
    pictures that do not depend on an exercise are drawn. Every cell outside a test cell
    (figures, "try it") that stopped at an exercise's stub says "연습 N.M을 먼저 완성하세요
    (complete Exercise N.M first)" naming the exercise whose answer raised, and shows no
    picture (no empty axes); a test cell that stopped at a stub reads as the stub alone, as
    Validate and the grader report it. (The browser suite walks lesson 01 this way in
    JupyterLab itself.)"""
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
    tests = {i for i, c in enumerate(nb.cells) if "with Check(" in c.source}
    stubs = stub_stops(nb)
    assert [s for s in stubs if s[0] not in tests], f"no figure or 'try it' cell calls a stub: {stubs}"
    wrong = [f"cell {i}: stub of exercise {ex}, message names {named}"
             for i, ex, named in stubs if named != (None if i in tests else ex)]
    assert not wrong, "cells that stopped at a stub:\n" + "\n".join(wrong)
    drawn = [i for i, _, _ in stubs
             if any("image/png" in o.get("data", {}) for o in nb.cells[i].outputs)]
    assert not drawn, f"cells that stopped at a stub and still show a picture: {drawn}"


def test_trusted_kernels_talk_encrypted(tmp_path, capfd):
    """The kernels the course starts over TCP get CurveZMQ keys (autograder.KERNEL_CONFIG):
    no "running over TCP without encryption" warning on every reference run."""
    nb = execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]),
                 tmp_path, timeout=60, grading=False)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert TCP_WARNING not in capfd.readouterr().err
