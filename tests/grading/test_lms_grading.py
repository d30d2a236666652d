"""LMS downloads graded through the real pipeline once (``./course grade --lms`` on a scratch
course): the issue's four-student case, a Moodle "in folders" zip with its grading worksheet
and a Canvas download with its gradebook, with due dates, an extension and a late policy; then
grades.csv, the feedback, the report and each LMS's grade import file."""

import csv
import io
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.grade.command import grade_command
from autograder.grade.scratch import ScratchCourse, submission
from autograder.lms import export_grades, import_download, register_students
from autograder.pipeline.export import rows
from dlcourse.status import Status
from dlcourse.submission import WRITTEN_MESSAGE

LESSON = "01_neuron"
CASE = Path(__file__).parents[1] / "fixtures" / "lms-download"
DEADLINES = """timezone = "Asia/Seoul"
[due]
01_neuron = 2024-03-04T09:00:00
[extensions.kimhn]
01_neuron = 1
[late]
policy = "per_day"
per_day = 0.1
cap = 0.3
"""
WORKSHEET = [
    ["Identifier", "Full name", "Email address", "ID number", "Status", "Grade", "Maximum Grade",
     "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
     "Feedback comments"],
    ["Participant 2001", "홍길동", "hong@uni.ac.kr", "20240001", "Submitted for grading", "",
     "10.00", "Yes", "Thursday, 7 March 2024, 10:00 AM", "-", ""],
    ["Participant 2002", "김 민지", "minji@uni.ac.kr", "20240002", "No submission", "",
     "10.00", "Yes", "-", "-", ""],
]
#: The case's Moodle participants: a flat Moodle download states no time, the worksheet does
#: (under a late policy the import stops without it). 1003 renamed the notebook (01_Neuron).
CASE_WORKSHEET = [
    WORKSHEET[0],
    ["Participant 1001", "Jane Doe", "", "", "Submitted for grading", "", "10.00", "Yes",
     "Monday, 4 March 2024, 8:30 AM", "-", ""],
    ["Participant 1002", "Jane Smith", "", "", "Submitted for grading", "", "10.00", "Yes",
     "Monday, 4 March 2024, 8:40 AM", "-", ""],
    ["Participant 1003", "Kim Minji", "", "", "Submitted for grading", "", "10.00", "Yes",
     "Monday, 4 March 2024, 8:50 AM", "-", ""],
]
GRADEBOOK = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_neuron (5678)",
     "Current Score"],
    ["    Points Possible", "", "", "", "", "10.00", "(read only)"],
    ["Lee, Minho", "3001", "20240003", "minho@uni.ac.kr", "A", "", ""],
    ["Park, Jisu", "3002", "20240004", "jisu@uni.ac.kr", "A", "", ""],
]
GRADE_CENTER = [
    ["Last Name", "First Name", "Username", "Student ID", "Last Access", "Availability",
     "HW1 [Total Pts: 10 Score] |123456", "Grading Notes", "Notes Format",
     "Feedback to Learner", "Feedback Format"],
    ["Kim", "Hyunwoo", "kimhn", "", "", "Available", "", "", "", "", ""],
    ["Lee", "Sujin", "leesj", "", "", "Available", "", "", "", "", ""],
    ["Choi", "Yuna", "choiyn", "", "", "Available", "", "", "", "", ""],
]


