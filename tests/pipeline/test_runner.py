"""The course's one notebook runner (dlcourse.runner): what Validate, the reference runs, the
mistake check and the preflight share. Plain kernels (no torch): each test starts one or two."""

import os
import time

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from dlcourse.runner import Runner, run_notebook
from dlcourse.submission import timeout_message

new = nbformat.v4.new_code_cell


def notebook(*sources, tags=None):
    nb = nbformat.v4.new_notebook(cells=[new(s) for s in sources])
    for i, tag in (tags or {}).items():
        nb.cells[i].metadata["tags"] = [tag]
    return nb


def text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def marks(nb) -> list:
    return [c.metadata.get("dlcourse", {}).get("status") for c in nb.cells]


def test_kernel_environment_is_set_and_removed_without_touching_this_process(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("DLCOURSE_RUNNER_GONE", "here")
    before = dict(os.environ)
    nb = run_notebook(notebook("import os\nprint(os.environ.get('NBGRADER_EXECUTION'), "
                               "os.environ.get('DLCOURSE_RUNNER_GONE'), os.getcwd())"),
                      tmp_path, env={"NBGRADER_EXECUTION": "autograde",
                                     "DLCOURSE_RUNNER_GONE": None})
    assert text(nb.cells[0]).split() == ["autograde", "None", str(tmp_path)]
    assert dict(os.environ) == before


def test_errors_are_outputs_and_the_run_goes_on(tmp_path):
    nb = run_notebook(notebook("1/0", "print('after')"), tmp_path)
    assert nb.cells[0].outputs[0].ename == "ZeroDivisionError"
    assert text(nb.cells[1]) == "after\n"
    assert "stopped" not in nb.metadata.get("dlcourse", {})
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        run_notebook(notebook("1/0", "print('after')"), tmp_path, allow_errors=False)


def test_a_cell_over_its_limit_times_out_and_later_cells_are_not_run(tmp_path):
    with Runner(tmp_path, cell_timeout=1) as runner:
        nb = runner.run(notebook("x = 1", "import time\ntime.sleep(30)", "# words", "x"))
        with pytest.raises(RuntimeError, match="the kernel is gone: an earlier notebook "
                                               "timed out"):
            runner.run(notebook("x"))
    assert marks(nb) == [None, "timed out", "not run", "not run"]
    assert nb.cells[1].metadata["dlcourse"]["message"] == timeout_message(1, None)
    assert nb.cells[3].metadata["dlcourse"]["message"].startswith("실행되지 않았습니다 (not run): 셀 ")
    assert nb.metadata["dlcourse"]["stopped"] == "timed out"
    assert nb.cells[3].outputs == []
    with pytest.raises(CellTimeoutError):
        run_notebook(notebook("import time\ntime.sleep(30)"), tmp_path, cell_timeout=1,
                     allow_errors=False)


def test_the_notebook_limit_counts_every_cell(tmp_path):
    # 2 s of the 5 s are spent in the first cell: the second stops about 3 s later, long before
    # its own limit of 20 s.
    with Runner(tmp_path, cell_timeout=20, notebook_timeout=5) as runner:
        t0 = time.monotonic()
        nb = runner.run(notebook("import time\ntime.sleep(2)", "time.sleep(60)", "print(1)"))
        seconds = time.monotonic() - t0
    assert marks(nb) == [None, "timed out", "not run"]
    assert nb.cells[1].metadata["dlcourse"]["message"] == timeout_message(20, 5)
    assert "20 s per cell, 5 s per notebook" in timeout_message(20, 5)
    assert 4 < seconds < 15


def test_a_dead_kernel_is_crashed(tmp_path):
    nb = run_notebook(notebook("print('before')", "import os\nos._exit(1)", "print('after')"),
                      tmp_path)
    assert marks(nb) == [None, "crashed", "not run"]
    assert text(nb.cells[0]) == "before\n" and nb.cells[2].outputs == []
    assert nb.metadata["dlcourse"]["stopped"] == "crashed"


def test_one_kernel_runs_notebooks_in_turn_and_skips_the_tagged_cells(tmp_path):
    seen = []
    with Runner(tmp_path, skip_tag="skip-me", started=lambda km: seen.append(km.has_kernel)
                ) as runner:
        first = runner.run(notebook("x = 41", "x = 0", tags={1: "skip-me"}))
        second = runner.run(notebook("print(x + 1)"))
    assert seen == [True]  # once, with the manager of the started kernel
    assert first.cells[1].outputs == [] and first.cells[1].execution_count is None
    assert text(second.cells[0]) == "42\n"
