"""Check your notebooks before you hand them in: ``python -m dlcourse.validate NOTEBOOK...``.

Validate judges a notebook the way the grader does (:mod:`dlcourse.submission`): it reads the
file with the grader's limits, lays the student's cells into the *released* notebook of the
lesson (shipped in ``dlcourse/releases/``) exactly as the grader lays them into the instructor
notebook, runs it top to bottom in a fresh kernel with the grader's time limits, and decides
every test cell with the grader's verdict. The only differences from the grade are the hidden
tests (checked at grading, with other inputs) and the grader's sandbox. Whatever was ignored,
moved or restored is printed as a note, and a file that will be refused is said to be before
it is handed in. What the student's own Python and packages run but the grading environment
refuses (syntax newer than the grader's Python 3.11, a module the grader does not have:
:mod:`dlcourse.grading_env`) fails here too, naming the cell and the line.

A written answer (서술형, a markdown cell graded by hand) is never passed or failed: Validate
says the grader will read it, or that it is empty.

Exit status 0 when every visible test passes and nothing fails at grading, 1 otherwise (also
for a file that cannot be read); never a traceback for a problem on the student's side. JupyterLab's Validate button
shows the same report (:mod:`dlcourse.validate_button`).
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import nbformat

from . import grading_env
from .submission import (
    CELL_TIMEOUT,
    NOTEBOOK_TIMEOUT,
    WARN_FILE_BYTES,
    cell_label,
    explain,
    grade_id,
    is_test_cell,
    is_written,
    own_records,
    python_source,
    read_notebook,
    rebuild,
    role,
    title,
    verdict,
    visible_source,
    written_verdict,
)

#: Variables of Validate's kernel, as nbgrader's own Validate sets them (the checks then
#: publish what they recorded; plots draw off-screen).
VALIDATE_ENV = {"NBGRADER_EXECUTION": "validate", "NBGRADER_VALIDATING": "1", "MPLBACKEND": "agg"}


@dataclass
class CellResult:
    grade_id: str
    title: str
    passed: bool
    status: str
    message: str


@dataclass
class Report:
    """What Validate says of one notebook."""

    path: str
    lesson: str | None = None
    problem: str | None = None  # a file the grader cannot read: its message
    cells: list[CellResult] = field(default_factory=list)
    # written answers (서술형): graded by hand, never passed or failed here
    written: list[CellResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # what this Python ran and grading will refuse (:func:`grading_problems`)
    at_grading: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.problem is None and all(c.passed for c in self.cells) and not self.at_grading

    def failed(self) -> list[CellResult]:
        return [c for c in self.cells if not c.passed]

    def text(self) -> str:
        """The report as printed (Korean with the English key phrases)."""
        lines = []
        if self.problem:
            lines.append(f"{self.path}: 채점할 수 없는 파일입니다 (cannot be graded): {self.problem}")
        elif not self.failed() and self.at_grading:
            lines.append(f"{self.path}: 보이는 검사는 통과했지만 채점 때 실패합니다 (will fail at "
                         "grading)")
        elif self.passed:
            lines.append(f"{self.path}: 통과 (OK) — 보이는 검사(visible tests) {len(self.cells)}개를 "
                         "모두 통과했습니다. 채점 때는 숨은 검사(hidden tests)가 다른 입력으로 한 번 "
                         "더 확인합니다")
        else:
            lines.append(f"{self.path}: 검사 {len(self.failed())}개 실패 (tests failed)")
            for cell in self.failed():
                lines.append(f"  실패 (failed): {cell.title}\n    {cell.message}")
        for cell in self.written:
            lines.append(f"  서술형 (written answer) {cell.grade_id}: {cell.message}")
        for problem in self.at_grading:
            lines.append(f"  채점 때 실패 (fails at grading): {problem}")
        for note in self.notes:
            lines.append(f"  채점 참고 (grading note): {note}")
        for warning in self.warnings:
            lines.append(f"  주의 (warning): {warning}")
        return "\n".join(lines)


@functools.cache
def releases() -> dict[str, nbformat.NotebookNode]:
    """``{lesson: released notebook}`` shipped with the package (``dlcourse/releases/``), read
    once per process (callers only read them: :func:`rebuild` copies what it takes)."""
    folder = resources.files("dlcourse") / "releases"
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name) if folder.is_dir() else []:
        if entry.name.endswith(".ipynb"):
            out[entry.name[:-6]] = nbformat.reads(entry.read_text(encoding="utf-8"), as_version=4)
    return out


def _marks(nb, locked_only: bool = False) -> set[str]:
    """What identifies a lesson's cells: nbgrader grade ids, and the visible source of its code
    cells (kept when an editor drops the metadata); ``locked_only``: of its test and read-only
    cells alone (answer stubs and prose tell no lessons apart)."""
    found = set()
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or (locked_only and role(cell) != "locked"):
            continue
        gid = grade_id(cell)
        if gid:
            found.add(f"id:{gid}")
        if cell.get("cell_type") == "code" and (source := visible_source(cell)):
            found.add(f"src:{source}")
    return found


def find_release(nb, path: Path) -> tuple[str | None, nbformat.NotebookNode | None]:
    """The lesson ``nb`` belongs to, and its release: the lesson whose test and read-only cells
    it shares most (grade ids, or their code where an editor dropped the metadata), a lesson
    named in the file name breaking ties (``Copy of 01_neuron.ipynb``); ``(None, None)`` when it
    shares none with any lesson."""
    known = releases()
    mine = _marks(nb)
    shared = {k: len(mine & _marks(rel, locked_only=True)) for k, rel in known.items()}
    best = max(known, key=lambda k: (shared[k], k in path.stem), default=None)
    if best is None or not shared[best]:
        return None, None
    return best, known[best]


#: A cell that writes a module beside the notebook (IPython's ``%%writefile``; ``-a`` appends).
WRITES_MODULE = re.compile(r"\s*%%writefile(?:\s+-a)?\s+['\"]?(?:\./)?([A-Za-z_]\w*)\.py['\"]?\s*\n")


def grading_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What the student's cells of ``nb`` use that this Python runs and grading refuses:
    syntax newer than the grader's Python (:func:`grading_env.newer_syntax`) and modules the
    grading environment does not provide (:func:`grading_env.missing_modules`; a module the
    notebook writes itself with ``%%writefile name.py`` is there at grading too), one sentence
    each, naming the cell and the line."""
    cells = [c for c in nb.cells if c.cell_type == "code"
             and c.metadata.get("dlcourse", {}).get("origin") == "student"]
    written = {m.group(1) for c in cells if (m := WRITES_MODULE.match(c.source))}
    found = []
    for cell in cells:
        source = python_source(cell.source)
        found += [f"셀 {cell_label(cell)}: {grading_env.syntax_message(kind, line)}"
                  for line, kind in grading_env.newer_syntax(source)]
        found += [f"셀 {cell_label(cell)}: {line}행: {grading_env.module_message(module)}"
                  for line, module in grading_env.missing_modules(source) if module not in written]
    return found