def write_csv(path: Path, table: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(table)
    return path


def read_csv(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    return raw[:3], list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, bwrap_module):
    tmp = tmp_path_factory.mktemp("lms")
    course = ScratchCourse([LESSON], path=tmp / "course")
    course.release()
    (course.path / "deadlines.toml").write_text(DEADLINES, encoding="utf-8")
    perfect = nbformat.writes(submission(LESSON)).encode()
    moodle = tmp / "moodle.zip"
    with zipfile.ZipFile(moodle, "w") as zf:
        zf.writestr("홍길동_2001_assignsubmission_file_/01_neuron.ipynb", perfect)
    canvas = tmp / "canvas"
    canvas.mkdir()
    (canvas / "leeminho_3001_9001_01_neuron.ipynb").write_bytes(perfect)
    worksheet = write_csv(tmp / "worksheet.csv", WORKSHEET)
    gradebook = write_csv(tmp / "gradebook.csv", GRADEBOOK)
    for download, roster in ((moodle, worksheet), (canvas, gradebook)):
        placed, _ = import_download(download, course.path, [LESSON], roster=roster)
        register_students(course.db_url, placed)
    case_moodle, case_bb = tmp / "case-moodle", tmp / "case-blackboard"
    for folder, kind in ((case_moodle, "assignsubmission"), (case_bb, "_attempt_")):
        folder.mkdir()
        for f in CASE.iterdir():
            if kind in f.name:
                (folder / f.name).write_bytes(f.read_bytes())
    (case_moodle / "Kim Minji_1003_assignsubmission_file_01_Neuron.ipynb").write_bytes(perfect)
    case_worksheet = write_csv(tmp / "case-worksheet.csv", CASE_WORKSHEET)
    placed, _ = import_download(case_moodle, course.path, [LESSON], roster=case_worksheet)
    register_students(course.db_url, placed)
    rc = grade_command([LESSON], lms=case_bb, workers=2, root=course.path)
    with Gradebook(course.db_url) as gb:
        table = rows(gb, course.path)
        names = {s.id: s.first_name for s in gb.students}
    yield dict(course=course, rc=rc, table=table, names=names, tmp=tmp, worksheet=worksheet,
               gradebook=gradebook, case=(case_moodle, case_worksheet, case_bb))
    course.cleanup()


@pytest.fixture(scope="module")
def bwrap_module():
    from tests.support.integrity_helpers import require_bwrap

    require_bwrap()


def totals(table):
    return {r["student"]: (r["score"], r["late_penalty"], r["status"], r["late"])
            for r in table if r["cell"] == "(total)"}


def test_every_student_kept_with_exact_totals_and_late_penalties(graded):
    assert graded["rc"] == 0
    got = totals(graded["table"])
    assert got == {
        # the case's Moodle times come from the worksheet; 1003's 01_Neuron.ipynb is graded
        "1001": (10.0, 0.0, "graded", "제출 (submitted) 2024-03-04 08:30 KST, 마감 (due) "
                 "2024-03-04 09:00 KST"),
        "1002": (0.0, 0.0, "graded", "제출 (submitted) 2024-03-04 08:40 KST, 마감 (due) "
                 "2024-03-04 09:00 KST"),
        "1003": (10.0, 0.0, "graded", "제출 (submitted) 2024-03-04 08:50 KST, 마감 (due) "
                 "2024-03-04 09:00 KST"),
        "kimhn": (10.0, 0.0, "graded", "제출 (submitted) 2024-03-04 10:00 KST, 마감 (due) "
                  "2024-03-05 09:00 KST, 연장 (extension) +1일"),
        # two hours late: 10 % of 12 points (the written answer's 2 included), but nbgrader
        # never takes more than the score
        "leesj": (0.0, 0.0, "graded", "제출 (submitted) 2024-03-04 11:00 KST, 마감 (due) "
                  "2024-03-04 09:00 KST, 지각 (late) 2.0시간, 감점 (penalty) -0점"),
        # three days and an hour late: 4 days started × 10 %, capped at 30 % of the lesson's 12
        # points (the penalty is a share of every point, the written answer's too)
        "20240001": (6.4, 3.6, "graded", "제출 (submitted) 2024-03-07 10:00 KST, 마감 (due) "
                     "2024-03-04 09:00 KST, 지각 (late) 73.0시간, 감점 (penalty) -3.6점"),
        "20240003": (10.0, 0.0, "graded", "마감 (due) 2024-03-04 09:00 KST"),
    }
    assert {s: graded["names"][s] for s in ("1001", "1002", "1003", "20240001", "20240003")} == {
        "1001": "Jane Doe", "1002": "Jane Smith", "1003": "Kim Minji", "20240001": "홍길동", "20240003": "Lee, Minho"}
    with open(graded["course"].path / "grades.csv", encoding="utf-8-sig") as fh:
        csv_rows = {r["student"]: r for r in csv.DictReader(fh) if r["cell"] == "(total)"}
    assert (csv_rows["20240001"]["score"], csv_rows["20240001"]["late_penalty"],
            csv_rows["20240001"]["submitted"], csv_rows["20240001"]["due"]) == (
        "6.4", "3.6", "2024-03-07T01:00:00+00:00", "2024-03-04T00:00:00+00:00")


def test_feedback_and_report_show_late_and_extended_submissions(graded):
    path = graded["course"].path
    late = (path / "feedback" / "20240001" / LESSON / f"{LESSON}.html").read_text("utf-8")
    assert "Late submission penalty (Score: -3.6)" in late
    assert "지각 (late) 73.0시간, 감점 (penalty) -3.6점" in late
    extended = (path / "feedback" / "kimhn" / LESSON / f"{LESSON}.html").read_text("utf-8")
    assert "연장 (extension) +1일" in extended and "Late submission penalty" not in extended
    report = (path / "reports" / "instructor-report.html").read_text("utf-8")
    assert "Deadlines: late and extended submissions" in report
    assert "지각 (late) 73.0시간" in report and "연장 (extension) +1일" in report


def test_moodle_worksheet_filled_in(graded):
    dest = graded["tmp"] / "moodle-upload.csv"
    notes = export_grades(graded["course"].path, graded["course"].db_url, LESSON,
                          graded["worksheet"], dest)
    bom, table = read_csv(dest)
    assert bom == b"\xef\xbb\xbf"
    assert table[0] == WORKSHEET[0]
    assert table[1][:5] == WORKSHEET[1][:5] and table[1][6:10] == WORKSHEET[1][6:10]
    assert table[1][5] == "6.40"
    assert table[1][10] == ("6.4/12점 (score); 제출 (submitted) 2024-03-07 10:00 KST, 마감 (due) "
                            "2024-03-04 09:00 KST, 지각 (late) 73.0시간, 감점 (penalty) -3.6점; "
                            f"written_step_function -/2 {Status.NEEDS_MANUAL}: {WRITTEN_MESSAGE}")
    assert table[2] == WORKSHEET[2]  # no submission: left as it was
    assert notes[0] == "Participant 2002: 채점 결과 없음, 비워 둠 (no grade, left blank)"
    assert "1001: 명단에 없어 내보내지 않음 (graded, not in the roster)" in notes
    # the written answer no person has graded yet: the instructor is told to export again
    assert notes[-1] == ("20240001: 서술형 1개가 채점을 기다립니다 (1 written answer needs manual "
                         "grading): 내보낸 점수에 빠져 있음 (not in the exported score)"), notes


def test_canvas_gradebook_with_the_lessons_column(graded):
    dest = graded["tmp"] / "canvas-upload.csv"
    export_grades(graded["course"].path, graded["course"].db_url, LESSON, graded["gradebook"],
                  dest)
    assert read_csv(dest) == (b"\xef\xbb\xbf", [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_neuron (5678)"],
        ["    Points Possible", "", "", "", "", "10.00"],
        ["Lee, Minho", "3001", "20240003", "minho@uni.ac.kr", "A", "10.00"],
        ["Park, Jisu", "3002", "20240004", "jisu@uni.ac.kr", "A", ""]])


def test_blackboard_grade_center_upload_with_feedback(graded):
    roster = write_csv(graded["tmp"] / "gc.csv", GRADE_CENTER)
    dest = graded["tmp"] / "bb-upload.csv"
    export_grades(graded["course"].path, graded["course"].db_url, LESSON, roster, dest,
                  column="HW1")
    raw = dest.read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf"Last Name","First Name","Username","Student ID",'
                          b'"HW1 [Total Pts: 10 Score] |123456","Feedback to Learner",'
                          b'"Feedback Format"\r\n')
    _, table = read_csv(dest)
    assert table[1][:5] == ["Kim", "Hyunwoo", "kimhn", "", "10.00"]
    assert table[1][5].startswith("10/12점 (score); 제출 (submitted) 2024-03-04 10:00 KST")
    assert table[1][6] == "PLAIN_TEXT"
    assert table[2][:5] == ["Lee", "Sujin", "leesj", "", "0.00"]
    assert "감점 (penalty) -0점; " in table[2][5] and "check_" in table[2][5]
    assert table[3] == ["Choi", "Yuna", "choiyn", "", "", "", ""]


