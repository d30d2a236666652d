"""nbgrader plug-ins that make autograding fair to untrusted notebooks.

Order of events for one submitted notebook (see ``nbgrader_config.py``):

1. :class:`SubmissionReader` reads the file with :func:`dlcourse.submission.read_notebook`
   (Validate reads it the same way). Saved outputs are dropped before the size limit applies;
   an unreadable file (empty, invalid JSON, not UTF-8, too large, nbformat < 4) becomes an
   empty notebook carrying that status, never a crash.
2. :class:`RebuildFromSource` lays the student's cells into the instructor notebook with
   :func:`dlcourse.submission.rebuild` (Validate uses the same function with the released
   notebook): test and read-only cells come from the instructor, so edited, deleted, reordered,
   retyped or duplicated test cells and changed points change nothing, while every cell the
   student wrote runs in its place. What was ignored, moved or restored is listed in a
   "grading notes" cell at the top (it reaches the feedback) and in the status table.
3. :class:`SandboxedExecute` runs it in :mod:`autograder.sandbox`, with a per-cell and a
   per-notebook time limit; a timeout or a dead kernel is recorded, never raised. The kernel's
   only writable folder is a fresh temporary copy of the lesson's own files (never the course
   root, the student's folder or files handed in beside the notebook).
4. :class:`VerifyChecks` replaces each test cell's outputs with the verdict of comparing what the
   student's code produced with what the reference produced (:mod:`autograder.reference`),
   keeps the verdict on the visible facts alone beside it (what Validate says of the cell), and
   conceals any output or message that shows hidden test code (student code can read it in the
   kernel: input history, its caller's frame). nbgrader's ``SaveAutoGrades`` then scores the
   verdicts.
5. :class:`SaveStatus` records each cell's status next to the grades in the gradebook.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.exporters import NotebookExporter
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Integer, Unicode

from dlcourse.submission import (
    ANSI,
    CRASH_MESSAGE,
    NOTEBOOK_TIMEOUT,
    is_test_cell,
    notes_cell,
    read_notebook,
    rebuild,
    role,
    stop,
    timeout_message,
    verdict,
)

from . import status
from .reference import reference_records, visible_labels
from .sandbox import SandboxedKernelManager

RENAMED = ".dlcourse-renamed"  # in a submission folder: the file name the student handed in


def _course(config) -> CourseDirectory:
    return CourseDirectory(config=config)


# --------------------------------------------------------------------------- 1. reading


class SubmissionReader(NotebookExporter):
    """nbgrader's exporter, reading submissions with :func:`dlcourse.submission.read_notebook`.
    nbgrader reads twice: the student's file (untrusted: grader metadata in it is dropped) and
    then the sanitized copy it wrote in the autograded folder (trusted)."""

    def from_filename(self, filename, resources=None, **kw):
        resources = resources or {}
        course = _course(self.config)
        ours = Path(course.root, course.autograded_directory).resolve()
        trusted = Path(filename).resolve().is_relative_to(ours)
        return self.from_notebook_node(read_notebook(filename, trusted=trusted),
                                       resources=resources, **kw)


# --------------------------------------------------------------------------- 2. rebuilding


def renamed_from(folder: Path, notebook: str) -> str | None:
    """The name the student gave ``notebook`` when ``./course grade`` graded a lone notebook
    under another name (see :func:`autograder.parallel.adopt_renamed`); ``None`` otherwise."""
    marker = Path(folder) / RENAMED
    try:
        original = marker.read_text(encoding="utf-8").strip()
        graded = (Path(folder) / notebook).read_bytes()
        return original if (Path(folder) / original).read_bytes() == graded else None
    except OSError:
        return None


class RebuildFromSource(NbGraderPreprocessor):
    """Sanitizing step: see :func:`dlcourse.submission.rebuild`; the notes go into a markdown
    cell at the top of the notebook."""

    def preprocess(self, nb, resources):
        course = _course(self.config)
        info = resources["nbgrader"]
        name = f"{info['notebook']}.ipynb"
        src = Path(course.format_path(course.source_directory, ".", info["assignment"])) / name
        nb = rebuild(nbformat.read(src, as_version=4), nb)
        folder = course.format_path(course.submitted_directory, info["student"],
                                    info["assignment"])
        original = renamed_from(Path(folder), name)
        if original:
            nb.metadata.dlcourse.setdefault("notes", []).insert(
                0, f"{original!r} 파일을 {name}(으)로 채점했습니다 (renamed notebook graded)")
        if nb.metadata.dlcourse.get("status"):  # unreadable: nothing of the student's to place
            nb.metadata.dlcourse.pop("notes", None)
        elif nb.metadata.dlcourse.get("notes"):
            nb.cells.insert(0, notes_cell(nb.metadata.dlcourse["notes"]))
        return nb, resources


# --------------------------------------------------------------------------- 3. executing


class SandboxedExecute(Execute):
    """nbgrader's Execute, in the sandbox, with every failure recorded instead of raised."""

    notebook_timeout = Integer(NOTEBOOK_TIMEOUT, help="Seconds one notebook may run in all"
                               ).tag(config=True)
    sandbox = Unicode("bwrap", help="'bwrap', or 'none' for trusted notebooks").tag(config=True)
    memory_mb = Integer(4096, help="Address-space limit of the kernel, MiB").tag(config=True)

    def preprocess(self, nb, resources, km=None):
        self.interrupt_on_timeout = False  # a timed-out kernel is killed, never interrupted
        self.shutdown_kernel = "immediate"
        self.raise_on_iopub_timeout = False
        self._deadline = time.monotonic() + self.notebook_timeout
        self._started = time.monotonic()
        self._index = None
        if nb.metadata.get("dlcourse", {}).get("status"):
            return nb, resources  # unreadable: nothing of the student's to run
        # The kernel runs in a fresh copy of the lesson's own files: files handed in beside the
        # notebook (a `dlcourse/` or `torch.py` that would shadow the real ones on sys.path,
        # data, other notebooks) never reach it, and what it writes is thrown away.
        meta = resources.setdefault("metadata", {})
        handed_in = meta.get("path")
        workdir = self._lesson_workdir(resources)
        meta["path"] = workdir
        if self.sandbox == "bwrap" and km is None:
            self.kernel_manager_class = _bound_manager(workdir, self.memory_mb)
        try:
            return self._run(nb, resources, km)
        finally:
            if handed_in is None:
                meta.pop("path", None)
            else:
                meta["path"] = handed_in
            shutil.rmtree(workdir, ignore_errors=True)

    def _lesson_workdir(self, resources) -> str:
        course = _course(self.config)
        info = resources.get("nbgrader", {})
        workdir = Path(tempfile.mkdtemp(prefix="dlcourse-work-")).resolve()
        if "assignment" in info:
            src = Path(course.format_path(course.source_directory, ".", info["assignment"]))
            ignore = list(course.ignore) + ["*.ipynb"]
            for path in sorted(src.rglob("*")) if src.is_dir() else []:
                rel = path.relative_to(src)
                if path.is_file() and not any(fnmatch.fnmatch(part, pat) for part in rel.parts
                                              for pat in ignore):
                    (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(path, workdir / rel)
        return str(workdir)

    def _run(self, nb, resources, km):
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
        except CellTimeoutError:
            self._stop(nb, "timed out", timeout_message(self.timeout, self.notebook_timeout))
        except DeadKernelError:
            if self._index is None:
                raise
            self._stop(nb, "crashed", CRASH_MESSAGE)
        finally:
            nb.metadata.setdefault("dlcourse", {})["seconds"] = round(
                time.monotonic() - self._started, 3)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        self._index = index
        return super().preprocess_cell(cell, resources, index)

    def _get_timeout(self, cell):
        per_cell = super()._get_timeout(cell) or self.notebook_timeout
        return max(1, int(min(per_cell, self._deadline - time.monotonic())))

    def _stop(self, nb, kind: str, message: str) -> None:
        stop(nb, self._index or 0, kind, message)


def _bound_manager(workdir: str, memory_mb: int):
    return type("BoundSandboxedKernelManager", (SandboxedKernelManager,), {
        "__init__": lambda self, **kw: SandboxedKernelManager.__init__(
            self, workdir=workdir, memory_mb=memory_mb, **kw),
    })


# --------------------------------------------------------------------------- 4. verdicts


HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS[^\n]*\n(.*?)### END HIDDEN TESTS", re.S)
CONCEALED = "[숨은 검사 코드가 들어 있어 가렸습니다 (output concealed: it shows hidden test code)]"


def hidden_code(nb: NotebookNode) -> list[str]:
    """Lines of the hidden tests that no instructor-written visible part contains (the kernel
    executes them, so student code can read them from its input history or its caller's frame;
    they must never come back in an output or a message)."""
    hidden, visible = set(), set()
    for cell in nb.cells:
        if role(cell) != "locked":
            continue  # the student's own text cannot make a hidden line "visible"
        src = cell.get("source", "")
        for block in HIDDEN_BLOCK.findall(src):
            hidden.update(line.strip() for line in block.splitlines())
        visible.update(line.strip() for line in HIDDEN_BLOCK.sub("", src).splitlines())
    return sorted(line for line in hidden - visible if len(line) >= 8)


def _output_text(out) -> str:
    parts = [out.get("text", ""), out.get("ename", ""), out.get("evalue", "")]
    parts += list(out.get("traceback", []) or [])
    for value in (out.get("data") or {}).values():
        parts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return ANSI.sub("", "\n".join(p if isinstance(p, str) else "".join(p) for p in parts))


def conceal(text: str, lines: list[str]) -> str:
    return CONCEALED if any(line in text for line in lines) else text


class VerifyChecks(NbGraderPreprocessor):
    """Replace every test cell's outputs with the grader's own verdict, and conceal any other
    output that shows hidden test code."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        course = _course(self.config)
        refs = reference_records(info["assignment"], info["notebook"], Path(course.root))
        shown = visible_labels(info["assignment"], info["notebook"], Path(course.root))
        read_problem = nb.metadata.get("dlcourse", {}).get("status")
        secret = hidden_code(nb)
        for cell in nb.cells:
            if cell.cell_type == "code" and not is_test_cell(cell):
                cell.outputs = [
                    nbformat.v4.new_output("stream", name="stdout", text=CONCEALED + "\n")
                    if any(line in _output_text(out) for line in secret) else out
                    for out in cell.get("outputs", [])
                ]
            if not is_test_cell(cell):
                continue
            gid = cell.metadata.nbgrader["grade_id"]
            if gid not in refs:
                raise RuntimeError(f"test cell {gid!r} has no reference result (course bug)")
            if read_problem:
                ok, state, msg = False, read_problem, nb.metadata.dlcourse["message"]
                seen = [ok, msg]
            else:
                ok, state, msg = verdict(cell, refs[gid])
                msg = conceal(msg, secret)
                # What Validate says of this cell: the same verdict on the visible facts alone.
                seen_ok, _, seen_msg = verdict(
                    cell, [r for r in refs[gid] if r["label"] in shown.get(gid, ())])
                seen = [seen_ok, conceal(seen_msg, secret)]
            cell.metadata["dlcourse"] = {"status": state, "message": msg, "passed": ok,
                                         "visible": seen}
            if ok:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=msg + "\n")]
            else:
                cell.outputs = [nbformat.v4.new_output(
                    "error", ename="채점 실패 (check failed)", evalue=msg, traceback=[msg])]
        return nb, resources


# --------------------------------------------------------------------------- 5. status


class SaveStatus(NbGraderPreprocessor):
    """Write each test cell's status (graded, timed out, crashed, not run, unreadable…) into
    the gradebook database, beside nbgrader's grades."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        rows = []
        for cell in nb.cells:
            if is_grade(cell) and not is_solution(cell):
                meta = cell.metadata.get("dlcourse", {})
                rows.append((cell.metadata.nbgrader["grade_id"], meta.get("status", "graded"),
                             meta.get("message", "")))
        nbmeta = nb.metadata.get("dlcourse", {})
        message = nbmeta.get("message") or "; ".join(nbmeta.get("notes", []))
        status.save(info["db_url"], info["assignment"], info["student"], info["notebook"],
                    nbmeta.get("status") or nbmeta.get("stopped") or "graded",
                    message, nbmeta.get("seconds"), rows)
        return nb, resources
