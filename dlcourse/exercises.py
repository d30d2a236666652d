"""Which exercise a name belongs to, read from the releases that ship in the package.

Every answer cell of ``dlcourse/releases/<lesson>.ipynb`` (an nbgrader solution cell of code)
stands under the markdown heading of its exercise, ``### 연습 N.M (Exercise N.M, k점): …``.
:func:`answers` maps each name such a cell defines at its top level (``def sigmoid``,
``class GradeNet``) to the exercise, so a cell that calls an unanswered stub can say which
exercise to complete first (:func:`dlcourse.check.explain_error`). Nothing here is kept by hand:
a new lesson's release is read like the others.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

#: An exercise's heading in a lesson's markdown; group 1 is its number (``1.3``).
HEADING = re.compile(r"^#{2,4}\s+연습\s+(\d+(?:\.\d+)*)\s+\(Exercise\s+\1\b", re.M)


@dataclass(frozen=True)
class Answer:
    """A name an answer cell defines: ``lesson`` (``01_neuron``), ``exercise`` (``1.3``) and
    the docstring of its definition (``None`` without one), which tells apart two lessons'
    answers of the same name."""

    lesson: str
    exercise: str
    docstring: str | None


def defined(source: str) -> dict[str, str | None]:
    """``{name: docstring}`` of the functions and classes ``source`` defines at its top level;
    ``{}`` when it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    return {node.name: ast.get_docstring(node) for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _is_answer(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and bool(
        cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def lesson_answers(lesson: str, cells: list[dict]) -> dict[str, Answer]:
    """``{name: Answer}`` of the answer cells among ``cells`` (a notebook's, in order), each
    under the last exercise heading above it; an answer cell above every heading is skipped."""
    found: dict[str, Answer] = {}
    exercise = None
    for cell in cells:
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            exercise = ([m.group(1) for m in HEADING.finditer(source)] or [exercise])[-1]
        elif exercise and _is_answer(cell):
            for name, doc in defined(source).items():
                found[name] = Answer(lesson, exercise, doc)
    return found


@functools.cache
def answers() -> dict[str, tuple[Answer, ...]]:
    """``{name: (Answer, …)}`` of every released lesson (package data
    ``dlcourse/releases/*.ipynb``, read once per process), in course order."""
    found: dict[str, list[Answer]] = {}
    folder = resources.files("dlcourse") / "releases"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name) if folder.is_dir() else []:
        if entry.name.endswith(".ipynb"):
            nb = json.loads(entry.read_text(encoding="utf-8"))
            for name, answer in lesson_answers(entry.name[:-len(".ipynb")], nb["cells"]).items():
                found.setdefault(name, []).append(answer)
    return {name: tuple(given) for name, given in found.items()}


def exercise_of(qualname: str, source: str) -> str | None:
    """The exercise (``"1.3"``) whose answer defines ``qualname`` (a code object's
    ``co_qualname``: ``predict``, ``GradeNet.forward``), or ``None``. ``source`` is the text of
    the cell that defined it: where several lessons answer the same name, the one whose
    docstring that cell repeats; none when no docstring decides."""
    name = qualname.split(".", 1)[0]
    given = answers().get(name, ())
    if len(given) > 1:
        doc = defined(source).get(name)
        given = tuple(a for a in given if a.docstring == doc)
    return given[0].exercise if len(given) == 1 else None


def object_particle(label: str) -> str:
    """``을`` or ``를`` after ``label`` read aloud in Korean (``1.3`` 삼 → 을, ``1.2`` 이 → 를):
    the particle follows the sound of the last digit."""
    return "를" if label[-1] in "2459" else "을"
