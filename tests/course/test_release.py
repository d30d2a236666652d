"""The student notebooks are exactly what nbgrader generates from solutions/, and leak nothing."""

import json
import re

import nbformat
import pytest
from nbgrader.utils import is_grade, is_locked, is_solution

from autograder import RELEASE, ROOT, SOLUTIONS
from autograder.grade.scratch import ScratchCourse
from dlcourse.submission import TEXT_STUB
from tests.conftest import LESSONS

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
STUB = 'raise NotImplementedError("아직 구현하지 않았습니다 (not implemented yet)")'
LEFTOVERS = re.compile(r"TODO|FIXME|XXX|instructor|강사용|정답:", re.I)


def source(lesson):
    return nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", as_version=4)


def release(lesson):
    return nbformat.read(RELEASE / lesson / f"{lesson}.ipynb", as_version=4)


def normalised(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell.pop("id", None)
    return nb


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    course = ScratchCourse(LESSONS, path=tmp_path_factory.mktemp("release") / "course")
    for lesson in LESSONS:  # generate from scratch, not over the committed copy
        (course.path / "notebooks" / lesson / f"{lesson}.ipynb").unlink()
    course.release()
    return course.path / "notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_committed_release_is_what_nbgrader_generates(lesson, regenerated):
    fresh = regenerated / lesson / f"{lesson}.ipynb"
    committed = RELEASE / lesson / f"{lesson}.ipynb"
    assert normalised(committed) == normalised(fresh), (
        f"notebooks/{lesson} drifted from solutions/{lesson}: run ./course release {lesson}")


@pytest.mark.parametrize("lesson", LESSONS)
def test_validate_has_the_committed_release(lesson):
    """``dlcourse/releases/`` (package data Validate lays a student's cells into) is byte for
    byte the committed release, and has no lesson that solutions/ does not have."""
    shipped = ROOT / "dlcourse" / "releases"
    assert (shipped / f"{lesson}.ipynb").read_bytes() == (
        RELEASE / lesson / f"{lesson}.ipynb").read_bytes(), f"run ./course release {lesson}"
    assert sorted(p.stem for p in shipped.glob("*.ipynb")) == LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_outputs_committed(lesson):
    for nb in (source(lesson), release(lesson)):
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None


@pytest.mark.parametrize("lesson", LESSONS)
def test_nothing_of_the_solution_reaches_students(lesson):
    src, rel = source(lesson), release(lesson)
    text = "\n".join(c.source for c in rel.cells)
    outside = "\n".join(
        HIDDEN_REGION.sub("", SOLUTION_REGION.sub("", c.source)) for c in src.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    secret_lines = set()
    for c in src.cells:
        for region in SOLUTION_REGION.findall(c.source) + HIDDEN_REGION.findall(c.source):
            secret_lines |= {ln.strip() for ln in region.splitlines() if len(ln.strip()) > 6}
    leaked = [ln for ln in secret_lines if ln in text and ln not in outside]
    assert not leaked, f"solution or hidden-test lines in notebooks/{lesson}: {leaked[:5]}"
    assert not LEFTOVERS.search(text), f"authoring leftover: {LEFTOVERS.search(text).group()}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_answer_cells_show_the_korean_stub(lesson):
    answers = [c for c in release(lesson).cells if is_solution(c)]
    assert answers
    for cell in answers:  # a code answer's stub, or a written answer's (markdown)
        stub = STUB if cell.cell_type == "code" else TEXT_STUB
        assert stub in cell.source, cell.metadata.nbgrader["grade_id"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_test_cells_follow_the_rules(lesson):
    """Docstring first, one Check block, a hidden fact, locked; ~10 points per lesson."""
    cells = source(lesson).cells
    tests = [c for c in cells if is_grade(c) and not is_solution(c)]
    assert tests
    ids = [c.metadata.nbgrader["grade_id"] for c in cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "duplicate grade_id"
    for cell in tests:
        gid = cell.metadata.nbgrader["grade_id"]
        assert cell.cell_type == "code" and is_locked(cell), gid
        assert re.match(r'"""연습 \d+\.\d+ 검사', cell.source), f"{gid}: docstring first"
        assert "with Check(" in cell.source, gid
        hidden = HIDDEN_REGION.findall(cell.source)
        assert hidden and re.search(r"\bck\.\w+\(", hidden[0]), f"{gid}: needs a hidden fact"
    points = sum(c.metadata.nbgrader["points"] for c in tests)
    # 04 is the lightest lesson since the network's backward pass moved to 05 (issue 25), 05 the
    # heaviest: a lesson carries 6 to 17 points.
    assert 6 <= points <= 17, f"{lesson}: {points} points"


#: Facts a kernel can forge without running the answer: the passing value is known beforehand
#: (the bound, a rising sequence, scores that pick the labels).
BOUND_ONLY = re.compile(r"\bck\.(at_least|at_most|increasing|decreasing|accuracy)\(")
#: Facts the grader verifies itself: compared with the reference run, measured on its data, or
#: raw values judged at the reference run's points.
VERIFIED = re.compile(r"\bck\.(record|net_accuracy|net_loss|loss_along_rays)\(")


@pytest.mark.parametrize("lesson", LESSONS)
def test_bound_facts_never_decide_a_cell_alone(lesson):
    """A cell with a fact judged against a bound only also has a hidden fact the grader
    verifies (CONTRIBUTING.md, "Rules that make grading impossible to fool")."""
    for cell in source(lesson).cells:
        if not (is_grade(cell) and not is_solution(cell)) or not BOUND_ONLY.search(cell.source):
            continue
        gid = cell.metadata.nbgrader["grade_id"]
        backed = any(VERIFIED.search(h) for h in HIDDEN_REGION.findall(cell.source))
        assert backed, f"{gid}: a bound-only fact with no verified hidden fact"


@pytest.mark.parametrize("lesson", LESSONS)
def test_skeleton(lesson):
    md = "\n".join(c.source for c in source(lesson).cells if c.cell_type == "markdown")
    for heading in ("학습 목표", "복습", "정리"):
        assert heading in md, f"{lesson}: missing {heading}"
    assert re.search(r"연습 \d+\.\d+ \(Exercise", md)
