"""``./course grade --no-sandbox``: an explicit opt-in for machines with no usable sandbox. It
warns, and every score it records says it was graded without a sandbox, in the gradebook's
status table and in grades.csv. A written answer runs nothing: it waits for a person as it
would in the sandbox."""

import csv

import pytest

from autograder import lessons
from autograder.grade.command import grade_command
from autograder.grade.scratch import ScratchCourse, submission
from autograder.pipeline import status
from dlcourse.status import Status

LESSON = lessons()[0]


@pytest.mark.slow
def test_no_sandbox_warns_and_every_score_says_so(capsys):
    course = ScratchCourse([LESSON])
    try:
        course.submit("perfect", LESSON, submission(LESSON))
        assert grade_command([LESSON], workers=1, root=course.path, sandbox=False) == 0
        out = capsys.readouterr().out
        assert out.startswith("경고: 샌드박스 없이 채점합니다 (WARNING: grading without a sandbox)")
        assert "canary: 기준 답안 만점" in out
        known = status.load(course.db_url)
        rows = {cell: row for (a, s, n, cell), row in known.items() if s == "perfect"}
        written = set(course.written_points(LESSON))
        assert written and {rows[c]["status"] for c in written} == {Status.NEEDS_MANUAL}
        assert len(rows) > 1 + len(written) and {
            r["status"] for c, r in rows.items() if c not in written} == {"graded (no sandbox)"}
        assert "(graded without a sandbox)" in rows[""]["message"]
        assert course.scores(LESSON, "perfect") == course.max_scores(LESSON)
        with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
            table = [r for r in csv.DictReader(fh) if r["student"] == "perfect"]
        assert len(table) == len(rows) and {r["status"] for r in table
                                            if r["cell"] not in written} == {"graded (no sandbox)"}
    finally:
        course.cleanup()
