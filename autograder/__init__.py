"""The course's grading tools: nbgrader preprocessors, the sandbox, reference results, the
grading command, reports and the student bundle. Instructor-only: never shipped to students."""

import contextlib
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SAWarning
from traitlets.config.loader import PyFileConfigLoader

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

# The student lab's kernel settings, which the grader's own kernels share.
from dlcourse.lab import KERNEL_CONFIG, NOT_IN_STUDENT_KERNELS  # noqa: F401

# nbgrader 0.9.6's gradebook code trips SQLAlchemy 2's autoflush warnings on every submission;
# they are noise to an instructor reading the grading log.
warnings.filterwarnings("ignore", category=SAWarning, module=r"nbgrader\.")

# nbgrader runs `alembic` (and nbconvert `jupyter`) from PATH: make the interpreter's own
# scripts findable even when the virtual environment is not activated.
_bin = str(Path(sys.executable).parent)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
STATE = ROOT / ".grading"  # reference results and locks; never visible to student code

def lessons(root: Path = ROOT) -> list[str]:
    """Assignment ids, in course order: every ``solutions/<id>/<id>.ipynb``."""
    return sorted(p.parent.name for p in (root / "solutions").glob("*/*.ipynb")
                  if p.stem == p.parent.name)


def nbgrader(root: Path, *args: str, env: dict[str, str] | None = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course folder ``root`` (its ``nbgrader_config.py``); with
    ``check``, a failure stops the command with nbgrader's own output."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env,
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc


@contextlib.contextmanager
def nbgrader_beside(root: Path, *args: str, env: dict[str, str] | None = None):
    """Run ``nbgrader ARGS`` in the course folder ``root`` while the ``with`` body runs (a step
    that reads nothing the body writes: the CSV export beside the feedback pages); after the
    body, a failure stops the command with nbgrader's own output, as :func:`nbgrader` does."""
    proc = subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield
    finally:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{out}{err}")


def load_config(root: Path):
    """The traitlets config of the course folder ``root``: its ``nbgrader_config.py``, loaded
    in ``root``, against which its relative paths (the SQLite gradebook) resolve."""
    with contextlib.chdir(root):
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return config


def nbgrader_api(root: Path, db_url: str | None = None) -> "NbGraderAPI":
    """nbgrader's own API (``nbgrader.apps.NbGraderAPI``, what formgrader calls) on the course
    folder ``root`` with its ``nbgrader_config.py`` and, when given, the gradebook ``db_url``:
    the ``nbgrader`` command's work in this process, without the command's start (about 2 s)
    for each call. Its methods return nbgrader's ``{"success", "log", "error"}``."""
    from nbgrader.apps import NbGraderAPI

    config = load_config(root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    return NbGraderAPI(config=config)


def generate_assignments(root: Path, names: list[str], db_url: str | None = None) -> None:
    """``nbgrader generate_assignment NAME --force`` for each of ``names`` in the course folder
    ``root``, in one process (:func:`nbgrader_api`); a failure stops the command with nbgrader's
    own log, as :func:`nbgrader` does."""
    api = nbgrader_api(root, db_url)
    with contextlib.chdir(root):
        for name in names:
            res = api.generate_assignment(name, force=True, create=True)
            if not res["success"]:
                raise SystemExit(f"nbgrader generate_assignment {name} failed:\n"
                                 f"{res.get('log') or ''}{res.get('error') or ''}")


def release_lessons(names: list[str], root: Path = ROOT) -> list[str]:
    """Regenerate ``notebooks/<lesson>/`` from ``solutions/`` (nbgrader generate_assignment) and
    copy each release into ``dlcourse/releases/``, the package data Validate lays a student's
    cells into (the student edits their own copy of ``notebooks/``). Returns ``names``."""
    generate_assignments(root, names)
    for lesson in names:
        dest = root / "dlcourse" / "releases" / f"{lesson}.ipynb"
        dest.parent.mkdir(exist_ok=True)
        shutil.copyfile(root / "notebooks" / lesson / f"{lesson}.ipynb", dest)
    return names