def test_reimporting_the_case_changes_nothing(graded):
    path = graded["course"].path
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (path / "submitted").rglob("*")
              if p.is_file()}
    case_moodle, case_worksheet, case_bb = graded["case"]
    _, notes = import_download(case_moodle, path, [LESSON], roster=case_worksheet)
    assert notes == ["LMS import: 0 new, 0 replaced, 3 unchanged"]
    _, notes = import_download(case_bb, path, [LESSON])
    assert notes == ["LMS import: 0 new, 0 replaced, 2 unchanged"]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (path / "submitted").rglob("*")
            if p.is_file()} == before


# The end of daylight saving time in New York (2024-11-03 02:00 → 01:00, a 25-hour night):
# the due date and the extension are on the course's wall clock, late days too (README).
DST_DEADLINES = """timezone = "America/New_York"
[due]
01_neuron = 2024-11-02T23:59:00
[extensions.ext2]
01_neuron = 2
[late]
policy = "per_day"
per_day = 0.1
cap = 0.3
"""


@pytest.fixture(scope="module")
def graded_dst(tmp_path_factory, bwrap_module):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from autograder.pipeline import received

    ny = ZoneInfo("America/New_York")
    course = ScratchCourse([LESSON], path=tmp_path_factory.mktemp("dst") / "course")
    course.release()
    (course.path / "deadlines.toml").write_text(DST_DEADLINES, encoding="utf-8")
    for student, when in (("ext2", datetime(2024, 11, 4, 23, 30, tzinfo=ny)),
                          ("late1", datetime(2024, 11, 3, 23, 29, tzinfo=ny))):
        course.submit(student, LESSON, submission(LESSON))
        received.record(course.path, student, LESSON, when, "the LMS")  # as an import records it
    import contextlib

    console = io.StringIO()
    with contextlib.redirect_stdout(console):
        rc = grade_command([LESSON], workers=2, root=course.path)
    yield dict(course=course, rc=rc, console=console.getvalue())
    course.cleanup()


