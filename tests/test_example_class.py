"""The main job's example class gets exactly the expected scores and statuses, every time."""

import csv

import nbformat
import pytest

from autograder import lessons
from autograder.examples import STUDENTS, expected
from autograder.report import tables, write_report
from autograder.run import grade_example_class, score_table
from tests.integrity_helpers import same_judgement, validate_all


@pytest.mark.slow
def test_example_class(bwrap, tmp_path, monkeypatch):
    import autograder.run as run

    monkeypatch.setattr(run, "EXAMPLE_DIR", tmp_path / "example-class")
    course = grade_example_class(workers=2, progress=False)
    names = lessons()
    with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
        table = list(csv.DictReader(fh))
    for student in STUDENTS:
        for lesson in names:
            maxes = course.max_scores(lesson)
            want_scores, want_status = expected(student, lesson, names, maxes)
            assert course.scores(lesson, student) == want_scores, (student, lesson)
            total = next(r for r in table if r["student"] == student
                         and r["assignment"] == lesson and r["cell"] == "(total)")
            assert total["status"] == want_status, (student, lesson, total)
            assert float(total["score"]) == sum(want_scores.values())
    # One judgement: Validate says of every visible check what the grade says.
    readable = [(s, n) for s in STUDENTS for n in names
                if (course.path / "submitted" / s / n / f"{n}.ipynb").exists()]
    reports = validate_all([course.path / "submitted" / s / n / f"{n}.ipynb" for s, n in readable])
    for (student, lesson), report in zip(readable, reports, strict=True):
        same_judgement(report, nbformat.read(
            course.path / "autograded" / student / lesson / f"{lesson}.ipynb", as_version=4))
    cells = [r for r in table if r["cell"] != "(total)"]
    assert all(r["status"] for r in cells)
    for student in ("perfect", "untouched", "partial"):
        assert (course.path / "feedback" / student / names[0] / f"{names[0]}.html").exists()
    table_text = score_table(course)
    assert table_text.splitlines()[1].startswith("perfect")
    assert "crashed" in table_text and "missing" in table_text

    report = write_report(course.path, course.db_url, tmp_path / "report.html").read_text()
    assert report.count("<img") >= 3  # score distribution, item analysis, grading time
    items = tables(course.path, course.db_url)["items"]
    assert list(items.failed) == sorted(items.failed, reverse=True)  # hardest first
    hardest = items.iloc[0]
    assert hardest.concept in report and hardest.failed >= 0.5
    assert "status other than graded" in report and "invalid json" in report
