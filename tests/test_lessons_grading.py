"""Autograding each lesson: the reference answers get full marks, the untouched release gets 0,
and every known mistake (tests/mistakes/<lesson>.yaml) loses exactly the cells that catch it."""

import pytest

from autograder.grading import release_notebook, submission
from autograder.mistakes import expected_scores, grade_cases, load_mistakes

from .conftest import LESSONS


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_grades_exactly(lesson, bwrap):
    mistakes = load_mistakes(lesson)
    cases = {"reference": submission(lesson), "untouched": release_notebook(lesson)}
    cases.update({m.student: submission(lesson, m.answers) for m in mistakes})
    course, got = grade_cases(lesson, cases)
    maxes = course.max_scores(lesson)
    assert sum(maxes.values()) > 0
    want = {"reference": expected_scores(maxes, None),
            "untouched": expected_scores(maxes, list(maxes))}
    want.update({m.student: expected_scores(maxes, m.fails) for m in mistakes})
    assert got == want
    course.cleanup()


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_known_mistakes(lesson):
    from autograder.grading import reference_answers

    mistakes = load_mistakes(lesson)
    covered = {gid for m in mistakes for gid in m.answers}
    assert covered == set(reference_answers(lesson)), "every answer cell needs a known mistake"