def validate_notebook(path: str | Path, cell_timeout: int = CELL_TIMEOUT,
                      notebook_timeout: int = NOTEBOOK_TIMEOUT,
                      kernel_manager_class=None) -> Report:
    """Validate one notebook file; see the module docstring. Raises nothing for a problem with
    the file or its metadata (the report says it)."""
    path = Path(path)
    report = Report(str(path))
    if not path.is_file():
        report.problem = "파일이 없습니다 (file not found)"
        return report
    submitted = read_notebook(path)
    meta = submitted.metadata.get("dlcourse", {})
    if meta.get("status"):
        report.problem = meta["message"]
        return report
    size = path.stat().st_size
    if size > WARN_FILE_BYTES:
        report.warnings.append(
            f"파일이 {size / 2**20:.1f} MB입니다: 저장된 출력(outputs) 때문이면 'Edit → Clear Outputs "
            "of All Cells' 후 저장하세요; LMS가 큰 파일을 거절할 수 있습니다 (large file)")
    report.lesson, template = find_release(submitted, path)
    if template is None:
        report.problem = ("이 강좌의 과제 노트북이 아닙니다: 검사 셀(test cell)을 하나도 찾지 "
                          "못했습니다 (not a lesson of this course: no test cells found)")
        return report
    nb = rebuild(template, submitted)
    named = next((k for k in releases() if k in path.stem), None)
    if named not in (None, report.lesson):
        report.notes.append(f"파일 이름은 {named}이지만 {report.lesson} 과제로 보입니다: 채점은 "
                            f"제출한 과제 폴더의 것으로 합니다 (looks like another lesson: "
                            f"{report.lesson})")
    report.notes += nb.metadata.get("dlcourse", {}).get("notes", [])
    report.at_grading = grading_problems(nb)
    # Like a grading kernel: a fresh folder, so files beside the notebook (which the grader
    # never sees) cannot make Validate pass.
    with tempfile.TemporaryDirectory(prefix="dlcourse-validate-") as folder:
        from .runner import run_notebook  # nbclient only when a notebook runs

        nb = run_notebook(nb, folder, env=VALIDATE_ENV, cell_timeout=cell_timeout,
                          notebook_timeout=notebook_timeout,
                          kernel_manager_class=kernel_manager_class)
    for index, cell in enumerate(nb.cells):
        if is_test_cell(cell):
            ok, state, msg = verdict(cell, own_records(cell))
            report.cells.append(CellResult(cell.metadata.nbgrader["grade_id"], title(cell), ok,
                                           state, explain(nb, index, msg)))
    prompts = {grade_id(c): c for c in template.cells if is_written(c)}
    for cell in nb.cells:
        if is_written(cell):
            state, msg = written_verdict(cell, prompts[grade_id(cell)])
            report.written.append(CellResult(grade_id(cell), title(cell), True, state, msg))
    return report


def validate(paths: list[str], timeout: int = CELL_TIMEOUT) -> int:
    """Validate each notebook in ``paths`` and print its report; 0 when all pass, else 1."""
    failed = 0
    for path in paths:
        try:
            report = validate_notebook(path, cell_timeout=timeout)
        except Exception as err:  # e.g. no Python kernel in this environment
            print(f"{path}: 검사를 실행할 수 없습니다 (validate could not run): "
                  f"{type(err).__name__}: {err}")
            failed += 1
            continue
        print(report.text())
        failed += not report.passed
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    # A Korean Windows console (cp949) or a redirected pipe cannot encode every character:
    # replace those instead of failing on a correct notebook.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    ap = argparse.ArgumentParser(prog="python -m dlcourse.validate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--timeout", type=int, default=CELL_TIMEOUT,
                    help=f"seconds per cell (default: the grader's {CELL_TIMEOUT})")
    args = ap.parse_args(argv)
    return validate(args.notebooks, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
