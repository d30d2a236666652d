"""nbgrader's own exchange, as a JupyterHub course uses it: the instructor releases a lesson, a
student fetches it, answers and submits, the instructor collects and autogrades, with the
course's rules (students never see solutions or hidden tests; the grade is exact)."""

import getpass
import os

import nbformat
import pytest

from autograder import nbgrader
from autograder.grading import ScratchCourse, reference_answers
from autograder.mistakes import expected_scores, load_mistakes

from .conftest import LESSONS


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
