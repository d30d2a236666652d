"""LMS downloads read as each LMS names its files, rosters, deadlines and the grade files
written back (no grading here: tests/grading/test_lms_grading.py grades once and checks the rest)."""

import csv
import io
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from autograder import ROOT
from autograder.grade.command import grade_command
from autograder.grade.pool import inspect_submission, submissions
from autograder.lms import FORMATS, ImportStopped, import_download
from autograder.lms.base import Grade
from autograder.pipeline.deadlines import (
    Policy,
    days_late,
    describe,
    load,
    penalty,
    utc_naive,
    wall_seconds_late,
)

LESSONS = ["01_neuron", "02_forward"]
CASE = Path(__file__).parents[1] / "fixtures" / "lms-download"
KST = ZoneInfo("Asia/Seoul")


def nb(tag: str) -> bytes:
    return f'{{"cells": [], "tag": "{tag}"}}'.encode()


def date_submitted(stamp: str) -> str:
    """A Blackboard receipt's "Date Submitted" (en_GB) for an attempt stamp, in KST."""
    when = datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S")
    return f"{when:%A}, {when.day} {when:%B %Y %H:%M:%S} o'clock KST"


def make(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def zipped(dest: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return dest


def csv_file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(rows)
    return path


def laid_out(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root / "submitted").as_posix(): p.read_bytes()
            for p in sorted((root / "submitted").rglob("*")) if p.is_file()}


def test_case_download_gives_four_students_and_keeps_both_perfect_submissions(tmp_path):
    placed, notes = import_download(CASE, tmp_path, LESSONS)
    files = laid_out(tmp_path)
    assert sorted(files) == [
        "1001/01_neuron/01_neuron.ipynb", "1002/01_neuron/01_neuron.ipynb",
        "kimhn/01_neuron/01_neuron.ipynb", "kimhn/01_neuron/timestamp.txt",
        "leesj/01_neuron/01_neuron.ipynb", "leesj/01_neuron/timestamp.txt"]
    assert files["1001/01_neuron/01_neuron.ipynb"] == (
        CASE / "Jane Doe_1001_assignsubmission_file_01_neuron.ipynb").read_bytes()
    assert files["kimhn/01_neuron/01_neuron.ipynb"] == (
        CASE / "HW1_kimhn_attempt_2024-03-04-10-00-00_01_neuron.ipynb").read_bytes()
    # Blackboard's attempt stamp is the server's local time (Asia/Seoul by default)
    assert files["kimhn/01_neuron/timestamp.txt"] == b"2024-03-04 01:00:00.000000 UTC\n"
    assert {(p.student, p.person.name, p.entry.lms) for p in placed} == {
        ("1001", "Jane Doe", "moodle"), ("1002", "Jane Smith", "moodle"),
        ("kimhn", "", "blackboard"), ("leesj", "", "blackboard")}
    assert notes == ["LMS import: 4 new, 0 replaced, 0 unchanged"]
    assert submissions(tmp_path, LESSONS) == [("1001", "01_neuron"), ("1002", "01_neuron"),
                                              ("kimhn", "01_neuron"), ("leesj", "01_neuron")]
    assert inspect_submission(tmp_path, "kimhn", "01_neuron") == ""

    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "submitted").rglob("*")}
    placed, notes = import_download(CASE, tmp_path, LESSONS)  # the same download again
    assert notes == ["LMS import: 0 new, 0 replaced, 4 unchanged"]
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "submitted").rglob("*")} == stamps


