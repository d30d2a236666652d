"""Known wrong submissions (``tests/mistakes/<lesson>.yaml``) and the check that scores them.

Each entry replaces one or more answer cells of the reference answers with a plausible mistake
and names the test cells that must catch it (``fails``). Scoring a lesson's entries, together
with the reference answers (full marks) and the untouched release (zero), proves the checks
reject what they should and nothing else.

:func:`judge_cases` scores them the way the grader decides a test cell, without nbgrader's
per-notebook kernel start: one trusted kernel per lesson in the grading kernel's environment
(``reference.GRADING_ENV``) runs the cases one after another (``%reset -f`` in between), each
as the notebook the grader rebuilds (hidden tests back in), and every test cell's published
records are judged with the grader's own
:func:`autograder.pipeline.preprocessors.verdict` against the reference run. Importing torch once
instead of once per case makes this several times faster than autograding each case; the
pipeline itself (sandbox, nbgrader, gradebook) is proven on real submissions by the example
class and the integrity suite. The reference answers run first and again last: a kernel state
left behind by one case that changes another's score would show as a changed last run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from dlcourse.check import HINT_JOIN, HINT_MARK, fingerprint
from dlcourse.runner import Runner
from dlcourse.submission import SKIP_TAG, is_test_cell, rebuild, verdict

from .. import ROOT
from ..grade.scratch import reference_answers, release_notebook, submission
from ..pipeline.reference import GRADING_ENV, reference_records, visible_labels

#: Run before every case: a clean namespace and no figures left open.
RESET = "%reset -f\nimport matplotlib.pyplot\nmatplotlib.pyplot.close('all')"


@dataclass
class Mistake:
    lesson: str
    name: str
    why: str
    answers: dict[str, str]
    fails: list[str] = field(default_factory=list)
    rule: str = ""  # the rule the exercise text states and this mistake breaks ("" if none)
    hint: str = ""  # for the student, shown when a visible check fails on it ("" if none does)

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
        rule = e.get("rule", "")
        if not isinstance(rule, str) or ("rule" in e and not rule.strip()):
            raise ValueError(f"{path.name}: {name}: 'rule' quotes the stated rule it breaks "
                             "(a non-empty string)")
        hint = e.get("hint", "")
        if not isinstance(hint, str) or ("hint" in e and not hint.strip()) or (
                HINT_JOIN.strip() in hint or HINT_MARK.strip() in hint):
            raise ValueError(f"{path.name}: {name}: 'hint' is the student's hint (a non-empty "
                             "string, without the hint separators)")
        out.append(Mistake(lesson, name, e.get("why", ""), dict(cells), list(e["fails"]),
                           rule.strip(), hint.strip()))
    return out


def expected_scores(maxes: dict[str, float], fails: list[str] | None) -> dict[str, float]:
    """``fails=None``: full marks; otherwise zero for the listed cells, full for the rest."""
    if fails is None:
        return dict(maxes)
    unknown = set(fails) - set(maxes)
    if unknown:
        raise ValueError(f"unknown test cells {sorted(unknown)}")
    return {g: (0.0 if g in fails else m) for g, m in maxes.items()}


def max_scores(lesson: str, root: Path = ROOT) -> dict[str, float]:
    """``{test cell grade_id: points}`` of the lesson's release."""
    return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
            for c in release_notebook(lesson, root).cells if is_test_cell(c)}


