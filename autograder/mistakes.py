"""Known wrong submissions (``tests/mistakes/<lesson>.yaml``) and the check that grades them.

Each entry replaces one or more answer cells of the reference answers with a plausible mistake
and names the test cells that must catch it (``fails``). Grading a lesson's entries, together
with the reference answers (full marks) and the untouched release (zero), proves the checks
reject what they should and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import ROOT
from .grading import ScratchCourse, reference_answers, release_notebook, submission
from .parallel import grade_class


@dataclass
class Mistake:
    lesson: str
    name: str
    why: str
    answers: dict[str, str]
    fails: list[str] = field(default_factory=list)

    @property
    def student(self) -> str:
        return f"mistake-{self.name}"


def load_mistakes(lesson: str, root: Path = ROOT) -> list[Mistake]:
    path = root / "tests" / "mistakes" / f"{lesson}.yaml"
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    answers = reference_answers(lesson, root)
    out, seen = [], set()
    for e in entries:
        name = e["name"]
        if name in seen:
            raise ValueError(f"{path.name}: duplicate mistake {name!r}")
        seen.add(name)
        cells = e.get("cells") or {e["cell"]: e["code"]}
        for gid in cells:
            if gid not in answers:
                raise ValueError(f"{path.name}: {name}: no answer cell {gid!r}")
        if not e.get("fails"):
            raise ValueError(f"{path.name}: {name}: a mistake must fail at least one check")
        out.append(Mistake(lesson, name, e.get("why", ""), dict(cells), list(e["fails"])))
    return out


def expected_scores(maxes: dict[str, float], fails: list[str] | None) -> dict[str, float]:
    """``fails=None``: full marks; otherwise zero for the listed cells, full for the rest."""
    if fails is None:
        return dict(maxes)
    unknown = set(fails) - set(maxes)
    if unknown:
        raise ValueError(f"unknown test cells {sorted(unknown)}")
    return {g: (0.0 if g in fails else m) for g, m in maxes.items()}


def grade_cases(lesson: str, cases: dict[str, object]) -> tuple[ScratchCourse, dict]:
    """Autograde ``{student: notebook}`` for one lesson in a scratch course; returns the
    course and ``{student: {cell: score}}``."""
    course = ScratchCourse([lesson])
    course.release()
    for student, nb in cases.items():
        course.submit(student, lesson, nb)
    grade_class(course.path, [(s, lesson) for s in cases], progress=False, db=course.db_url)
    return course, {s: course.scores(lesson, s) for s in cases}


def check_lessons(names: list[str]) -> bool:
    ok_all = True
    for lesson in names:
        mistakes = load_mistakes(lesson)
        cases = {"reference": submission(lesson), "untouched": release_notebook(lesson)}
        for m in mistakes:
            cases[m.student] = submission(lesson, m.answers)
        course, got = grade_cases(lesson, cases)
        maxes = course.max_scores(lesson)
        want = {"reference": expected_scores(maxes, None),
                "untouched": expected_scores(maxes, list(maxes))}
        for m in mistakes:
            want[m.student] = expected_scores(maxes, m.fails)
        print(f"\n{lesson}: {len(maxes)} test cells, {sum(maxes.values()):g} points, "
              f"{len(mistakes)} known mistakes")
        for student, expected in want.items():
            ok = got[student] == expected
            ok_all &= ok
            total = sum(got[student].values())
            line = f"  {'ok ' if ok else 'BAD'} {student:45s} {total:5g}/{sum(maxes.values()):g}"
            if not ok:
                diff = {g: (got[student].get(g), expected[g]) for g in expected
                        if got[student].get(g) != expected[g]}
                line += f"  (cell: got, want) {diff}"
            print(line)
        if ok_all:
            course.cleanup()
        else:
            print(f"  graded notebooks kept in {course.path}/autograded")
    return ok_all


__all__ = ["Mistake", "load_mistakes", "expected_scores", "grade_cases", "check_lessons",
           "reference_answers"]