def test_moodle_flat_and_in_folders_with_unicode_names_and_worksheet_roster(tmp_path):
    flat = make(tmp_path / "flat", {
        "홍길동_2001_assignsubmission_file_01_neuron.ipynb": nb("hong"),
        "김 민지_2002_assignsubmission_file_01_neuron.ipynb": nb("kim-minji"),
        "김 민수_2003_assignsubmission_file_01_neuron (1).ipynb": nb("kim-minsu"),
        "Jane Doe_2004_assignsubmission_file_my 02_forward.ipynb": nb("jane"),
    })
    folders = zipped(tmp_path / "folders.zip", {
        "홍길동_2001_assignsubmission_file_/01_neuron.ipynb": nb("hong-f"),
        "김 민지_2002_assignsubmission_file_/sub dir/01_neuron.ipynb": nb("minji-f"),
        "__MACOSX/홍길동_2001_assignsubmission_file_/._01_neuron.ipynb": b"junk",
    })
    roster = csv_file(tmp_path / "worksheet.csv", [
        ["Identifier", "Full name", "Email address", "ID number", "Status", "Grade",
         "Maximum Grade", "Grade can be changed", "Last modified (submission)",
         "Last modified (grade)", "Feedback comments"],
        ["Participant 2001", "홍길동", "hong@uni.ac.kr", "20240001", "Submitted for grading",
         "", "10.00", "Yes", "Thursday, 7 March 2024, 10:00 AM", "-", ""],
        ["Participant 2002", "김 민지", "minji@uni.ac.kr", "20240002", "Submitted for grading",
         "", "10.00", "Yes", "Monday, 4 March 2024, 8:59 AM", "-", ""],
        ["Participant 2003", "김 민수", "minsu@uni.ac.kr", "", "Submitted for grading",
         "", "10.00", "Yes", "-", "-", ""],
        ["Participant 2004", "Jane Doe", "jane@uni.ac.kr", "20240004", "No submission",
         "", "10.00", "Yes", "-", "-", ""],
    ])
    a, b = tmp_path / "a", tmp_path / "b"
    placed, _ = import_download(flat, a, LESSONS, roster=roster)
    assert {(p.student, p.lesson, p.person.name, p.person.email) for p in placed} == {
        ("20240001", "01_neuron", "홍길동", "hong@uni.ac.kr"),
        ("20240002", "01_neuron", "김 민지", "minji@uni.ac.kr"),
        ("2003", "01_neuron", "김 민수", "minsu@uni.ac.kr"),  # no ID number: the participant id
        ("20240004", "02_forward", "Jane Doe", "jane@uni.ac.kr")}
    files = laid_out(a)
    assert files["20240001/01_neuron/01_neuron.ipynb"] == nb("hong")
    assert files["20240001/01_neuron/timestamp.txt"] == b"2024-03-07 01:00:00.000000 UTC\n"
    assert files["20240002/01_neuron/timestamp.txt"] == b"2024-03-03 23:59:00.000000 UTC\n"
    assert "2003/01_neuron/timestamp.txt" not in files
    import_download(folders, b, LESSONS, roster=roster)
    assert laid_out(b) == {
        "20240001/01_neuron/01_neuron.ipynb": nb("hong-f"),
        "20240001/01_neuron/timestamp.txt": b"2024-03-07 01:00:00.000000 UTC\n",
        "20240002/01_neuron/01_neuron.ipynb": nb("minji-f"),
        "20240002/01_neuron/timestamp.txt": b"2024-03-03 23:59:00.000000 UTC\n"}


def test_canvas_names_late_marker_and_gradebook_roster(tmp_path):
    dl = zipped(tmp_path / "submissions.zip", {
        "doejane_3001_9001_01_neuron.ipynb": nb("jane"),
        "doejohn_LATE_3002_9002_01_neuron-1.ipynb": nb("john"),
        "홍길동_3003_9003_02_forward.ipynb": nb("hong"),
    })
    roster = csv_file(tmp_path / "gradebook.csv", [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_neuron (5678)"],
        ["    Points Possible", "", "", "", "", "10.00"],
        ["Doe, Jane", "3001", "20240011", "jane@uni.ac.kr", "A", ""],
        ["Doe, John", "3002", "20240012", "jdoe", "A", ""],
        ["홍, 길동", "3003", "", "hong@uni.ac.kr", "A", ""],
    ])
    placed, _ = import_download(dl, tmp_path / "c", LESSONS, roster=roster)
    assert sorted((p.student, p.lesson, p.entry.late, p.person.email) for p in placed) == [
        ("20240011", "01_neuron", False, "jane@uni.ac.kr"),
        ("20240012", "01_neuron", True, ""),
        ("3003", "02_forward", False, "hong@uni.ac.kr")]
    # with a due date and a late policy, a LATE file without a time cannot be penalised
    root = tmp_path / "course"
    root.mkdir()
    (root / "deadlines.toml").write_text(
        '[due]\n01_neuron = 2024-03-04T09:00:00\n[late]\npolicy = "zero"\n', encoding="utf-8")
    with pytest.raises(ImportStopped) as stop:
        import_download(dl, root, LESSONS, roster=roster)
    assert stop.value.problems == [
        "doejohn_LATE_3002_9002_01_neuron-1.ipynb: canvas 가 지각 (LATE) 으로 표시했지만 제출 "
        "시간을 알 수 없습니다 (submission time unknown, late policy applies)"]
    assert not (root / "submitted").exists()


