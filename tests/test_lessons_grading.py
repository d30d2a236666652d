"""Scoring each lesson: the reference answers get full marks, the untouched release gets 0,
and every known mistake (tests/mistakes/<lesson>.yaml) loses exactly the cells that catch it.

The cases are judged as the grader judges a test cell (``autograder.mistakes.judge_cases``);
the example class and the integrity suite grade real submissions through nbgrader.
"""

import pytest

from autograder.grading import reference_answers
from autograder.mistakes import differences, lesson_results, load_mistakes, max_scores

from .conftest import LESSONS


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_scores_exactly(lesson):
    assert sum(max_scores(lesson).values()) > 0
    wrong = differences(*lesson_results(lesson))
    assert not wrong, f"(got, expected) score per test cell where they differ: {wrong}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_known_mistakes(lesson):
    mistakes = load_mistakes(lesson)
    covered = {gid for m in mistakes for gid in m.answers}
    assert covered == set(reference_answers(lesson)), "every answer cell needs a known mistake"
