"""The course's grading tools: nbgrader preprocessors, the sandbox, reference results, the
grading command, reports and the student bundle. Instructor-only: never shipped to students."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
STATE = ROOT / ".grading"  # reference results and locks; never visible to student code


def lessons(root: Path = ROOT) -> list[str]:
    """Assignment ids, in course order: every ``solutions/<id>/<id>.ipynb``."""
    return sorted(p.parent.name for p in (root / "solutions").glob("*/*.ipynb")
                  if p.stem == p.parent.name)