def test_blackboard_attempts_take_the_latest_and_say_so(tmp_path):
    receipt = ("Name: {} ({})\nAssignment: HW1\nDate Submitted: {}\nCurrent Grade: Needs "
               "Grading\n\nFiles:\n\tOriginal filename: 01_neuron.ipynb\n\tFilename: {}\n")
    names = {"kimhn": "김 현우", "lee.sj@uni.ac.kr": "Lee Sujin"}
    files = {}
    for user, stamp, tag in [("kimhn", "2024-03-04-09-00-00", "first"),
                             ("kimhn", "2024-03-05-10-00-00", "last"),
                             ("kimhn", "2024-03-04-23-00-00", "middle"),
                             ("lee.sj@uni.ac.kr", "2024-03-04-11-00-00", "lee")]:
        name = f"Homework 1_{user}_attempt_{stamp}_01_neuron.ipynb"
        files[name] = nb(tag)
        files[f"Homework 1_{user}_attempt_{stamp}.txt"] = receipt.format(
            names[user], user, date_submitted(stamp), name).encode()
    dl = make(tmp_path / "dl", files)
    placed, notes = import_download(dl, tmp_path / "c", LESSONS)
    assert {(p.student, p.person.name) for p in placed} == {("kimhn", "김 현우"),
                                                             ("lee.sj@uni.ac.kr", "Lee Sujin")}
    assert laid_out(tmp_path / "c") == {
        "kimhn/01_neuron/01_neuron.ipynb": nb("last"),
        "kimhn/01_neuron/timestamp.txt": b"2024-03-05 01:00:00.000000 UTC\n",
        "lee.sj@uni.ac.kr/01_neuron/01_neuron.ipynb": nb("lee"),
        "lee.sj@uni.ac.kr/01_neuron/timestamp.txt": b"2024-03-04 02:00:00.000000 UTC\n"}
    assert notes == [
        "kimhn/01_neuron: 제출 3회 중 마지막 사용 (latest of 3 attempts): "
        "Homework 1_kimhn_attempt_2024-03-05-10-00-00_01_neuron.ipynb",
        "LMS import: 2 new, 0 replaced, 0 unchanged"]


def test_anything_ambiguous_stops_the_import_with_the_whole_list(tmp_path):
    dl = make(tmp_path / "dl", {
        "kim01_01_neuron.ipynb": nb("kim"),
        "park03_01_neuron (1).ipynb": nb("park-a"),
        "park03_01_neuron.ipynb": nb("park-b"),
        "choi04_notes.txt": b"hello",
        "jung05_homework.ipynb": nb("jung"),
        "Jane Doe_1001_assignsubmission_file_01_neuron.ipynb": nb("moodle-1001"),
        "doejane_1001_77_01_neuron.ipynb": nb("canvas-1001"),
        "lee02_work.zip": b"not a zip",
        "!!!.ipynb": nb("?"),
    })
    roster = csv_file(tmp_path / "roster.csv", [
        ["lms_id", "student", "name"], ["kim01", "s01", "Kim"], ["park03", "s03", "Park"],
        ["jung05", "s05", "Jung"], ["1001", "s1001", "Jane Doe"], ["lee02", "s02", "Lee"]])
    root = tmp_path / "course"
    with pytest.raises(ImportStopped) as stop:
        import_download(dl, root, LESSONS, roster=roster)
    assert stop.value.problems == [
        "!!!.ipynb: 어느 LMS의 파일 이름인지 알 수 없습니다 (unknown file name)",
        "choi04_notes.txt: 노트북이 아닙니다 (not a notebook)",
        "jung05_homework.ipynb: 'homework.ipynb' 는 어느 과제인지 알 수 없습니다 "
        "(matches no lesson: ['01_neuron', '02_forward'])",
        "lee02_work.zip: 깨진 zip 파일입니다 (bad zip)",
        "course park03 / 01_neuron: 제출 파일이 여러 개입니다 (collision): "
        "park03_01_neuron (1).ipynb, park03_01_neuron.ipynb",
        "s1001/01_neuron: 서로 다른 LMS id가 한 학생이 됩니다 (collision): canvas 1001, moodle 1001"]
    assert not root.exists()

    placed, notes = import_download(dl, root, LESSONS, roster=roster, accept=True)
    assert laid_out(root) == {"s01/01_neuron/01_neuron.ipynb": nb("kim")}
    assert notes == [f"건너뜀 (skipped, accepted): {p}" for p in stop.value.problems] + [
        "LMS import: 1 new, 0 replaced, 0 unchanged"]


def test_roster_must_name_every_id_and_the_cli_stops_with_exit_2(tmp_path, capsys):
    roster = csv_file(tmp_path / "roster.csv", [["lms_id", "student"], ["1001", "s1001"]])
    root = course_root(tmp_path)
    assert grade_command(["01_neuron"], lms=CASE, root=root, roster=roster) == 2
    out = capsys.readouterr().out
    for missing in ("moodle id '1002'", "blackboard id 'kimhn'", "blackboard id 'leesj'"):
        assert f"{missing} 가 명단에 없습니다 (id missing from the roster)" in out
    assert "import stopped, nothing written" in out
    assert not (root / "submitted").exists()
    other = csv_file(tmp_path / "other.csv", [["id", "name"], ["1001", "Jane Doe"]])
    assert grade_command(["01_neuron"], lms=CASE, root=root, roster=other) == 2
    assert ("LMS 가져오기 실패 (import failed): 명단 형식을 알 수 없습니다 (unknown roster "
            "columns: ['id', 'name'])") in capsys.readouterr().out
    assert not (root / "submitted").exists()


