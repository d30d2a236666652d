"""The hints of known mistakes (``tests/mistakes/<lesson>.yaml`` ``hint:``, shipped as
``dlcourse/hints/<lesson>.json``): written for students, nothing of the instructors' side in
them, and kept whole when Validate and the grader cut a long message. That every known mistake
failing a visible check shows its hint is ``tests/course/test_lessons_grading.py``'s (it runs them).

Also every exercise's collapsible hint (a markdown cell ``<details><summary>힌트 (Hint)</summary>``
right after the exercise's statement, CONTRIBUTING.md): one per exercise, no line of the
solution or the hidden tests in it. ``tests/environment/test_browser.py`` opens one in JupyterLab."""

import json
import re

import pytest

from autograder import ROOT, lessons
from autograder.authoring.mistakes import HINTS, load_mistakes
from dlcourse import check
from dlcourse.check import HINT_JOIN, HINT_MARK, common_mistakes, fingerprint
from dlcourse.exercises import HEADING
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
    secret = secret_lines(lesson)
    for m in mistakes:
        assert m.why and m.why not in text, (m.name, "why: reached the release")
        if m.hint:
            assert re.search(r"[가-힣]", m.hint) and re.search(r"\([^)]*[A-Za-z][^)]*\)", m.hint), m
            assert not [ln for ln in secret if ln in m.hint], m.name


def secret_lines(lesson: str) -> set[str]:
    """The lines of the lesson's solutions and hidden tests that the release (but for its
    exercise hints) does not show, longer than 12 characters, and of each ``return x`` or
    ``y = x`` among them its ``x``."""
    nb = json.loads((ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    secret = "\n".join(part for c in nb["cells"] for part in
                       SOLUTION.findall("".join(c["source"])) +
                       [m.group(0) for m in HIDDEN_BLOCK.finditer("".join(c["source"]))])
    release = json.loads((ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_text(
        encoding="utf-8"))
    public = "\n".join(src for c in release["cells"]
                       if "<details" not in (src := "".join(c["source"])))
    lines = {ln.strip() for ln in secret.splitlines()}
    lines |= {m.group(1).strip() for ln in lines
              if (m := re.match(r"(?:return\s+|[\w.\[\], ]+=(?!=))(.+)", ln))}
    return {ln for ln in lines if len(ln) > 12 and ln not in public}


#: How an exercise's hint cell opens and closes (CONTRIBUTING.md, the lesson skeleton).
HINT_OPEN, HINT_CLOSE = "<details><summary>힌트 (Hint)</summary>\n\n", "\n\n</details>"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_one_collapsible_hint_after_its_statement(lesson):
    """In the release, the cell right after each exercise's statement (the markdown cell with
    its ``### 연습 N.M (Exercise N.M, k점)`` heading) is its hint: a markdown cell without
    nbgrader metadata, ``<details><summary>힌트 (Hint)</summary>`` … ``</details>`` (collapsed
    until clicked), followed by the answer cell; no other cell has a ``<details>``. A hint is
    Korean with English terms and quotes no line of the solution or hidden tests."""
    nb = json.loads((ROOT / "notebooks" / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    cells = [(c["cell_type"], "".join(c["source"]), c["metadata"]) for c in nb["cells"]]
    statements = [i for i, (kind, src, _) in enumerate(cells)
                  if kind == "markdown" and HEADING.search(src)]
    hints = [i for i, (_, src, _) in enumerate(cells) if "<details" in src]
    assert statements, f"{lesson}: no exercise heading"
    assert hints == [i + 1 for i in statements], (statements, hints)
    secret = secret_lines(lesson)
    for i in hints:
        kind, src, meta = cells[i]
        answer = cells[i + 1]
        assert kind == "markdown" and "nbgrader" not in meta, f"cell {i}"
        assert answer[0] == "code" and answer[2].get("nbgrader", {}).get("solution"), f"cell {i}"
        assert src.startswith(HINT_OPEN) and src.endswith(HINT_CLOSE), f"cell {i}: {src[:60]!r}"
        assert src.count("<details") == 1 and src.count("</details>") == 1, f"cell {i}"
        body = src[len(HINT_OPEN):-len(HINT_CLOSE)]
        assert re.search(r"[가-힣]", body) and re.search(r"\([^)]*[A-Za-z][^)]*\)", body), body
        assert not [ln for ln in secret if ln in body], f"cell {i} quotes the solution"


def test_a_known_hint_survives_the_cut_and_a_made_up_one_does_not():
    tip = next(iter(common_mistakes().values()))
    long = "CheckFailed: " + "가" * (ERROR_CHARS + 50)
    assert cut_error_value(f"{long}{HINT_MARK}{tip}") == f"{long[:ERROR_CHARS]} …{HINT_MARK}{tip}"
    assert cut_error_value(cut_error_value(f"{long}{HINT_MARK}{tip}")) == cut_error_value(
        f"{long}{HINT_MARK}{tip}")
    made_up = f"{long}{HINT_MARK}hidden test says 42"
    assert cut_error_value(made_up) == made_up[:ERROR_CHARS] + " …"


def test_a_check_shows_its_own_lessons_hint_of_an_error_known_in_two_lessons(monkeypatch):
    """The same error (a library's message) is a known mistake of lessons 02 and 05, as in the
    shipped tables: a check of exercise 5.x shows 05's hint alone, one of 2.x 02's alone; a
    check whose title names no exercise shows both, joined."""
    shared = [fp for fp in common_mistakes() if HINT_JOIN in common_mistakes()[fp]]
    assert shared, "no error is a known mistake of two lessons: this test has nothing to show"
    error = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x5 and 3x4)"
    tables = {"02_forward": {fingerprint(error): "02의 힌트 (hint)"},
              "05_optimizer": {fingerprint(error): "05의 힌트 (hint)"}}
    monkeypatch.setattr(check, "lesson_hints", lambda: tables)
    check.common_mistakes.cache_clear()
    check.known_hints.cache_clear()
    try:
        shown = {}
        for title in ("연습 5.6 두 층 역전파", "연습 2.4 순전파", "종합: 학점 분류기 (end to end)"):
            with pytest.raises(RuntimeError) as info, check.Check(title, hidden=False):
                raise RuntimeError(error.partition(": ")[2])
            shown[title] = str(info.value).partition(HINT_MARK)[2]
        assert shown == {"연습 5.6 두 층 역전파": "05의 힌트 (hint)",
                         "연습 2.4 순전파": "02의 힌트 (hint)",
                         "종합: 학점 분류기 (end to end)": f"02의 힌트 (hint){HINT_JOIN}05의 힌트 (hint)"}
        long = "가" * (ERROR_CHARS + 5)
        for tip in shown.values():  # each, alone or joined, survives Validate's and the grader's cut
            assert cut_error_value(f"{long}{HINT_MARK}{tip}").endswith(f"{HINT_MARK}{tip}")
    finally:
        check.common_mistakes.cache_clear()
        check.known_hints.cache_clear()
