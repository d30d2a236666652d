"""Every instructor notebook runs top to bottom on CPU, as a student would run it."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import SOLUTIONS

from .conftest import LESSONS


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_executes(lesson, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("MPLBACKEND", "agg")
    path = SOLUTIONS / lesson / f"{lesson}.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    passed = sum("통과 (OK)" in o.get("text", "") for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert passed == sum(1 for c in nb.cells if "with Check(" in c.source)
    assert os.environ.get("NBGRADER_EXECUTION") is None
