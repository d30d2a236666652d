"""Building submissions and grading them with nbgrader in a scratch course.

Used by ``./course check``, the example class and the tests: a scratch course is a temporary
folder with this course's nbgrader configuration, its lessons and a ``submitted/`` tree, so
grading there never touches the instructor's gradebook.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
from filelock import FileLock
from nbgrader import __version__ as NBGRADER_VERSION
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import is_solution

from .. import ROOT, STATE, generate_assignments, load_config, nbgrader
from ..paths import course_folder

SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
#: Where a written answer's rubric starts in its solution region (to its end: instructors only).
RUBRIC = re.compile(r"^\*\*채점 기준 \(rubric\):\*\*.*?(?=^[ \t]*### END SOLUTION)", re.S | re.M)


def reference_answers(lesson: str, root: Path = ROOT) -> dict[str, str]:
    """``{answer grade_id: the reference answer as a student would type it}``; of a written
    answer, its prompt and model answer (the rubric left out)."""
    nb = nbformat.read(root / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    return {c.metadata.nbgrader["grade_id"]: SOLUTION_MARKERS.sub("", RUBRIC.sub("", c.source))
            for c in nb.cells if is_solution(c)}


def release_notebook(lesson: str, root: Path = ROOT) -> nbformat.NotebookNode:
    return nbformat.read(root / "notebooks" / lesson / f"{lesson}.ipynb", as_version=4)


def submission(lesson: str, answers: dict[str, str] | None = None,
               reference: bool = True, root: Path = ROOT) -> nbformat.NotebookNode:
    """The student notebook with answer cells filled in: ``answers`` first, then (when
    ``reference``) the reference answer, else the released stub."""
    nb = release_notebook(lesson, root)
    ref = reference_answers(lesson, root) if reference else {}
    answers = answers or {}
    for cell in nb.cells:
        if is_solution(cell):
            gid = cell.metadata.nbgrader["grade_id"]
            if gid in answers:
                cell.source = answers[gid]
            elif gid in ref:
                cell.source = ref[gid]
    return nb


def empty_gradebook(path: Path, root: Path = ROOT) -> None:
    """Write at ``path`` the empty SQLite gradebook nbgrader makes for the course ``root`` (its
    tables, the course's row, alembic's schema version), copied from one that nbgrader made once
    per course id and nbgrader version in ``.grading/``: nbgrader makes every new gradebook by
    running the ``alembic`` command, about 3 s each (``nbgrader.api.get_alembic_version``)."""
    course_id = load_config(root).CourseDirectory.course_id
    template = STATE / f"gradebook-{course_id}-nbgrader-{NBGRADER_VERSION}.db"
    STATE.mkdir(exist_ok=True)
    with FileLock(f"{template}.lock"):
        if not template.exists():
            made = template.with_suffix(".new")
            made.unlink(missing_ok=True)
            with Gradebook(f"sqlite:///{made}", course_id=course_id):
                pass
            made.replace(template)
    shutil.copyfile(template, path)


class ScratchCourse:
    """A temporary nbgrader course sharing this course's lessons and configuration."""

    def __init__(self, lessons: list[str], root: Path = ROOT, path: Path | None = None,
                 db_url: str | None = None):
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
            Path(path).mkdir(parents=True)
        self.path = Path(path or tempfile.mkdtemp(prefix="dlcourse-grade-"))
        self.root = root
        self.lessons = lessons
        shutil.copy(root / "nbgrader_config.py", self.path / "nbgrader_config.py")
        link = self.path / "autograder"
        if not link.exists():
            link.symlink_to(root / "autograder", target_is_directory=True)
        for sub in ("solutions", "notebooks"):
            for lesson in lessons:
                dest = self.path / sub / lesson
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(root / sub / lesson, dest)
        if db_url is None:
            empty_gradebook(self.path / "gradebook.db", root)
        self.db_url = db_url or f"sqlite:///{self.path / 'gradebook.db'}?timeout=300"

    def nbgrader(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return nbgrader(self.path, *args, env={**os.environ, "NBGRADER_DB_URL": self.db_url},
                        check=check)

    def release(self) -> None:
        """Register every lesson in the scratch gradebook (nbgrader generate_assignment)."""
        generate_assignments(self.path, self.lessons, self.db_url)

    def submit(self, student: str, lesson: str, nb: nbformat.NotebookNode | bytes | None) -> Path:
        """Put a submission in place; ``bytes`` are written as they are (broken files),
        ``None`` submits the folder without the notebook."""
        folder = course_folder(self.path, student, lesson)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        path = folder / f"{lesson}.ipynb"
        if isinstance(nb, bytes):
            path.write_bytes(nb)
        elif nb is not None:
            path.write_text(nbformat.writes(nb), encoding="utf-8")
        return path

    def autograde(self, lesson: str, student: str | None = None) -> subprocess.CompletedProcess:
        args = ["autograde", lesson, "--force"]
        if student:
            args.append(f"--student={student}")
        return self.nbgrader(*args, check=False)

    def scores(self, lesson: str, student: str) -> dict[str, float]:
        """``{test cell grade_id: score}`` of one graded notebook."""
        with Gradebook(self.db_url) as gb:
            try:
                nb = gb.find_submission_notebook(lesson, lesson, student)
            except MissingEntry:
                return {}
            return {g.name: g.score for g in nb.grades if g.cell_type == "code"
                    and not g.cell.max_score == 0}

    def max_scores(self, lesson: str) -> dict[str, float]:
        with Gradebook(self.db_url) as gb:
            nb = gb.find_notebook(lesson, lesson)
            return {g.name: g.max_score for g in nb.grade_cells if g.cell_type == "code"}

    def written_points(self, lesson: str) -> dict[str, float]:
        """``{written answer grade_id: points}``: the markdown cells graded by hand."""
        with Gradebook(self.db_url) as gb:
            nb = gb.find_notebook(lesson, lesson)
            return {g.name: g.max_score for g in nb.grade_cells if g.cell_type == "markdown"}

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
