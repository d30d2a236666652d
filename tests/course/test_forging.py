"""Forged records earn nothing, in every lesson: a kernel that replaces what ``Check`` records
(the expected value of a visible fact, the bound of an ``at_least``/``at_most``, a rising
sequence, scores that pick the labels, a network's labels and bound) keeps exactly the points of
the known mistake it hides (``tests/mistakes/<lesson>.yaml``).

Each lesson's submission is one known mistake, chosen to fail the cells whose facts are judged
against a bound where the lesson has such facts, with ``tests/submissions/forge_bounds.py.tmpl``
run first. All of them are graded in one ``grade_class`` call (the real pipeline: nbgrader, the
rebuild, the sandbox, the out-of-kernel verdict).
"""

from __future__ import annotations

import pytest

from autograder.authoring.mistakes import expected_scores, load_mistakes
from autograder.grade.pool import grade_class
from autograder.grade.scratch import ScratchCourse
from tests.conftest import once_per_session
from tests.support.integrity_helpers import forge, require_bwrap

pytestmark = pytest.mark.slow

#: The known mistake each lesson's forgery hides: it fails the cells with facts judged against a
#: bound (03: my_loss; 05: the Adam classifier; 06: training and end to end; 07: fit and end to
#: end; 01: the sigmoid's "increasing" fact's cell); 02 and 04 have no such facts: the forgery
#: must change nothing.
MISTAKES = {
    "01_neuron": "sigmoid-casts-to-float32",
    "02_forward": "linear-no-bias",
    "03_loss": "my-loss-offset",
    "04_backprop": "bce-missing-1-over-n",
    "05_optimizer": "adam-uses-sgd",
    "06_grade_classifier": "sgd-instead-of-adam",
    "07_generalization": "fit-no-zero-grad",
}


def _mistake(lesson: str):
    return next(m for m in load_mistakes(lesson) if m.name == MISTAKES[lesson])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Graded once per test session, also when pytest's workers split this module
    (:func:`tests.conftest.once_per_session`)."""
    require_bwrap()
    return once_per_session(tmp_path_factory, "forging", _grade)


def _grade(tmp):
    course = ScratchCourse(sorted(MISTAKES), path=tmp / "course")
    course.release()
    pairs = []
    for lesson in MISTAKES:
        course.submit(f"forge-{lesson[:2]}", lesson, forge(lesson, _mistake(lesson).answers))
        pairs.append((f"forge-{lesson[:2]}", lesson))
    results = grade_class(course.path, pairs, workers=2, progress=False)
    return {"course": course, "results": {r.student: r for r in results}}


@pytest.mark.parametrize("lesson", sorted(MISTAKES))
def test_forged_records_earn_nothing(graded, lesson):
    course, student = graded["course"], f"forge-{lesson[:2]}"
    want = expected_scores(course.max_scores(lesson), _mistake(lesson).fails)
    got = course.scores(lesson, student)
    gained = {g: got[g] - want[g] for g in want if got.get(g) != want[g]}
    assert got == want, f"{student}: points gained by forging {gained}; {graded['results'][student]}"