def raised(cell) -> str | None:
    """``"Name: message"`` of an executed cell's first error, whole and without a known
    mistake's hint: what :func:`dlcourse.check.fingerprint` is taken of; ``None`` without one."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out['ename']}: {out['evalue']}".partition(HINT_MARK)[0]
    return None


def verdicts(lesson: str, cases: dict[str, nbformat.NotebookNode], root: Path = ROOT,
             timeout: int = 180, visible_only: bool = False, skip: bool = True
             ) -> dict[str, dict[str, tuple[bool, str, str | None]]]:
    """``{case: {test cell: (passed, message, error)}}`` for ``{case: student notebook}`` of one
    lesson: the grader's :func:`~dlcourse.submission.verdict` of each test cell (see the module
    docstring), and the cell's error as the kernel raised it (:func:`raised`). The cases run in
    one kernel (:class:`dlcourse.runner.Runner`). Raises ``RuntimeError`` when a case times out
    or crashes the kernel, and when the reference answers are judged differently at the end of
    the run than at its start.

    ``visible_only=True`` judges what a student can see before handing in: the release notebook
    (``notebooks/<lesson>/<lesson>.ipynb``, no hidden tests) is the template, and each test cell
    is judged against the reference records of the labels the release's test cells publish for
    the reference answers (:func:`autograder.pipeline.reference.visible_labels`), so a case passes a
    cell exactly when its visible facts hold.

    The cells the grader does not run (:data:`~dlcourse.submission.SKIP_TAG`) are not run here
    either; ``skip=False`` runs them (:func:`skip_differences` compares the two)."""
    refs = reference_records(lesson, lesson, root)
    source = release_notebook(lesson, root) if visible_only else nbformat.read(
        root / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    if visible_only:  # what the grader calls the visible verdict (reference.visible_labels)
        shown = visible_labels(lesson, lesson, root)
        refs = {gid: [r for r in refs[gid] if r["label"] in shown[gid]] for gid in refs}
    points = max_scores(lesson, root)
    ref_nb = submission(lesson, root=root)
    runs = [("(reference, first)", ref_nb), *cases.items(), ("(reference, last)", ref_nb)]
    got: dict[str, dict[str, tuple[bool, str, str | None]]] = {}
    with Runner(root / "notebooks" / lesson, env=GRADING_ENV, cell_timeout=timeout,
                skip_tag=SKIP_TAG) as runner:
        for name, nb in runs:
            nb = rebuild(source, nb)  # the grader's notebook: hidden tests back
            if not skip:
                for cell in nb.cells:
                    cell.metadata.pop("tags", None)  # only SKIP_TAG survives rebuild
            nb.cells.insert(0, nbformat.v4.new_code_cell(RESET))
            runner.run(nb)
            if runner.stopped:
                raise RuntimeError(f"{lesson}: case {name!r} {runner.stopped} (limit "
                                   f"{timeout} s per cell): the check cannot judge the rest")
            got[name] = {gid: (False, "검사 셀이 없습니다 (test cell missing)", None)
                         for gid in points}
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid in points:
                    passed, _, message = verdict(cell, refs[gid])
                    got[name][gid] = (passed, message, raised(cell))
    first, last = got.pop(runs[0][0]), got.pop(runs[-1][0])
    if first != last:
        raise RuntimeError(f"{lesson}: the reference answers were judged {first} first and "
                           f"{last} last: a case left kernel state behind")
    return got


def judge_cases(lesson: str, cases: dict[str, nbformat.NotebookNode], root: Path = ROOT,
                timeout: int = 180, visible_only: bool = False) -> dict[str, dict[str, float]]:
    """``{case: {test cell: score}}``: full points where :func:`verdicts` passes a cell, else
    0 (the arguments are :func:`verdicts`'s)."""
    return scores_of(lesson, verdicts(lesson, cases, root, timeout, visible_only), root)


def scores_of(lesson: str, judged: dict, root: Path = ROOT) -> dict[str, dict[str, float]]:
    """``{case: {test cell: score}}`` of :func:`verdicts`' ``judged``: full points where a cell
    passed, else 0."""
    points = max_scores(lesson, root)
    return {case: {gid: points[gid] if passed else 0.0 for gid, (passed, *_) in cells.items()}
            for case, cells in judged.items()}


def visible_verdicts(lesson: str, mistakes: list[Mistake] | None = None,
                     root: Path = ROOT) -> dict[str, dict[str, tuple[bool, str, str | None]]]:
    """:func:`verdicts` on the release's visible facts alone (``visible_only=True``) of the
    reference answers (as ``"reference"``) and of ``mistakes`` (default: every known mistake of
    the lesson, as ``mistake.student``): one kernel run that :func:`visible_failures` and
    :func:`shown_hints` can share."""
    mistakes = load_mistakes(lesson, root) if mistakes is None else mistakes
    cases = {"reference": submission(lesson, root=root)}
    cases.update({m.student: submission(lesson, m.answers, root=root) for m in mistakes})
    return verdicts(lesson, cases, root, visible_only=True)


def visible_failures(lesson: str, mistakes: list[Mistake],
                     judged: dict | None = None) -> dict[str, list[str]]:
    """``{mistake: [test cells it fails]}`` judged on the release's visible facts alone; the
    reference answers come first as ``"reference"`` and must fail nothing. ``judged``:
    :func:`visible_verdicts` already run (of these mistakes or more), else it runs here."""
    judged = judged if judged is not None else visible_verdicts(lesson, mistakes)
    maxes = max_scores(lesson)
    got = scores_of(lesson, {c: judged[c] for c in ["reference", *(m.student for m in mistakes)]})
    return {case: sorted(g for g, v in scores.items() if v != maxes[g])
            for case, scores in got.items()}


#: The hint tables ``./course hints`` writes: ``<lesson>.json``, ``{fingerprint: hint}``, the
#: package data :func:`dlcourse.check.lesson_hints` reads in the student's kernel.
HINTS = ROOT / "dlcourse" / "hints"


def shown_hints(lesson: str, root: Path = ROOT,
                judged: dict | None = None) -> tuple[dict[str, str], dict[str, dict]]:
    """``(table, judged)``: the lesson's hint table, ``{fingerprint: hint}`` of the error each
    known mistake raises in a test cell of the release (:func:`verdicts` with
    ``visible_only=True``; the hints of mistakes that raise the same error joined by
    :data:`dlcourse.check.HINT_JOIN`, in the order of the YAML file), and the ``judged`` cases
    themselves (``{mistake.student: {test cell: (passed, message, error)}}``; ``judged``:
    :func:`visible_verdicts` already run, else it runs here). Raises
    ``ValueError`` when a mistake that fails a visible check has no ``hint:``, when a mistake
    with a ``hint:`` fails none, or when none of its visible failures raised an error to take a
    fingerprint of (a cell whose kernel passed and whose reference run disagrees shows no
    hint)."""
    mistakes = load_mistakes(lesson, root)
    judged = judged if judged is not None else visible_verdicts(lesson, mistakes, root)
    tips: dict[str, list[str]] = {}
    problems = []
    for m in mistakes:
        failing = {gid: err for gid, (ok, _, err) in judged[m.student].items() if not ok}
        if failing and not m.hint:
            problems.append(f"{m.name} fails {sorted(failing)} visibly: write its 'hint:'")
        if m.hint and not failing:
            problems.append(f"{m.name} fails no visible check: its 'hint:' is never shown")
        raising = [err for err in failing.values() if err is not None]
        if failing and not raising:
            problems.append(f"{m.name}: {sorted(failing)} fail visibly without an error to "
                            "show a hint in")
        for err in raising if m.hint else []:
            tips.setdefault(fingerprint(err), []).append(m.hint)
    if problems:
        raise ValueError(f"{lesson}: " + "; ".join(problems))
    table = {fp: HINT_JOIN.join(dict.fromkeys(found)) for fp, found in sorted(tips.items())}
    return table, judged


def hints_text(table: dict[str, str]) -> str:
    """The bytes of ``dlcourse/hints/<lesson>.json`` (UTF-8): sorted, one entry a line."""
    return json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n"


def write_hints(names: list[str]) -> None:
    """``./course hints``: write :data:`HINTS` ``/<lesson>.json`` of each lesson
    (:func:`shown_hints`)."""
    HINTS.mkdir(exist_ok=True)
    for lesson in names:
        table, _ = shown_hints(lesson)
        (HINTS / f"{lesson}.json").write_text(hints_text(table), encoding="utf-8")
        print(f"{lesson}: {len(table)} hints of known mistakes")


def lesson_cases(lesson: str) -> dict[str, nbformat.NotebookNode]:
    """``{case: student notebook}``: the reference answers, the untouched release and every
    known mistake of ``lesson``."""
    cases = {"reference": submission(lesson), "untouched": release_notebook(lesson)}
    cases.update({m.student: submission(lesson, m.answers) for m in load_mistakes(lesson)})
    return cases


def lesson_results(lesson: str, judged: dict | None = None) -> tuple[dict, dict]:
    """``(got, want)``: ``{case: {test cell: score}}`` judged (from :func:`verdicts`'
    ``judged`` of :func:`lesson_cases` when given) and expected for :func:`lesson_cases`."""
    maxes = max_scores(lesson)
    want = {"reference": expected_scores(maxes, None),
            "untouched": expected_scores(maxes, list(maxes))}
    want.update({m.student: expected_scores(maxes, m.fails) for m in load_mistakes(lesson)})
    return scores_of(lesson, judged or verdicts(lesson, lesson_cases(lesson))), want


def skipped_cells(lesson: str, root: Path = ROOT) -> list[int]:
    """Indices of the code cells of the instructor notebook tagged
    :data:`~dlcourse.submission.SKIP_TAG` (not run at grading)."""
    nb = nbformat.read(root / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and SKIP_TAG in c.metadata.get("tags", [])]


def skip_differences(lesson: str, skipped: dict | None = None) -> dict[str, dict[str, tuple]]:
    """``{case: {test cell: (verdict with the skip, verdict without)}}`` over
    :func:`lesson_cases` wherever not running the lesson's :func:`skipped_cells` changes a
    verdict (passed, message or the kernel's error): empty when every mark is safe.
    ``skipped``: :func:`verdicts` of :func:`lesson_cases` already judged with the skip."""
    cases = lesson_cases(lesson)
    skipped = skipped or verdicts(lesson, cases)
    ran = verdicts(lesson, cases, skip=False)
    out = {}
    for case, cells in ran.items():
        diff = {g: (skipped[case].get(g), v) for g, v in cells.items()
                if skipped[case].get(g) != v}
        if diff:
            out[case] = diff
    return out


def differences(got: dict, want: dict) -> dict[str, dict[str, tuple]]:
    """``{case: {test cell: (got, want)}}`` for every score that is not the expected one."""
    out = {}
    for case, cells in want.items():
        diff = {g: (got[case].get(g), w) for g, w in cells.items() if got[case].get(g) != w}
        if diff:
            out[case] = diff
    return out


def check_lessons(names: list[str]) -> bool:
    """``./course check``: print every case's score and whether it is the expected one."""
    ok_all = True
    for lesson in names:
        judged = verdicts(lesson, lesson_cases(lesson))
        got, want = lesson_results(lesson, judged)
        wrong = differences(got, want)
        ok_all &= not wrong
        maxes = want["reference"]
        print(f"\n{lesson}: {len(maxes)} test cells, {sum(maxes.values()):g} points, "
              f"{len(want) - 2} known mistakes")
        for student in want:
            total = sum(got[student].values())
            line = (f"  {'BAD' if student in wrong else 'ok '} {student:45s} "
                    f"{total:5g}/{sum(maxes.values()):g}")
            if student in wrong:
                line += f"  (cell: got, want) {wrong[student]}"
            print(line)
        if skipped_cells(lesson):
            unsafe = skip_differences(lesson, judged)
            ok_all &= not unsafe
            line = (f"  {'BAD' if unsafe else 'ok '} {SKIP_TAG}: {len(skipped_cells(lesson))} "
                    "cells not run at grading")
            print(line + (f"; verdicts change when they run (case: cell: (skipped, run)) {unsafe}"
                          if unsafe else ", every case judged the same with and without them"))
    return ok_all


__all__ = ["Mistake", "load_mistakes", "expected_scores", "max_scores", "raised", "verdicts",
           "judge_cases", "scores_of", "visible_verdicts", "visible_failures", "HINTS", "shown_hints", "hints_text", "write_hints",
           "lesson_cases", "lesson_results", "skipped_cells", "skip_differences", "differences",
           "check_lessons", "reference_answers"]
