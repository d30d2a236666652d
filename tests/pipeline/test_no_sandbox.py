"""``./course grade --no-sandbox``: an explicit opt-in for machines with no usable sandbox. It
warns, and every score it records says it was graded without a sandbox, in the gradebook's
status table and in grades.csv."""

import csv

import pytest

from autograder import lessons
from autograder.grade.command import grade_command
from autograder.grade.scratch import ScratchCourse, submission
from autograder.pipeline import status

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
        assert len(rows) > 1 and {r["status"] for r in rows.values()} == {"graded (no sandbox)"}
        assert "(graded without a sandbox)" in rows[""]["message"]
        assert course.scores(LESSON, "perfect") == course.max_scores(LESSON)
        with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
            table = [r for r in csv.DictReader(fh) if r["student"] == "perfect"]
        assert len(table) == len(rows) and {r["status"] for r in table} == {"graded (no sandbox)"}
    finally:
        course.cleanup()