def test_extension_and_late_days_across_the_end_of_daylight_saving(graded_dst):
    path = graded_dst["course"].path
    assert graded_dst["rc"] == 0, graded_dst["console"]
    assert "ext2/01_neuron: 마감 연장 (extension) → 2024-11-04 23:59" in graded_dst["console"]
    ext = ("제출 (submitted) 2024-11-04 23:30 EST, 마감 (due) 2024-11-04 23:59 EST, "
           "연장 (extension) +2일")
    # 23.5 hours on the clock (24.5 really elapsed): one day started, 10 % of 12 points
    late = ("제출 (submitted) 2024-11-03 23:29 EST, 마감 (due) 2024-11-02 23:59 EDT, "
            "지각 (late) 23.5시간, 감점 (penalty) -1.2점")
    with open(path / "grades.csv", encoding="utf-8-sig") as fh:
        got = {r["student"]: (r["score"], r["late_penalty"], r["due"], r["late"])
               for r in csv.DictReader(fh) if r["cell"] == "(total)"}
    assert got == {"ext2": ("10.0", "0.0", "2024-11-05T04:59:00+00:00", ext),
                   "late1": ("8.8", "1.2", "2024-11-03T03:59:00+00:00", late)}
    for student, line in (("ext2", ext), ("late1", late)):
        html = (path / "feedback" / student / LESSON / f"{LESSON}.html").read_text("utf-8")
        assert line in html
    assert "Late submission penalty (Score: -1.2)" in (
        path / "feedback" / "late1" / LESSON / f"{LESSON}.html").read_text("utf-8")
