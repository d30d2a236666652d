"""How the course calls nbgrader without paying its start for each call (issue 26): nbgrader's
API in one process, a gradebook copied from the one nbgrader made, feedback pages in a pool,
the export beside them; and the grader's configuration never imports torch (about 1 s on each
``nbgrader`` command). Each test fails on a call that drops what nbgrader itself does."""

import sqlite3
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from autograder import ROOT, nbgrader_beside
from autograder.grade.pool import feedback_class
from autograder.grade.scratch import ScratchCourse

LESSON = "01_neuron"


def schema(path) -> tuple[list, list, list]:
    """A SQLite gradebook's tables (with their SQL), alembic's version and the courses."""
    with sqlite3.connect(path) as db:
        tables = db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
        courses = db.execute("SELECT id FROM course").fetchall()
    return tables, version, courses


def test_a_scratch_gradebook_is_the_one_nbgrader_makes(tmp_path):
    """The copied gradebook has nbgrader's tables, alembic's schema version (what nbgrader's own
    ``nbgrader db upgrade`` reads) and the course's row, as a gradebook nbgrader makes anew."""
    made = tmp_path / "made.db"
    with Gradebook(f"sqlite:///{made}", course_id="dl-basics"):
        pass
    course = ScratchCourse([LESSON])
    try:
        assert schema(course.path / "gradebook.db") == schema(made)
        assert schema(made)[1][0][0]  # alembic wrote a version
    finally:
        course.cleanup()


def test_one_release_registers_every_lesson_with_its_cells():
    """``generate_assignments`` in one process registers each lesson and its graded cells, as
    ``nbgrader generate_assignment`` does."""
    course = ScratchCourse(["01_neuron", "02_forward"])
    try:
        course.release()
        for lesson in ("01_neuron", "02_forward"):
            assert course.max_scores(lesson), lesson
            assert (course.path / "notebooks" / lesson / f"{lesson}.ipynb").exists()
    finally:
        course.cleanup()


def test_a_feedback_page_that_cannot_be_made_is_named_with_its_cause():
    """A graded notebook nbgrader cannot read gets no page and is reported with nbgrader's
    cause; a pair with no graded notebook is not tried."""
    course = ScratchCourse([LESSON])
    try:
        course.release()
        broken = course.path / "autograded" / "alice" / LESSON / f"{LESSON}.ipynb"
        broken.parent.mkdir(parents=True)
        broken.write_text("{not json", encoding="utf-8")
        failed = feedback_class(course.path, [("alice", LESSON), ("bob", LESSON)],
                                course.db_url, workers=1)
        assert list(failed) == [("alice", LESSON)]
        assert failed["alice", LESSON].strip()
        assert not (course.path / "feedback" / "alice" / LESSON / f"{LESSON}.html").exists()
    finally:
        course.cleanup()


def test_a_failed_step_beside_the_body_stops_the_command_with_nbgraders_output():
    """An export nbgrader refuses stops the command after the body, with nbgrader's words."""
    ran = []
    with pytest.raises(SystemExit, match=r"(?s)nbgrader export .* failed.*could not be imported"):
        with nbgrader_beside(ROOT, "export", "--exporter=no.such.Exporter"):
            ran.append(True)
    assert ran == [True]


def test_the_graders_configuration_never_imports_torch():
    """nbgrader loads ``nbgrader_config.py`` on every command: it imports the course's
    preprocessors, the export and the student helpers, none of which may import torch."""
    code = ("import sys, runpy; runpy.run_path('autograder/pipeline/nbgrader_config.py', "
            "{'get_config': lambda: __import__('traitlets.config').config.Config()}); "
            "import autograder.pipeline.preprocessors, autograder.pipeline.export, "
            "autograder.pipeline.sanitize, autograder.pipeline.feedback; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
