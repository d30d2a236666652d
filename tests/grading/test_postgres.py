"""The gradebook on a real PostgreSQL server (Debian's package), several workers writing at once."""

import pytest

from autograder.authoring.mistakes import expected_scores, load_mistakes
from autograder.grade.pool import grade_class
from autograder.grade.scratch import ScratchCourse, release_notebook, submission
from autograder.pipeline.export import rows
from tests.conftest import LESSONS


@pytest.mark.slow
@pytest.mark.postgres
def test_parallel_grading_into_postgres(postgres, bwrap):
    lesson = LESSONS[0]
    mistakes = load_mistakes(lesson)[:1]
    course = ScratchCourse([lesson], db_url=postgres)
    course.release()
    cases = {"ref-a": submission(lesson), "ref-b": submission(lesson),
             "blank": release_notebook(lesson)}
    cases.update({m.student: submission(lesson, m.answers) for m in mistakes})
    for student, nb in cases.items():
        course.submit(student, lesson, nb)
    results = grade_class(course.path, [(s, lesson) for s in cases], workers=3,
                          progress=False, db=postgres)
    assert all(r.success for r in results), [r.message for r in results if not r.success]
    maxes = course.max_scores(lesson)
    want = {"ref-a": expected_scores(maxes, None), "ref-b": expected_scores(maxes, None),
            "blank": expected_scores(maxes, list(maxes))}
    want.update({m.student: expected_scores(maxes, m.fails) for m in mistakes})
    assert {s: course.scores(lesson, s) for s in cases} == want
    from nbgrader.api import Gradebook

    with Gradebook(postgres) as gb:
        table = rows(gb, course.path)
    totals = {r["student"]: r for r in table if r["cell"] == "(total)"}
    assert set(totals) == set(cases)
    assert all(r["status"] == "graded" for r in totals.values())
    course.cleanup()
