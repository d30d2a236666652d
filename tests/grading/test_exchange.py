"""nbgrader's own exchange, as a JupyterHub course uses it: the instructor releases a lesson, a
student fetches it, answers and submits, the instructor collects and autogrades, with the
course's rules (students never see solutions or hidden tests; the grade is exact)."""

import getpass
import os

import nbformat
import pytest

from autograder import nbgrader
from autograder.authoring.mistakes import expected_scores, load_mistakes
from autograder.grade.scratch import ScratchCourse, reference_answers
from tests.conftest import LESSONS


@pytest.mark.slow
def test_release_fetch_submit_collect_autograde(tmp_path, bwrap):
    lesson = LESSONS[0]
    mistake = load_mistakes(lesson)[0]
    exchange, home = tmp_path / "exchange", tmp_path / "student"
    exchange.mkdir()
    home.mkdir()
    ex = f"--Exchange.root={exchange}"
    course = ScratchCourse([lesson])
    course.release()
    course.nbgrader("release_assignment", lesson, ex)

    def student(*args: str) -> None:  # the student's own folder and Jupyter settings
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
               "JUPYTER_DATA_DIR": str(home / ".local")}
        proc = nbgrader(home, *args, "--course=dl-basics", ex, env=env, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    student("fetch_assignment", lesson)
    path = home / lesson / f"{lesson}.ipynb"
    text = path.read_text(encoding="utf-8")
    assert "not implemented yet" in text
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    nb = nbformat.reads(text, as_version=4)
    answers = {**reference_answers(lesson), **mistake.answers}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in answers:
            cell.source = answers[gid]
    nbformat.write(nb, path)
    student("submit", lesson)

    course.nbgrader("collect", lesson, ex)
    user = getpass.getuser()
    assert (course.path / "submitted" / user / lesson / f"{lesson}.ipynb").exists()
    proc = course.autograde(lesson, user)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert course.scores(lesson, user) == expected_scores(course.max_scores(lesson),
                                                          mistake.fails)
    course.cleanup()


def test_collect_refuses_a_folder_another_unix_user_owns(tmp_path):
    """In nbgrader's exchange the student id is the unix user who submits: an inbound folder
    named for a student but owned by someone else is refused loudly (exit 1), the student's own
    latest folder is collected, and a collected submission is never replaced (issue 27)."""
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    import pwd
    import shutil

    lesson, user = LESSONS[0], getpass.getuser()
    nobody = pwd.getpwnam("nobody")
    exchange, home = tmp_path / "exchange", tmp_path / "student"
    (home / lesson).mkdir(parents=True)
    exchange.mkdir()
    ex = f"--Exchange.root={exchange}"
    course = ScratchCourse([lesson])
    course.release()
    course.nbgrader("release_assignment", lesson, ex)
    own_work, forged_work = (nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(text)])) for text in ("own work", "forged"))

    (home / lesson / f"{lesson}.ipynb").write_text(own_work, encoding="utf-8")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_DATA_DIR": str(home / ".local")}
    proc = nbgrader(home, "submit", lesson, "--course=dl-basics", ex, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    inbound = exchange / "dl-basics" / "inbound"
    (own,) = inbound.iterdir()
    collected = course.path / "submitted" / user / lesson / f"{lesson}.ipynb"
    assert course.nbgrader("collect", lesson, ex).returncode == 0
    assert collected.read_text(encoding="utf-8") == own_work

    forged = []  # a later folder in the student's name, and one for a student not yet collected
    for student in (user, "bob"):
        folder = inbound / f"{student}+{lesson}+2099-01-01 00:00:00.000000 UTC+forged"
        shutil.copytree(own, folder)
        (folder / f"{lesson}.ipynb").write_text(forged_work, encoding="utf-8")
        for path in (folder, *folder.iterdir()):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        forged.append(folder)
    proc = course.nbgrader("collect", "--update", lesson, ex, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    for folder, student in zip(forged, (user, "bob"), strict=True):
        assert (f"수집 거부 (not collected): {folder}: {student}의 폴더인데 주인이 nobody "
                f"(owned by nobody, not {student}); 한 서비스 사용자가 모든 제출을 쓰는 설정이면 "
                "ExchangeCollect.check_owner = False") in out, out
    names = sorted(folder.name for folder in forged)
    assert f"[CollectApp | CRITICAL] 수집 거부 (not collected) 2: {', '.join(names)}\n" in out, out
    assert "cheating attempt" not in out
    assert collected.read_text(encoding="utf-8") == own_work
    assert not (course.path / "submitted" / "bob").exists()
    assert sorted(p.name for p in (course.path / "submitted").iterdir()) == [user]

    # one service user writes every submission: the check is off, the folders are collected
    proc = course.nbgrader("collect", "--update", "--ExchangeCollect.check_owner=False", lesson,
                           ex, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert collected.read_text(encoding="utf-8") == forged_work
    assert (course.path / "submitted" / "bob" / lesson / f"{lesson}.ipynb").read_text(
        encoding="utf-8") == forged_work
    course.cleanup()
