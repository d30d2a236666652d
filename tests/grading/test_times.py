"""Submission times come from a source the student cannot edit (issue 27 item 3) and a student
whose file ``--accept`` skipped stays visible (issue 29 item 5), through the
real pipeline once: nbgrader's exchange (release, the students' ``nbgrader submit``, the
course's ``nbgrader collect``) and a Blackboard download, graded by ``./course grade --lms``
with a late policy. A ``timestamp.txt`` rewritten in the inbound folder, an inbound folder
renamed to an earlier time and a Blackboard file name earlier than its receipt all stay late;
a submission whose time the course does not know stops the grading run."""

import contextlib
import csv
import getpass
import io
import os
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import nbformat
import pytest

from autograder import nbgrader
from autograder.grade.command import grade_command
from autograder.grade.distributed.coordinator import job
from autograder.grade.scratch import ScratchCourse, submission
from autograder.pipeline import received
from tests.conftest import once_per_session

LESSON = "01_neuron"
KST = ZoneInfo("Asia/Seoul")


def kst(when: datetime) -> str:
    return when.astimezone(KST).strftime("%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Graded once per test session, also when pytest's workers split this module
    (:func:`tests.conftest.once_per_session`)."""
    from tests.support.integrity_helpers import require_bwrap

    require_bwrap()
    return once_per_session(tmp_path_factory, "times", _grade)


def _grade(tmp):
    due = datetime.now(KST).replace(microsecond=0) - timedelta(hours=1)
    course = ScratchCourse([LESSON], path=tmp / "course")
    course.release()
    (course.path / "deadlines.toml").write_text(
        f'timezone = "Asia/Seoul"\n[due]\n{LESSON} = {due.replace(tzinfo=None).isoformat()}\n'
        f'[extensions.ontime]\n{LESSON} = {(due + timedelta(hours=2)).replace(tzinfo=None).isoformat()}\n'
        '[late]\npolicy = "per_day"\nper_day = 0.1\ncap = 0.3\n', encoding="utf-8")
    exchange = tmp / "exchange"
    exchange.mkdir()
    ex = f"--Exchange.root={exchange}"
    course.nbgrader("release_assignment", LESSON, ex)
    perfect = nbformat.writes(submission(LESSON))
    submitted_at = {}
    inbound = exchange / "dl-basics" / "inbound"
    user = getpass.getuser()
    for student in ("ontime", "forger", "renamer"):
        # nbgrader names the folder after the OS user who submits (one user here): each
        # student's submission, then its folder as that student's submit names it
        home = tmp / student
        (home / LESSON).mkdir(parents=True)
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
               "JUPYTER_DATA_DIR": str(home / ".local")}
        (home / LESSON / f"{LESSON}.ipynb").write_text(perfect, encoding="utf-8")
        before = datetime.now(UTC)
        proc = nbgrader(home, "submit", LESSON, "--course=dl-basics", ex, env=env, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (folder,) = inbound.glob(f"{user}+{LESSON}+*")
        folder.rename(inbound / folder.name.replace(user, student, 1))
        submitted_at[student] = (before, datetime.now(UTC))
    early = (due - timedelta(hours=2)).astimezone(UTC)
    forged = early.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (folder,) = inbound.glob(f"forger+{LESSON}+*")
    (folder / "timestamp.txt").write_text(forged, encoding="utf-8")  # the student owns it
    (folder,) = inbound.glob(f"renamer+{LESSON}+*")
    _, _, _, rand = folder.name.split("+")
    renamed = inbound / f"renamer+{LESSON}+{forged}+{rand}"
    folder.rename(renamed)
    (renamed / "timestamp.txt").write_text(forged, encoding="utf-8")
    # one OS user writes every folder here, as with a service user: no owner check
    collect = course.nbgrader("collect", "--ExchangeCollect.check_owner=False", LESSON, ex)
    # by hand, with the student's own timestamp.txt: the course does not know its time
    course.submit("byhand", LESSON, submission(LESSON))
    (course.path / "submitted" / "byhand" / LESSON / "timestamp.txt").write_text(forged)
    # Blackboard: the file name says before the due date, the receipt 30 minutes after it
    bb = tmp / "blackboard"
    bb.mkdir()
    stamp = f"{due - timedelta(hours=2):%Y-%m-%d-%H-%M-%S}"
    real = due + timedelta(minutes=30)
    name = f"HW1_bbuser_attempt_{stamp}_{LESSON}.ipynb"
    (bb / name).write_text(perfect, encoding="utf-8")
    (bb / f"HW1_bbuser_attempt_{stamp}.txt").write_text(
        f"Name: Bo Baek (bbuser)\nAssignment: HW1\nDate Submitted: {real:%A}, {real.day} "
        f"{real:%B %Y %H:%M:%S} o'clock KST\nCurrent Grade: Needs Grading\n\nFiles:\n\t"
        f"Original filename: {LESSON}.ipynb\n\tFilename: {name}\n", encoding="utf-8")
    # issue 29 item 5: a file that matches no lesson, skipped with --accept
    lost = f"HW1_lostone_attempt_{stamp}_homework.ipynb"
    (bb / lost).write_text(nbformat.writes(nbformat.v4.new_notebook()), encoding="utf-8")
    runs = []
    for lms, accept in ((None, False), (bb, True)):
        console = io.StringIO()
        with contextlib.redirect_stdout(console):
            rc = grade_command([LESSON], lms=lms, workers=2, root=course.path, accept=accept)
        runs.append((rc, console.getvalue()))
    with open(course.path / "grades.csv", encoding="utf-8-sig") as fh:
        totals = {r["student"]: r for r in csv.DictReader(fh) if r["cell"] == "(total)"}
    return dict(course=course, due=due, early=early, real=real, name=name, lost=lost, runs=runs,
                collect=collect.stdout + collect.stderr, totals=totals, submitted_at=submitted_at)


def test_a_submission_without_the_courses_time_stops_grading(graded):
    rc, console = graded["runs"][0]
    assert rc == 2, console
    assert ("byhand/01_neuron: 제출 시간을 알 수 없습니다 (submission time unknown, late policy "
            "applies): 과목의 기록이 없고 timestamp.txt 는 학생의 파일입니다 (no course record; "
            "timestamp.txt is the student's own)") in console
    assert "graded " not in console


def test_exchange_times_are_the_inbound_times_never_the_students(graded):
    rc, console = graded["runs"][1]
    assert rc == 0, console
    due = graded["due"]
    for student, (before, after) in graded["submitted_at"].items():
        rec = received.read(graded["course"].path, student, LESSON)
        # the renamed folder's change time is the rename's, after its submission
        assert before - timedelta(seconds=1) <= rec.when, (student, rec, before)
        assert rec.when <= (after if student == "ontime" else datetime.now(UTC)), (student, rec)
        assert rec.source.startswith("nbgrader exchange inbound " + student + "+")
    totals = graded["totals"]
    for student in ("forger", "renamer", "byhand"):
        row = totals[student]
        when = received.read(graded["course"].path, student, LESSON).when
        hours = (when - due).total_seconds() / 3600
        # about an hour late: one day started, 10 % of 12 points (the written answer's 2 too)
        assert 0.9 < hours < 1.2, (student, hours)
        assert (row["score"], row["late_penalty"], row["status"]) == ("8.8", "1.2", "graded")
        assert row["late"] == (f"제출 (submitted) {kst(when)} KST, 마감 (due) {kst(due)} KST, "
                               f"지각 (late) {hours:.1f}시간, 감점 (penalty) -1.2점"), row
    ontime = totals["ontime"]
    assert (ontime["score"], ontime["late_penalty"]) == ("10.0", "0.0"), ontime
    assert "지각" not in ontime["late"] and "연장 (extension)" in ontime["late"]
    early = graded["early"].astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST")
    for student in ("forger", "renamer"):
        when = received.read(graded["course"].path, student, LESSON).when
        assert (f"{student}/01_neuron: 제출물의 시간이 과목의 기록과 다릅니다 (timestamp.txt "
                f"disagrees with the course's record): 학생이 적은 시간 {early}; 과목의 기록 "
                f"{when.astimezone(KST):%Y-%m-%d %H:%M:%S %Z} (nbgrader exchange inbound ") \
            in console, console
    assert re.search(r"forger/01_neuron: the submission's own times \(학생이 적은 시간 "
                     + re.escape(early) + r"\) disagree with the exchange's inbound time",
                     graded["collect"]), graded["collect"]
    assert ("byhand/01_neuron: 제출 시간을 알 수 없어 지금 시각 " in console
            and "(submission time unknown: recorded as received now, accepted)" in console)
    assert "ontime/01_neuron: 제출물의 시간" not in console


def test_the_coordinator_sends_the_courses_time(graded):
    root = graded["course"].path
    task = job(root, "forger", LESSON, "v")
    when = received.read(root, "forger", LESSON).when
    assert task["timestamp"] == received.timestamp_text(when) + "\n"
    assert graded["early"].strftime("%Y-%m-%d %H:%M:%S") not in task["timestamp"]


def test_blackboard_receipt_time_over_the_file_name(graded):
    rc, console = graded["runs"][1]
    real, due = graded["real"], graded["due"]
    stamp = (due - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    assert (f"{graded['name']}: 파일 이름의 시간 {stamp} 대신 영수증의 제출 시간 "
            f"{real:%Y-%m-%d %H:%M:%S} KST 을 씁니다 (file name time disagrees with the "
            "receipt's Date Submitted; the receipt's is used)") in console
    row = graded["totals"]["bbuser"]
    assert (row["score"], row["late_penalty"], row["late"]) == (
        "8.8", "1.2", f"제출 (submitted) {kst(real)} KST, 마감 (due) {kst(due)} KST, "
        "지각 (late) 0.5시간, 감점 (penalty) -1.2점")


def test_a_student_whose_file_accept_skipped_stays_in_the_csv_and_the_report(graded):
    rc, console = graded["runs"][1]
    why = (f"{graded['lost']}: 'homework.ipynb' 는 어느 과제인지 알 수 없습니다 (matches no "
           "lesson: ['01_neuron'])")
    assert f"건너뜀 (skipped, accepted): {why}" in console
    message = ("LMS 파일을 채점하지 않았습니다 (import refused, skipped with --accept); 담당자에게 "
               f"다시 제출 방법을 물으세요: {why}")
    assert f"lostone/01_neuron: {message}" in console
    row = graded["totals"]["lostone"]
    assert (row["score"], row["max_score"], row["status"], row["message"]) == (
        "0.0", "12.0", "import refused", message)
    report = (graded["course"].path / "reports" / "instructor-report.html").read_text("utf-8")
    assert "lostone" in report and "import refused" in report