def test_roster_saved_by_excel_on_korean_windows_or_unreadable(tmp_path, capsys):
    root = course_root(tmp_path)
    excel = tmp_path / "명단.csv"  # Excel's "CSV (쉼표로 분리)" on Korean Windows: cp949
    excel.write_bytes("lms_id,student,이름\r\n1001,s1001,홍길동\r\n".encode("cp949"))
    assert grade_command(["01_neuron"], lms=CASE, root=root, roster=excel) == 2
    out = capsys.readouterr().out
    assert "moodle id '1002' 가 명단에 없습니다 (id missing from the roster)" in out
    assert "UnicodeDecodeError" not in out and "codec" not in out
    broken = tmp_path / "roster.csv"
    broken.write_bytes(b"lms_id,student\r\n1001,\xff\xfe\xff\r\n")
    assert grade_command(["01_neuron"], lms=CASE, root=root, roster=broken) == 2
    assert (f"LMS 가져오기 실패 (import failed): {broken}: 인코딩을 읽을 수 없습니다 (unknown "
            "encoding: not UTF-8, cp949 or UTF-16): Excel에서 '다른 이름으로 저장' → 'CSV UTF-8 "
            "(쉼표로 분리)' (save as CSV UTF-8)") in capsys.readouterr().out
    assert not (root / "submitted").exists()


def test_a_roster_whose_ids_excel_turned_into_numbers_is_refused(tmp_path, capsys):
    """Excel shows a long number id as ``2.024E+09`` and saves it so: the real id is gone, and
    the student would be graded under a made-up id (an extension for the real one lost)."""
    roster = csv_file(tmp_path / "roster.csv", [["lms_id", "student"], ["1001", "2.024E+09"],
                                                ["1002", "s1002"]])
    root = course_root(tmp_path)
    assert grade_command(["01_neuron"], lms=CASE, root=root, roster=roster) == 2
    assert (f"LMS 가져오기 실패 (import failed): {roster}: Excel이 숫자로 바꾼 id가 있습니다 (ids "
            "changed into numbers by Excel: 2.024E+09)") in capsys.readouterr().out
    assert not (root / "submitted").exists()


