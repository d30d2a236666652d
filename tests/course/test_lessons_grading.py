"""Scoring each lesson: the reference answers get full marks, the untouched release gets 0,
and every known mistake (tests/mistakes/<lesson>.yaml) loses exactly the cells that catch it.

Every mistake marked ``rule:`` breaks a rule the exercise text states, so the visible facts of
the release alone (what Validate and the student's own run show) must fail it.

The cases are judged as the grader judges a test cell (``autograder.authoring.mistakes.judge_cases``);
the example class and the integrity suite grade real submissions through nbgrader.
"""

import nbformat
import pytest

from autograder import ROOT
from autograder.authoring.mistakes import (
    HINTS,
    differences,
    hints_text,
    judge_cases,
    lesson_cases,
    lesson_results,
    load_mistakes,
    max_scores,
    shown_hints,
    skip_differences,
    skipped_cells,
    verdicts,
    visible_failures,
    visible_verdicts,
)
from autograder.grade.scratch import reference_answers, submission
from dlcourse.check import HINT_JOIN, HINT_MARK
from dlcourse.submission import is_written
from tests.conftest import LESSONS, once_per_session


def written_answers(lesson: str) -> set[str]:
    """The grade ids of the lesson's written answers (manually graded markdown cells)."""
    nb = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    return {c.metadata.nbgrader["grade_id"] for c in nb.cells if is_written(c)}


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_scores_exactly(lesson):
    """Exact scores of every case, and the lesson's cells tagged skip-at-grading are safe to
    skip: every case gets the same verdict (pass, message, the kernel's error) with them run."""
    assert sum(max_scores(lesson).values()) > 0
    judged = verdicts(lesson, lesson_cases(lesson))
    wrong = differences(*lesson_results(lesson, judged))
    assert not wrong, f"(got, expected) score per test cell where they differ: {wrong}"
    assert skipped_cells(lesson), f"{lesson}: no cell tagged skip-at-grading"
    unsafe = skip_differences(lesson, judged)
    assert not unsafe, f"(skipped, run) verdicts where running the tagged cells changes them: {unsafe}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_known_mistakes(lesson):
    """Every code answer cell has a known mistake; a written answer (서술형) is judged by a person,
    so none of its own (its empty answer is scored by nbgrader: tests/unit/test_written.py)."""
    mistakes = load_mistakes(lesson)
    covered = {gid for m in mistakes for gid in m.answers}
    code = {gid for gid in reference_answers(lesson) if gid not in written_answers(lesson)}
    assert code and covered == code, "every code answer cell needs a known mistake"


@pytest.fixture
def visible(tmp_path_factory):
    """``lesson -> visible_verdicts(lesson)``, run once per lesson for the whole session: the
    stated-rules and the hints tests read the same run, whichever xdist worker gets there
    first (:func:`tests.conftest.once_per_session`)."""
    return lambda lesson: once_per_session(tmp_path_factory, f"visible-verdicts-{lesson}",
                                           lambda _: visible_verdicts(lesson))


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_stated_rules_are_checked_visibly(lesson, visible):
    rules = [m for m in load_mistakes(lesson) if m.rule]
    failed = visible_failures(lesson, rules, visible(lesson))
    assert failed.pop("reference") == []
    passed_visibly = {m.name: m.rule for m in rules if not failed[m.student]}
    assert not passed_visibly, f"rule mistakes the visible checks let through: {passed_visibly}"
    assert all(set(failed[m.student]) <= set(m.fails) for m in rules), failed


@pytest.mark.slow
def test_visible_judgement_leaves_the_hidden_facts_out():
    """A my_loss right on the visible float32 inputs and wrong on the hidden float64 ones passes
    the release's test cell and fails the grader's."""
    code = ("def my_loss(pred, target):\n"
            "    if pred.dtype == torch.float64:\n"
            "        return torch.tensor(-1.0, dtype=torch.float64)\n"
            "    return ((pred - target) ** 2).mean()\n")
    case = {"float64-wrong": submission("03_loss", {"ex_my_loss": code})}
    full = max_scores("03_loss")["check_my_loss"]
    assert judge_cases("03_loss", case, visible_only=True)["float64-wrong"]["check_my_loss"] == full
    assert judge_cases("03_loss", case)["float64-wrong"]["check_my_loss"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_known_mistakes_show_their_hints(lesson, visible):
    """Every known mistake that fails a visible check shows its ``hint:``, exact, in the
    message of each visible failure that is the error it raises (the kernel adds the hint,
    Validate and the grader keep it), and the committed hint table is what ``./course hints`` writes today."""
    table, judged = shown_hints(lesson, judged=visible(lesson))
    assert hints_text(table) == (HINTS / f"{lesson}.json").read_text(encoding="utf-8"), (
        f"dlcourse/hints/{lesson}.json drifted: run ./course hints {lesson}")
    shown = 0
    for m in load_mistakes(lesson):
        for gid, (passed, message, error) in judged[m.student].items():
            if passed or error is None or not message.startswith(error[:100]):
                continue  # passed, or the message is the verdict's, not the kernel's error
            tips = message.partition(HINT_MARK)[2].split(HINT_JOIN)
            assert m.hint in tips, (m.name, gid, message)
            shown += 1
    assert shown, f"{lesson}: no known mistake shows a hint"
