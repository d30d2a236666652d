"""Grading a written answer by hand in nbgrader's formgrader (``./course formgrader``), in
Chromium: the instructor gives points and a comment; ``grades.csv``, the instructor report, the
feedback page and an LMS export carry them exactly, and a regrade (``./course grade`` again)
keeps them. Screenshots: ``build/screenshots/formgrader-*.png``."""

from __future__ import annotations

import csv

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbgrader.api import Gradebook
from playwright.sync_api import expect

from autograder import ROOT
from autograder.grade.command import formgrader_command, grade_command
from autograder.grade.report import WAITING
from autograder.grade.scratch import ScratchCourse, submission
from autograder.lms import export_grades
from dlcourse.submission import is_written
from tests.pipeline.test_pages_inert import instructor_server
from tests.support.integrity_helpers import require_bwrap

LESSON = "01_neuron"
STUDENT = "20240003"
SCREENSHOTS = ROOT / "build" / "screenshots"
ANSWER = "계단 함수는 거의 모든 곳에서 기울기가 0이라 경사 하강법이 가중치를 고칠 수 없습니다."
POINTS, COMMENT = 1.5, "기울기 0은 좋습니다. 부드러운 함수가 주는 학습 신호도 쓰세요."
#: Canvas's gradebook export (the roster ``./course lms-export`` fills in).
CANVAS = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{LESSON} (5678)"],
          ["    Points Possible", "", "", "", "", ""],
          ["Lee, Minho", "3001", STUDENT, "minho@uni.ac.kr", "A", ""]]


def written_id() -> str:
    nb = nbformat.read(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    return next(c.metadata.nbgrader["grade_id"] for c in nb.cells if is_written(c))


def grades(course) -> dict[str, dict]:
    with open(course.path / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        return {r["cell"]: r for r in csv.DictReader(fh) if r["student"] == STUDENT}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    require_bwrap()
    course = ScratchCourse([LESSON], path=tmp_path_factory.mktemp("formgrader") / "course")
    course.release()
    course.submit(STUDENT, LESSON, submission(LESSON, {written_id(): ANSWER}))
    assert grade_command([LESSON], root=course.path, workers=1) == 0
    yield course
    course.cleanup()


def test_written_answer_graded_by_hand_arrives_everywhere(course, browser, tmp_path):
    gid = written_id()
    before = grades(course)
    assert before[gid]["status"] == "needs manual grading" and before[gid]["score"] == ""
    assert before["(total)"]["message"] == ("서술형 1개가 채점을 기다립니다 "
                                            "(1 written answer needs manual grading)")
    tests_total = float(before["(total)"]["score"])
    report = (course.path / "reports" / "instructor-report.html").read_text(encoding="utf-8")
    assert f"{WAITING}: 1</h2>" in report

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with instructor_server(course, tmp_path, formgrader_command) as (base, token, log):
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(e.message))
        # What ./course formgrader opens: the server's URL with its token, then formgrader
        # (default_url). The login cookie is set here, for the whole server; a submission's
        # URL opened first would scope it to that page (nbgrader's handlers strip the base
        # URL's "/", so the cookie has no Path) and formgrader's API calls would go to /login.
        page.goto(f"{base}/?token={token}")
        assert page.url == f"{base}/formgrader/manage_assignments"
        page.get_by_role("link", name="Manual Grading").click()
        page.get_by_role("link", name=LESSON, exact=True).click()  # the assignment
        page.get_by_role("link", name=LESSON, exact=True).last.click()  # its notebook
        row = page.locator("#main-table tr", has_text="Submission #1")
        expect(row.locator("td.written-score")).to_have_text("0 / 2")
        expect(row.locator("td.needs-manual-grade .glyphicon-ok")).to_have_count(1)
        page.screenshot(path=str(SCREENSHOTS / "formgrader-1-submissions.png"), full_page=True)
        row.get_by_role("link", name="Submission #1").click()
        # formgrader binds its inputs once it has fetched the grades and comments
        page.wait_for_url(f"{base}/formgrader/submissions/*/")
        page.wait_for_function("window.formgrader && formgrader.grades && formgrader.grades.loaded"
                               " && formgrader.comments && formgrader.comments.loaded")
        page.screenshot(path=str(SCREENSHOTS / "formgrader-2-submission.png"), full_page=True)
        assert ANSWER in page.inner_text("body")
        score = page.locator(f"input.score#{gid}")
        assert score.input_value() == ""  # no points until a person gives them

        def saved(api: str):
            return page.expect_response(lambda r: f"/formgrader/api/{api}/" in r.url
                                        and r.request.method == "PUT", timeout=20_000)

        score.click()
        with saved("grade") as put:
            score.press_sequentially(str(POINTS))
            score.press("Tab")  # leaving the field saves it (formgrader's "change")
        assert put.value.ok, (put.value.status, put.value.text(), log.read_text())
        assert put.value.json()["manual_score"] == POINTS
        assert not put.value.json()["needs_manual_grade"]
        comment = page.locator(f"textarea#{gid}-comment")
        comment.click()
        with saved("comment") as put:
            comment.press_sequentially(COMMENT)
            comment.press("Tab")
        assert put.value.ok, (put.value.status, put.value.text(), log.read_text())
        assert put.value.json()["manual_comment"] == COMMENT
        score.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "formgrader-3-written-answer-graded.png"))
        page.go_back()
        page.reload()
        row = page.locator("#main-table tr", has_text="Submission #1")
        expect(row.locator("td.written-score")).to_have_text(f"{POINTS:g} / 2")
        expect(row.locator("td.needs-manual-grade .glyphicon-ok")).to_have_count(0)
        page.screenshot(path=str(SCREENSHOTS / "formgrader-4-submissions-graded.png"),
                        full_page=True)
        # Offline (CI), formgrader's MathJax (cdnjs) never loads: its keyboard shortcuts are
        # not set up; saving, as above, does not depend on them.
        assert set(errors) <= {"MathJax is not defined"}, errors

    def check_everywhere():
        with Gradebook(course.db_url) as gb:
            grade = gb.find_grade(gid, LESSON, LESSON, STUDENT)
            assert grade.manual_score == POINTS
            assert gb.find_comment(gid, LESSON, LESSON, STUDENT).manual_comment == COMMENT
        course.nbgrader("export", "--to", "grades.csv")
        rows = grades(course)
        assert rows[gid]["status"] == "graded" and float(rows[gid]["score"]) == POINTS
        assert COMMENT in rows[gid]["message"]
        assert float(rows["(total)"]["score"]) == tests_total + POINTS
        course.nbgrader("generate_feedback", LESSON, "--force")
        page_text = BeautifulSoup((course.path / "feedback" / STUDENT / LESSON /
                                   f"{LESSON}.html").read_text(encoding="utf-8"),
                                  "html.parser").get_text()
        assert COMMENT in page_text and ANSWER in page_text
        dest = tmp_path / "canvas-upload.csv"
        roster = tmp_path / "canvas-gradebook.csv"
        with open(roster, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(CANVAS)
        export_grades(course.path, course.db_url, LESSON, roster, dest)
        with open(dest, encoding="utf-8-sig", newline="") as fh:
            table = list(csv.reader(fh))
        assert float(table[2][5]) == tests_total + POINTS

    check_everywhere()
    # A regrade keeps the person's points and comment.
    assert grade_command([LESSON], root=course.path, workers=1) == 0
    check_everywhere()
    report = (course.path / "reports" / "instructor-report.html").read_text(encoding="utf-8")
    assert f"{WAITING}: 0</h2>" in report