def test_course_names_and_a_zip_of_the_whole_download(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("work/02_forward.ipynb", nb("lee-2"))
        zf.writestr("__MACOSX/work/._02_forward.ipynb", "junk")
        zf.writestr("../../escape_01_neuron.ipynb", nb("lee-1"))
    dl = zipped(tmp_path / "download.zip", {"kim01_01_neuron.ipynb": nb("kim"),
                                            "lee02_all_my_work.zip": inner.getvalue()})
    import_download(dl, tmp_path / "c", LESSONS)
    assert laid_out(tmp_path / "c") == {"kim01/01_neuron/01_neuron.ipynb": nb("kim"),
                                        "lee02/01_neuron/01_neuron.ipynb": nb("lee-1"),
                                        "lee02/02_forward/02_forward.ipynb": nb("lee-2")}
    assert not (tmp_path / "escape_01_neuron.ipynb").exists()


def test_deadlines_file_and_penalties(tmp_path):
    (tmp_path / "deadlines.toml").write_text(
        'timezone = "Asia/Seoul"\n[due]\n01_neuron = 2024-03-04T09:00:00\n'
        '02_forward = 2024-03-11T09:00:00+00:00\n'
        '[extensions.kimhn]\n01_neuron = 1.5\n[extensions."20240001"]\n'
        '02_forward = 2024-03-12T12:00:00\n'
        '[late]\npolicy = "per_day"\nper_day = 0.1\ncap = 0.3\n', encoding="utf-8")
    dl = load(tmp_path)
    assert dl.due["01_neuron"] == datetime(2024, 3, 4, 9, tzinfo=KST)
    assert dl.extended[("kimhn", "01_neuron")] == datetime(2024, 3, 5, 21, tzinfo=KST)
    assert dl.extended[("20240001", "02_forward")] - dl.due["02_forward"] == timedelta(hours=18)
    assert dl.policy == Policy("per_day", 0.1, 0.3)
    assert penalty(dl.policy, 0, 10, 10) is None
    assert penalty(dl.policy, 1, 10, 10) == 1.0
    assert penalty(dl.policy, 2, 7, 10) == 2.0
    assert penalty(dl.policy, 10, 10, 10) == 3.0  # capped
    assert penalty(Policy("zero"), 1, 7.5, 10) == 7.5
    assert penalty(Policy("none"), 5, 7.5, 10) is None
    for bad, why in [('[due]\n01_neuron = 2024-03-04\n', "need a date-time"),
                     ('[late]\npolicy = "half"\n', "late.policy"),
                     ('[late]\npolicy = "per_day"\nper_day = 10\n', "shares from 0 to 1"),
                     ('[extensions.kim]\n01_neuron = 1\n', "no due date for this lesson")]:
        (tmp_path / "deadlines.toml").write_text(bad, encoding="utf-8")
        with pytest.raises(ValueError, match=why):
            load(tmp_path)


@pytest.mark.parametrize("zone, due, submitted, wall_hours, days", [
    # end of daylight saving time (25-hour night): 23.5 h on the clock, 24.5 h elapsed
    ("America/New_York", (2024, 11, 2, 23, 59), (2024, 11, 3, 23, 29), 23.5, 1),
    # start of daylight saving time (23-hour night): 24.5 h on the clock, 23.5 h elapsed
    ("Europe/Berlin", (2024, 3, 30, 23, 59), (2024, 4, 1, 0, 29), 24.5, 2),
    ("Europe/Berlin", (2024, 3, 30, 23, 59), (2024, 3, 31, 23, 29), 23.5, 1),
    ("Asia/Seoul", (2024, 3, 4, 9, 0), (2024, 3, 4, 9, 0, 1), 1 / 3600, 1),
])
def test_days_late_on_the_courses_wall_clock(zone, due, submitted, wall_hours, days):
    tz = ZoneInfo(zone)
    utc = [datetime(*t, tzinfo=tz).astimezone(UTC).replace(tzinfo=None) for t in (due, submitted)]
    assert wall_seconds_late(utc[1], utc[0], tz) == pytest.approx(wall_hours * 3600)
    assert days_late(utc[1], utc[0], tz) == days


@pytest.mark.parametrize("zone, due, extended", [
    ("America/New_York", "2024-11-02T23:59:00", datetime(2024, 11, 4, 23, 59)),  # fall back
    ("Europe/Berlin", "2024-03-30T23:59:00", datetime(2024, 4, 1, 23, 59)),  # spring forward
])
def test_extension_days_kept_on_the_wall_clock(tmp_path, zone, due, extended):
    (tmp_path / "deadlines.toml").write_text(
        f'timezone = "{zone}"\n[due]\n01_neuron = {due}\n[extensions.kim]\n01_neuron = 2\n',
        encoding="utf-8")
    dl = load(tmp_path)
    tz = ZoneInfo(zone)
    assert dl.extended[("kim", "01_neuron")].astimezone(tz).replace(tzinfo=None) == extended
    line = describe(None, utc_naive(dl.extended[("kim", "01_neuron")]),
                    utc_naive(dl.extended[("kim", "01_neuron")]) - utc_naive(dl.due["01_neuron"]),
                    None, tz)
    assert line.startswith(f"마감 (due) {extended:%Y-%m-%d} 23:59 ")
    assert line.endswith("연장 (extension) +2일")


def read_back(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    return raw[:3], list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_blackboard_grade_file_needs_the_column_id(tmp_path):
    header = ["Last Name", "First Name", "Username", "Student ID", "HW1 [Total Pts: 10 Score]"]
    with pytest.raises(ValueError, match="grade column 'HW1': 0 matches"):
        FORMATS["blackboard"].write_grades(header, [], "01_neuron", {}, tmp_path / "x.csv", "HW1")
    assert not (tmp_path / "x.csv").exists()


def test_utf16_blackboard_download_is_read_and_every_csv_has_a_bom(tmp_path):
    from autograder.lms.base import read_table

    text = "Last Name\tFirst Name\tUsername\tStudent ID\r\n김\t현우\tkimhn\t20240021\r\n"
    (tmp_path / "gc.xls").write_bytes(text.encode("utf-16"))
    header, rows = read_table(tmp_path / "gc.xls")
    people = FORMATS["blackboard"].roster(rows, KST)
    assert header == ["Last Name", "First Name", "Username", "Student ID"]
    assert people["kimhn"].student == "20240021" and people["kimhn"].name == "현우 김"
    grades = {"kimhn": Grade(9.5, 10, "9.5/10점")}
    FORMATS["canvas"].write_grades(["Student", "ID"], [], "01_neuron", grades, tmp_path / "e.csv",
                                   None)
    assert read_back(tmp_path / "e.csv") == (b"\xef\xbb\xbf", [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_neuron"]])


# --- issue 27 (who, when, bounds) and issue 29 item 5, through ./course grade --lms ---------
RECEIPT = ("Name: {} ({})\nAssignment: HW1\nDate Submitted: {}\n\nFiles:\n"
           "\tOriginal filename: {}\n\tFilename: {}\n")
POLICY = '[due]\n01_neuron = 2024-03-04T12:00:00\n[late]\npolicy = "zero"\n'


def attempt(files: dict, user: str, full: str, stamp: str, original: str, data: bytes,
            receipt_user: str | None = None) -> str:
    name = f"HW1_{user}_attempt_{stamp}_{original}"
    files[name] = data
    files[f"HW1_{user}_attempt_{stamp}.txt"] = RECEIPT.format(
        full, receipt_user or user, date_submitted(stamp), original, name).encode()
    return name


def course_root(tmp_path: Path, deadlines: str | None = None) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")  # as ScratchCourse
    (root / "autograder").symlink_to(ROOT / "autograder", target_is_directory=True)
    if deadlines:
        (root / "deadlines.toml").write_text(deadlines, encoding="utf-8")
    return root


def stopped(root: Path, download: Path, capsys, roster: Path | None = None) -> list[str]:
    """The problems ./course grade --lms lists when it stops (exit 2, nothing written)."""
    assert grade_command(["01_neuron"], lms=download, root=root, roster=roster) == 2
    out = capsys.readouterr().out
    assert "import stopped, nothing written" in out
    assert not (root / "submitted").exists()
    return [line.strip() for line in out.splitlines() if line.startswith("  ")]


def everything_under(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


def test_a_forged_blackboard_name_or_receipt_never_replaces_a_classmates_attempt(tmp_path):
    files = {}
    attempt(files, "kimhn", "Kim Hyunwoo", "2024-03-04-10-00-00", "01_neuron.ipynb",
            nb("kim-real"))
    # leesj hands in a file named like kimhn's attempt, later, and a fake receipt for it
    forged = attempt(files, "leesj", "Lee Sujin", "2024-03-04-11-00-00",
                     "HW1_kimhn_attempt_2024-03-09-00-00-00_01_neuron.ipynb", nb("lee-forged"))
    files["HW1_leesj_attempt_2024-03-04-11-30-00_HW1_kimhn_attempt_2024-03-09-00-00-00.txt"] = (
        RECEIPT.format("Kim Hyunwoo", "kimhn", date_submitted("2024-03-09-00-00-00"), "x",
                       forged.replace("leesj", "kimhn", 1)).encode())
    dl = make(tmp_path / "dl", files)
    root = tmp_path / "c"
    placed, notes = import_download(dl, root, LESSONS, accept=True)
    assert laid_out(root) == {
        "kimhn/01_neuron/01_neuron.ipynb": nb("kim-real"),
        "kimhn/01_neuron/timestamp.txt": b"2024-03-04 01:00:00.000000 UTC\n",
        "leesj/01_neuron/01_neuron.ipynb": nb("lee-forged"),  # the forger's own, at its own time
        "leesj/01_neuron/timestamp.txt": b"2024-03-04 02:00:00.000000 UTC\n"}
    assert {(p.student, p.person.name, p.attempts) for p in placed} == {
        ("kimhn", "Kim Hyunwoo", 1), ("leesj", "Lee Sujin", 1)}
    assert notes == [
        "건너뜀 (skipped, accepted): HW1_leesj_attempt_2024-03-04-11-30-00_HW1_kimhn_attempt_"
        "2024-03-09-00-00-00.txt: 노트북이 아닙니다 (not a notebook)",
        "LMS import: 2 new, 0 replaced, 0 unchanged"]


def test_a_receipt_naming_another_user_stops_the_import(tmp_path, capsys):
    files = {}
    name = attempt(files, "kimhn", "Lee Sujin", "2024-03-04-10-00-00", "01_neuron.ipynb",
                   nb("kim"), receipt_user="leesj")
    root = course_root(tmp_path)
    assert stopped(root, make(tmp_path / "dl", files), capsys) == [
        f"{name}: Blackboard 영수증 'HW1_kimhn_attempt_2024-03-04-10-00-00.txt' 과 맞지 "
        f"않습니다 (receipt disagrees: user 'leesj', files ['{name}'])"]


def test_a_canvas_late_file_named_like_blackboard_stays_canvas_and_late(tmp_path, capsys):
    late = "doejohn_LATE_3002_9002_HW1_doejohn_attempt_2024-03-01-00-00-00_01_neuron.ipynb"
    root = course_root(tmp_path, POLICY)
    assert stopped(root, make(tmp_path / "dl", {late: nb("john")}), capsys) == [
        f"{late}: canvas 가 지각 (LATE) 으로 표시했지만 제출 시간을 알 수 없습니다 (submission "
        "time unknown, late policy applies)"]
    placed, _ = import_download(tmp_path / "dl", tmp_path / "x", LESSONS)
    assert [(p.entry.lms, p.student, p.entry.late, p.submitted) for p in placed] == [
        ("canvas", "3002", True, None)]


def test_unknown_submission_time_under_a_late_policy_stops_the_import(tmp_path, capsys):
    root = course_root(tmp_path, POLICY)
    assert stopped(root, CASE, capsys) == [
        f"{name}_01_neuron.ipynb: 제출 시간을 알 수 없습니다 (submission time unknown, late "
        "policy applies)" for name in ("Jane Doe_1001_assignsubmission_file",
                                       "Jane Smith_1002_assignsubmission_file")]


def test_dot_dot_ids_absolute_zip_entries_and_symlinks_never_write_outside_submitted(
        tmp_path, capsys):
    dl = zipped(tmp_path / "dl.zip", {
        "HW1_.._attempt_2024-03-04-10-00-00_01_neuron.ipynb": nb("dots"),
        "/tmp/kim01_01_neuron.ipynb": nb("absolute"),
        "../kim02_01_neuron.ipynb": nb("up"),
        "kim03_01_neuron.ipynb": nb("kim03"),
    })
    folder = make(tmp_path / "folder", {"kim04_01_neuron.ipynb": nb("kim04")})
    (folder / "kim05_01_neuron.ipynb").symlink_to(tmp_path / "folder" / "kim04_01_neuron.ipynb")
    roster = csv_file(tmp_path / "roster.csv", [["lms_id", "student"], ["kim03", ".."],
                                                ["kim04", "s04"], ["kim05", "s05"]])
    root = course_root(tmp_path)
    assert stopped(root, dl, capsys) == [
        "../kim02_01_neuron.ipynb: 다운로드 밖을 가리키는 경로입니다 (unsafe zip entry)",
        "/tmp/kim01_01_neuron.ipynb: 다운로드 밖을 가리키는 경로입니다 (unsafe zip entry)",
        "HW1_.._attempt_2024-03-04-10-00-00_01_neuron.ipynb: 학생 id '..' 를 폴더 이름으로 쓸 수 "
        "없습니다 (unsafe student id)"]
    assert stopped(root, dl, capsys, roster=csv_file(
        tmp_path / "r2.csv", [["lms_id", "student"], ["kim03", ".."]]))[-1] == (
        "kim03_01_neuron.ipynb: 학생 id '..' 를 폴더 이름으로 쓸 수 없습니다 (unsafe student id)")
    assert stopped(root, folder, capsys, roster=roster) == [
        "kim05_01_neuron.ipynb: 심볼릭 링크는 읽지 않습니다 (symlink refused)"]
    import_download(dl, root, LESSONS, accept=True)
    import_download(folder, root, LESSONS, roster=roster, accept=True)
    assert everything_under(tmp_path) == sorted(
        ["course/nbgrader_config.py", "course/submitted/kim03/01_neuron/01_neuron.ipynb",
         "course/submitted/s04/01_neuron/01_neuron.ipynb",
         "dl.zip", "folder/kim04_01_neuron.ipynb", "folder/kim05_01_neuron.ipynb",
         "roster.csv", "r2.csv"])


def _symlink_entry(zf: zipfile.ZipFile, name: str, target: str) -> None:
    """A zip entry that is a symbolic link to ``target`` (Unix mode S_IFLNK, as Info-ZIP's
    ``zip --symlinks`` stores it)."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = (0o120777 << 16)
    zf.writestr(info, target)


def test_symlink_entries_in_a_download_or_a_submitted_zip_are_refused(tmp_path, capsys):
    """A zip entry that is a symbolic link is refused by name, in the download as in a
    student's own zip (never read as the notebook: its target's text would be graded as an
    invalid notebook); the classmate beside it is imported."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        _symlink_entry(zf, "01_neuron.ipynb", "/etc/passwd")
    dl = tmp_path / "dl.zip"
    with zipfile.ZipFile(dl, "w") as zf:
        _symlink_entry(zf, "kim01_01_neuron.ipynb", "/etc/passwd")
        zf.writestr("lee02_work.zip", inner.getvalue())
        zf.writestr("kim03_01_neuron.ipynb", nb("kim03"))
    root = course_root(tmp_path)
    refused_inner = ("lee02_work.zip: 01_neuron.ipynb: zip 안의 심볼릭 링크는 읽지 않습니다 "
                     "(symlink in a submitted zip refused)")
    assert stopped(root, dl, capsys) == [
        "kim01_01_neuron.ipynb: 심볼릭 링크는 읽지 않습니다 (symlink refused)", refused_inner]
    placed, notes = import_download(dl, root, LESSONS, accept=True)
    assert [(p.student, p.lesson) for p in placed] == [("kim03", "01_neuron")]
    assert refused_inner in "\n".join(notes)


def test_a_download_over_its_bounds_stops_before_anything_is_read(tmp_path, capsys,
                                                                  monkeypatch):
    big = b" " * 60_000  # compresses to almost nothing: only the declared size tells
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"{i}/01_neuron.ipynb", big)
    dl = zipped(tmp_path / "dl.zip", {"kim01_01_neuron.ipynb": big,
                                      "lee02_work.zip": inner.getvalue()})
    root = course_root(tmp_path)
    monkeypatch.setenv("DLCOURSE_LMS_MAX_BYTES", "200000")
    problems = stopped(root, dl, capsys)
    total = 4 * len(big) + len(inner.getvalue())  # the submitted zip counts as it is stored
    assert problems == ["lee02_work.zip: LMS 다운로드가 너무 큽니다 (download too large): 5 "
                        f"files, {total} bytes uncompressed; limit 2000 files, 200000 bytes "
                        "(DLCOURSE_LMS_MAX_FILES, DLCOURSE_LMS_MAX_BYTES)"]
    monkeypatch.setenv("DLCOURSE_LMS_MAX_FILES", "1")
    assert stopped(root, dl, capsys)[0].startswith(f"{dl}: LMS 다운로드가 너무 큽니다 "
                                                   "(download too large): 2 files")


def test_a_big_download_is_written_one_notebook_at_a_time(tmp_path):
    import tracemalloc

    size = 8 * 2**20
    dl = tmp_path / "dl.zip"
    with zipfile.ZipFile(dl, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(8):
            zf.writestr(f"kim{i:02d}_01_neuron.ipynb", bytes([65 + i]) * size)
    tracemalloc.start()
    import_download(dl, tmp_path / "c", LESSONS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(laid_out(tmp_path / "c")) == 8
    # one notebook's bytes and zipfile's buffers at a time, never the whole download (64 MiB)
    assert peak < 5 * size, f"peak {peak / 2**20:.0f} MiB for 8 notebooks of 8 MiB"


def test_a_renamed_notebook_is_matched_by_case_and_by_content(tmp_path):
    release = (CASE / "Jane Smith_1002_assignsubmission_file_01_neuron.ipynb").read_bytes()
    dl = make(tmp_path / "dl", {
        "Jane Doe_1001_assignsubmission_file_01_Neuron.ipynb": nb("jane"),
        "Jane Smith_1002_assignsubmission_file_homework (1).ipynb": release,
        "Kim_1003_assignsubmission_file_homework.ipynb": nb("kim"),
    })
    root = tmp_path / "c"
    _, notes = import_download(dl, root, LESSONS, accept=True)
    assert laid_out(root) == {"1001/01_neuron/01_neuron.ipynb": nb("jane"),
                              "1002/01_neuron/01_neuron.ipynb": release}
    assert notes[0] == (
        "건너뜀 (skipped, accepted): Kim_1003_assignsubmission_file_homework.ipynb: "
        "'homework.ipynb' 는 어느 과제인지 알 수 없습니다 (matches no lesson: ['01_neuron', "
        "'02_forward'])")


WORKSHEET = ["Identifier", "Full name", "Email address", "ID number", "Status", "Grade",
             "Maximum Grade", "Grade can be changed", "Last modified (submission)",
             "Last modified (grade)"]


def test_a_moodle_full_name_holding_moodles_prefix_never_takes_a_classmates_id(tmp_path, capsys):
    """A full name is what the student typed, and Moodle writes its own
    ``_<participant id>_assignsubmission_file_`` after it: a folder's id is read from the right
    (the file goes to its uploader 1002, not to 1001 the name names); a flat file whose name holds
    the prefix twice is placed only where the roster's full names decide, else the import stops
    with every reading."""
    spoof = "Kim_1001_assignsubmission_file_"
    folders = make(tmp_path / "folders", {
        f"{spoof}_1002_assignsubmission_file_/01_neuron.ipynb": nb("spoofer"),
        "Kim Minji_1001_assignsubmission_file_/01_neuron.ipynb": nb("victim")})
    placed, _ = import_download(folders, tmp_path / "a", LESSONS, accept=True)
    assert laid_out(tmp_path / "a") == {"1001/01_neuron/01_neuron.ipynb": nb("victim"),
                                        "1002/01_neuron/01_neuron.ipynb": nb("spoofer")}
    assert {(p.student, p.entry.name) for p in placed} == {("1001", "Kim Minji"),
                                                           ("1002", spoof)}
    flat_name = f"{spoof}_1002_assignsubmission_file_01_neuron.ipynb"
    flat = make(tmp_path / "flat", {flat_name: nb("spoofer")})
    root = course_root(tmp_path)
    ambiguous = (f"{flat_name}: 파일 이름을 여러 학생의 것으로 읽을 수 있습니다 (ambiguous file "
                 f"name: moodle id 1001 ('Kim'), moodle id 1002 ({spoof!r})); 명단의 이름으로도 "
                 "가릴 수 없습니다 (the roster's names do not decide)")
    assert stopped(root, flat, capsys) == [ambiguous]
    roster = csv_file(tmp_path / "worksheet.csv", [
        WORKSHEET, ["Participant 1001", "Kim Minji", "", "20240001", "", "", "10", "Yes", "-", "-"],
        ["Participant 1002", spoof, "", "20240002", "", "", "10", "Yes", "-", "-"]])
    import_download(flat, tmp_path / "b", LESSONS, roster=roster)
    assert laid_out(tmp_path / "b") == {"20240002/01_neuron/01_neuron.ipynb": nb("spoofer")}
    kim = csv_file(tmp_path / "kim.csv", [  # both readings fit the roster: nothing decides
        WORKSHEET, ["Participant 1001", "Kim", "", "20240001", "", "", "10", "Yes", "-", "-"],
        ["Participant 1002", spoof, "", "20240002", "", "", "10", "Yes", "-", "-"]])
    assert stopped(root, flat, capsys, roster=kim) == [ambiguous]
