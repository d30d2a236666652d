"""Written answers (서술형): markdown cells graded by hand. Every lesson has one with a model
answer and a rubric, which reach no student (the release, Validate's copies); Validate and the
grader's first look say what a written answer is (graded by hand, or empty), never failed."""

import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import ROOT, lessons
from autograder.pipeline.export import waiting_message
from dlcourse.submission import (
    TEXT_STUB,
    WRITTEN_EMPTY,
    WRITTEN_MESSAGE,
    is_written,
    rebuild,
    written_verdict,
)
from dlcourse.validate import CellResult, Report
from dlcourse.validate_button import button_result

REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def notebook(*parts: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT.joinpath(*parts), as_version=4)


def written_cells(nb) -> list:
    return [c for c in nb.cells if is_written(c)]


def secret_lines(lesson: str) -> set[str]:
    """The model answer's and the rubric's lines (instructors only) of the lesson's written
    answers."""
    return {line.strip() for c in written_cells(notebook("solutions", lesson, f"{lesson}.ipynb"))
            for region in REGION.findall(c.source) for line in region.splitlines()
            if len(line.strip()) > 12}


@pytest.mark.parametrize("lesson", lessons())
def test_every_lesson_has_a_written_answer_with_a_rubric(lesson):
    cells = written_cells(notebook("solutions", lesson, f"{lesson}.ipynb"))
    assert cells, f"{lesson}: no written answer (markdown cell with solution and grade)"
    for cell in cells:
        meta = cell.metadata.nbgrader
        assert meta["points"] > 0 and meta["grade_id"].startswith("written_"), meta
        region = "".join(REGION.findall(cell.source))
        assert "**모범 답안 (model answer):**" in region, cell.source
        assert "**채점 기준 (rubric):**" in region and "- 1점:" in region, cell.source


@pytest.mark.parametrize("lesson", lessons())
def test_model_answers_and_rubrics_reach_no_student(lesson):
    """The released notebook and Validate's copy hold each written answer's prompt and the
    stub, no line of its model answer or rubric (in any cell, metadata included)."""
    secrets = secret_lines(lesson)
    assert len(secrets) >= 4, secrets
    source = {c.metadata.nbgrader["grade_id"]: c for c in
              written_cells(notebook("solutions", lesson, f"{lesson}.ipynb"))}
    for release in (notebook("notebooks", lesson, f"{lesson}.ipynb"),
                    notebook("dlcourse", "releases", f"{lesson}.ipynb")):
        text = nbformat.writes(release)
        shown = "\n".join(c.source for c in release.cells) + "\n" + text
        assert not [s for s in secrets if s in shown]
        cells = written_cells(release)
        assert sorted(c.metadata.nbgrader["grade_id"] for c in cells) == sorted(source)
        for cell in cells:
            prompt = REGION.sub("", source[cell.metadata.nbgrader["grade_id"]].source)
            assert cell.source == prompt.rstrip("\n") + "\n" + TEXT_STUB or (
                cell.source == prompt + TEXT_STUB), cell.source


def released_written(lesson="01_neuron"):
    return written_cells(notebook("dlcourse", "releases", f"{lesson}.ipynb"))[0]


def test_written_verdict_names_empty_and_graded_by_hand():
    cell = released_written()
    assert written_verdict(cell, cell) == ("graded", WRITTEN_EMPTY)  # untouched
    blank = new_markdown_cell("   \n")
    assert written_verdict(blank, cell) == ("graded", WRITTEN_EMPTY)
    answered = new_markdown_cell(cell.source.replace(TEXT_STUB, "기울기가 0이라 학습이 안 됩니다."))
    assert written_verdict(answered, cell) == ("needs manual grading", WRITTEN_MESSAGE)
    # Judged against the instructor's cell (the grader's template), the same.
    source = written_cells(notebook("solutions", "01_neuron", "01_neuron.ipynb"))[0]
    assert written_verdict(cell, source) == ("graded", WRITTEN_EMPTY)
    assert written_verdict(answered, source) == ("needs manual grading", WRITTEN_MESSAGE)


def _template():
    nb = new_notebook()
    answer = new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade_id": "ex_f", "solution": True, "grade": False,
                                   "locked": False}
    written = new_markdown_cell("**서술형: 왜?**\n\n### BEGIN SOLUTION\n모범 답안 (model answer)"
                                "\n### END SOLUTION")
    written.metadata["nbgrader"] = {"grade_id": "written_why", "solution": True, "grade": True,
                                    "locked": False, "points": 2}
    nb.cells = [answer, new_markdown_cell("## 생각해 볼 질문"), written]
    for i, c in enumerate(nb.cells):
        c.id = f"t{i}"
    return nb


def test_a_written_answer_without_metadata_is_found_by_place_never_a_code_cell():
    template = _template()
    student = new_notebook()
    student.cells = [new_code_cell("def f():\n    return 1"), new_markdown_cell("## 생각해 볼 질문"),
                     new_code_cell("print('try')"), new_markdown_cell("제 답: 기울기 때문")]
    for c, t in zip(student.cells[:2], template.cells[:2], strict=True):
        c.metadata, c.id = t.metadata, t.id
    student.cells[2].id, student.cells[3].id = "s2", "s3"
    nb = rebuild(template, student)
    written = [c for c in nb.cells if is_written(c)]
    assert [c.source for c in written] == ["제 답: 기울기 때문"]
    assert any(c.cell_type == "code" and c.source == "print('try')" for c in nb.cells)
    # A deleted written answer stays empty: the code cell near it is not taken for it.
    del student.cells[3]
    nb = rebuild(template, student)
    assert [c.source for c in nb.cells if is_written(c)] == [""]
    assert any(c.cell_type == "code" and c.source == "print('try')" for c in nb.cells)
    assert written_verdict(written_cells(nb)[0], template.cells[2]) == ("graded", WRITTEN_EMPTY)


def test_validate_says_graded_by_hand_never_failed():
    report = Report("hw.ipynb", "01_neuron",
                    written=[CellResult("written_a", "", True, "needs manual grading", WRITTEN_MESSAGE),
                             CellResult("written_b", "", True, "graded", WRITTEN_EMPTY)])
    assert report.passed
    text = report.text()
    assert "written_a: " + WRITTEN_MESSAGE in text and "(graded by hand)" in text
    assert "written_b: " + WRITTEN_EMPTY in text and "실패" not in text and "failed" not in text
    # The Validate dialog names the empty answer only; a filled one keeps nbgrader's "Success".
    entries = button_result(report)["value"]["failed"]
    assert len(entries) == 1 and "written_b" in entries[0]["raw_error"]
    report.written.pop()
    assert button_result(report) == {"success": True, "value": {}}


def test_the_total_row_counts_waiting_answers_in_words():
    assert waiting_message(1) == "서술형 1개가 채점을 기다립니다 (1 written answer needs manual grading)"
    assert waiting_message(2) == "서술형 2개가 채점을 기다립니다 (2 written answers need manual grading)"
