"""The course's grading tools: nbgrader preprocessors, the sandbox, reference results, the
grading command, reports and the student bundle. Instructor-only: never shipped to students."""

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

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


def release_lessons(names: list[str], root: Path = ROOT) -> list[str]:
    """Regenerate ``notebooks/<lesson>/`` from ``solutions/`` (nbgrader generate_assignment) and
    copy each release into ``dlcourse/releases/``, the package data Validate lays a student's
    cells into (the student edits their own copy of ``notebooks/``). Returns ``names``."""
    for lesson in names:
        nbgrader(root, "generate_assignment", lesson, "--force")
        dest = root / "dlcourse" / "releases" / f"{lesson}.ipynb"
        dest.parent.mkdir(exist_ok=True)
        shutil.copyfile(root / "notebooks" / lesson / f"{lesson}.ipynb", dest)
    return names
