"""Issue #27 item 1: paths built from submitted data stay in the submission folder, through the
real ``./course grade`` (:func:`autograder.grade.command.grade_command`) on one scratch course.

A ``.dlcourse-renamed`` handed in by a student (pointing at the solutions or at a classmate's
folder) is ignored and named; a symlinked notebook is refused, never graded as the student's."""

import contextlib
import csv
import io
import os
from datetime import UTC, datetime

import pytest
from nbgrader.api import Gradebook

from autograder.grade.command import grade_command
from autograder.grade.scratch import ScratchCourse, reference_answers, release_notebook, submission
from autograder.paths import UnsafePath, confined, symlinks
from autograder.pipeline import received
from autograder.pipeline.export import rows
from autograder.pipeline.preprocessors import RENAMED
from tests.support.integrity_helpers import html_text, require_bwrap

LESSON = "01_neuron"
OLD = 1_000_000_000  # an mtime older than the course's files: the old code then copied the target
MARKERS = {"marker-solutions": f"../../../solutions/{LESSON}/{LESSON}.ipynb",
           "marker-classmate": f"../../honest/{LESSON}/{LESSON}.ipynb"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bwrap()
    course = ScratchCourse([LESSON], path=tmp_path_factory.mktemp("confine") / "course")
    course.release()
    course.submit("honest", LESSON, submission(LESSON))
    for student, target in MARKERS.items():
        path = course.submit(student, LESSON, release_notebook(LESSON))
        (path.parent / RENAMED).write_text(target, encoding="utf-8")
        os.utime(path, (OLD, OLD))
    link = course.submit("symlink", LESSON, None).parent / f"{LESSON}.ipynb"
    link.symlink_to(course.path / "solutions" / LESSON / f"{LESSON}.ipynb")
    rc = grade_command([LESSON], workers=2, root=course.path)
    with Gradebook(course.db_url) as gb:
        table = rows(gb, course.path)
    yield dict(course=course, rc=rc, table=table)
    course.cleanup()


def total(graded, student):
    return next(r for r in graded["table"] if r["student"] == student and r["cell"] == "(total)")


def test_the_honest_classmate_keeps_full_marks(graded):
    row = total(graded, "honest")
    assert graded["rc"] == 0
    assert (float(row["score"]), row["status"]) == (10.0, "graded"), row


@pytest.mark.parametrize("student", sorted(MARKERS))
def test_an_uploaded_marker_is_ignored_and_named(graded, student):
    """The untouched release is graded as it is (0 of 10), the marker is named, and no reference
    answer reaches the student's feedback."""
    course, row = graded["course"], total(graded, student)
    assert (float(row["score"]), row["status"]) == (0.0, "graded"), row
    assert "uploaded marker ignored" in row["message"], row
    assert "renamed notebook graded" not in row["message"], row
    feedback = html_text(course.path / "feedback" / student / LESSON / f"{LESSON}.html")
    for answer in reference_answers(LESSON).values():
        leaked = [x.strip() for x in answer.splitlines() if "return" in x and x.strip() in feedback]
        assert not leaked, leaked
    assert not (course.path / ".dlcourse" / "renamed" / student).exists()


def test_a_symlinked_notebook_is_refused(graded):
    course, row = graded["course"], total(graded, "symlink")
    assert (float(row["score"]), row["status"]) == (0.0, "refused"), row
    assert row["message"] == (f"symlink/{LESSON}: 심볼릭 링크는 채점하지 않습니다 (symlink "
                              f"refused): {LESSON}.ipynb; 파일 자체를 제출하세요 (hand in the "
                              "file itself)"), row
    assert not (course.path / "autograded" / "symlink").exists()
    assert not (course.path / "feedback" / "symlink").exists()


def test_confined_refuses_what_leaves_the_folder(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "link.ipynb").symlink_to(tmp_path / "a.ipynb")
    assert confined(tmp_path, "a.ipynb") == tmp_path / "a.ipynb"
    for name in ("../a.ipynb", "..", ".", "", "sub/a.ipynb", "link.ipynb", "a\0b"):
        with pytest.raises(UnsafePath):
            confined(tmp_path, name)
    assert symlinks(tmp_path) == ["link.ipynb"]


BAD_IDS = ("=HYPERLINK(1)", ".hidden", "-rf", "with space")


def test_a_refused_folder_is_never_graded_but_listed_and_never_stops_the_late_policy(tmp_path):
    """A ``submitted/`` folder whose name breaks the id rule (``check_id``) is listed as refused
    with the reason and the exit status is 1; it is never graded nor a gradebook student, and
    ``grades.csv`` and the report list it (status ``refused``, score 0, the reason). A refused
    folder's time decides nothing: under a late policy, a symlinked folder the course has no
    time for is refused, never "submission time unknown" stopping the whole class."""
    require_bwrap()
    course = ScratchCourse([LESSON], path=tmp_path / "course")
    course.release()
    (course.path / "deadlines.toml").write_text(
        f'[due]\n{LESSON} = 2099-01-01T00:00:00\n[late]\npolicy = "zero"\n', encoding="utf-8")
    course.submit("honest", LESSON, submission(LESSON))
    received.record(course.path, "honest", LESSON, datetime.now(UTC), "test")
    link = course.submit("linked", LESSON, None).parent / f"{LESSON}.ipynb"
    link.symlink_to(course.path / "submitted" / "honest" / LESSON / f"{LESSON}.ipynb")
    for name in BAD_IDS:
        course.submit(name, LESSON, submission(LESSON))
    console = io.StringIO()
    with contextlib.redirect_stdout(console):
        rc = grade_command([LESSON], workers=2, root=course.path)
    out = console.getvalue()
    assert rc == 1, out
    why = {name: (f"submitted/{name!r}/{LESSON}: 폴더를 채점하지 않았습니다 (folder refused, not "
                  f"graded): 잘못된 이름입니다 (invalid id): {name!r}") for name in BAD_IDS}
    for name, line in why.items():
        assert out.count(f"{line}\n") == 2, out  # before grading and in the summary
        assert not (course.path / "autograded" / name).exists()
        assert not (course.path / "feedback" / name).exists()
    with Gradebook(course.db_url) as gb:
        assert sorted(s.id for s in gb.students) == ["honest", "linked"]
    with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
        totals = {r["student"]: r for r in csv.DictReader(fh) if r["cell"] == "(total)"}
    shown = {name: ("'" + name if name.startswith(("=", "-")) else name) for name in BAD_IDS}
    assert sorted(totals) == sorted(["honest", "linked", *shown.values()])
    for name in BAD_IDS:
        row = totals[shown[name]]
        assert (row["score"], row["max_score"], row["status"], row["message"]) == (
            "0.0", "12.0", "refused", why[name]), row
    assert (totals["honest"]["score"], totals["honest"]["status"]) == ("10.0", "graded")
    assert (totals["linked"]["score"], totals["linked"]["status"]) == ("0.0", "refused")
    assert "symlink refused" in totals["linked"]["message"]
    report = html_text(course.path / "reports" / "instructor-report.html")
    for name in BAD_IDS:
        assert why[name] in report
    course.cleanup()
