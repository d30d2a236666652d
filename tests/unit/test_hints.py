"""The hints of known mistakes (``tests/mistakes/<lesson>.yaml`` ``hint:``, shipped as
``dlcourse/hints/<lesson>.json``): written for students, nothing of the instructors' side in
them, and kept whole when Validate and the grader cut a long message. That every known mistake
failing a visible check shows its hint is ``tests/course/test_lessons_grading.py``'s (it runs them)."""

import json
import re

import pytest

from autograder import ROOT, lessons
from autograder.authoring.mistakes import HINTS, load_mistakes
from dlcourse.check import HINT_JOIN, HINT_MARK, common_mistakes
from dlcourse.submission import ERROR_CHARS, HIDDEN_BLOCK, cut_error_value

LESSONS = lessons()
SOLUTION = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)


def shipped(lesson: str) -> str:
    return "\n".join((ROOT / p).read_text(encoding="utf-8") for p in (
        f"notebooks/{lesson}/{lesson}.ipynb", f"dlcourse/releases/{lesson}.ipynb",
        f"dlcourse/hints/{lesson}.json"))


@pytest.mark.parametrize("lesson", LESSONS)
def test_hints_are_for_students_and_nothing_for_instructors_ships(lesson):
    """A hint is Korean with an English key phrase in parentheses; no ``why:`` (written for
    instructors) reaches the release, Validate's copy or the hint table; the table holds only
    the YAML's hints; no hint quotes a line of the solution or of the hidden tests."""
    mistakes = load_mistakes(lesson)
    text = shipped(lesson)
    table = json.loads((HINTS / f"{lesson}.json").read_text(encoding="utf-8"))
    hints = {m.hint for m in mistakes if m.hint}
    assert hints, f"{lesson}: no hints"
    assert {tip for value in table.values() for tip in value.split(HINT_JOIN)} == hints
    source = (ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8")
    nb = json.loads(source)
    secret = "\n".join(part for c in nb["cells"] for part in
                       SOLUTION.findall("".join(c["source"])) +
                       [m.group(0) for m in HIDDEN_BLOCK.finditer("".join(c["source"]))])
    public = (ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8")
    secret_lines = {ln.strip() for ln in secret.splitlines()
                    if len(ln.strip()) > 12 and json.dumps(ln.strip())[1:-1] not in public}
    for m in mistakes:
        assert m.why and m.why not in text, (m.name, "why: reached the release")
        if m.hint:
            assert re.search(r"[가-힣]", m.hint) and re.search(r"\([^)]*[A-Za-z][^)]*\)", m.hint), m
            assert not [ln for ln in secret_lines if ln in m.hint], m.name


def test_a_known_hint_survives_the_cut_and_a_made_up_one_does_not():
    tip = next(iter(common_mistakes().values()))
    long = "CheckFailed: " + "가" * (ERROR_CHARS + 50)
    assert cut_error_value(f"{long}{HINT_MARK}{tip}") == f"{long[:ERROR_CHARS]} …{HINT_MARK}{tip}"
    assert cut_error_value(cut_error_value(f"{long}{HINT_MARK}{tip}")) == cut_error_value(
        f"{long}{HINT_MARK}{tip}")
    made_up = f"{long}{HINT_MARK}hidden test says 42"
    assert cut_error_value(made_up) == made_up[:ERROR_CHARS] + " …"
