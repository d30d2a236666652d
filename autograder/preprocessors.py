"""nbgrader plug-ins that make autograding fair to untrusted notebooks.

Order of events for one submitted notebook (see ``nbgrader_config.py``):

1. :class:`SubmissionReader` reads the file. An unreadable file (empty, invalid JSON, not UTF-8,
   too large, nbformat < 4) becomes an empty notebook carrying that status, never a crash.
2. :class:`RebuildFromSource` builds the notebook to run from the instructor notebook, taking
   only the student's answer cells (by ``grade_id``). Edited, deleted, reordered, retyped or
   duplicated test and read-only cells, changed points and extra cells therefore change nothing.
3. :class:`SandboxedExecute` runs it in :mod:`autograder.sandbox`, with a per-cell and a
   per-notebook time limit and one memory and process budget (:mod:`autograder.budget`); a
   timeout, a dead kernel or an exceeded budget is recorded, never raised. The kernel's
   only writable folder is a fresh temporary copy of the lesson's own files (never the course
   root, the student's folder or files handed in beside the notebook).
4. :class:`VerifyChecks` replaces each test cell's outputs with the verdict of comparing what the
   student's code produced with what the reference produced (:mod:`autograder.reference`), and
   conceals any output or message that shows hidden test code (student code can read it in the
   kernel: input history, its caller's frame). nbgrader's ``SaveAutoGrades`` then scores the
   verdicts.
5. :class:`SaveStatus` records each cell's status next to the grades in the gradebook.
"""

from __future__ import annotations

import contextlib
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
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Integer, Unicode

from dlcourse.check import decode, judge

from . import status
from .budget import Budget, kernel_uid
from .reference import is_test_cell, payloads, reference_records
from .sandbox import SandboxedKernelManager, give_to

MAX_NOTEBOOK_BYTES = 20 * 2**20
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Notebook-level statuses (also the CSV's status column).
READ_PROBLEMS = {
    "empty": "빈 파일입니다 (empty file)",
    "too large": "파일이 너무 큽니다 (file too large, over {limit} MB)",
    "not utf-8": "UTF-8 텍스트가 아닙니다 (not UTF-8)",
    "invalid json": "노트북 JSON이 깨졌습니다 (invalid JSON): {detail}",
    "old nbformat": "오래된 노트북 형식입니다 (old nbformat {detail}); Jupyter에서 다시 저장하세요",
    "not a notebook": "노트북 형식이 아닙니다 (not a notebook): {detail}",
}


def _course(config) -> CourseDirectory:
    return CourseDirectory(config=config)


# --------------------------------------------------------------------------- 1. reading


def read_submission(path: str | Path) -> NotebookNode:
    """Read a submitted notebook; any problem yields an empty notebook with a status."""

    def broken(kind: str, detail: str = "") -> NotebookNode:
        nb = nbformat.v4.new_notebook()
        msg = READ_PROBLEMS[kind].format(detail=detail[:200], limit=MAX_NOTEBOOK_BYTES >> 20)
        nb.metadata["dlcourse"] = {"status": kind, "message": msg}
        return nb

    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        return broken("empty")
    if size > MAX_NOTEBOOK_BYTES:
        return broken("too large")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return broken("not utf-8")
    if not text.strip():
        return broken("empty")
    try:
        data = json.loads(text)
    except ValueError as err:
        return broken("invalid json", str(err))
    if not isinstance(data, dict) or not isinstance(data.get("cells", []), list):
        return broken("not a notebook", "top level is not a notebook object")
    major = data.get("nbformat")
    if not isinstance(major, int) or major < 4:
        return broken("old nbformat", str(major))
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises many kinds on malformed cells
        return broken("not a notebook", f"{type(err).__name__}: {err}")
    return nb


class SubmissionReader(NotebookExporter):
    """nbgrader's exporter, reading submissions with :func:`read_submission`."""

    def from_filename(self, filename, resources=None, **kw):
        resources = resources or {}
        return self.from_notebook_node(read_submission(filename), resources=resources, **kw)


# --------------------------------------------------------------------------- 2. rebuilding


def answer_cells(nb: NotebookNode) -> dict[str, dict]:
    """The student's answer cells by grade_id (first one wins), whatever else was changed."""
    answers: dict[str, dict] = {}
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if not (isinstance(gid, str) and meta.get("solution")) or gid in answers:
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if isinstance(src, str):
            answers[gid] = {"cell_type": cell.get("cell_type"), "source": src}
    return answers


def rebuild(source_nb: NotebookNode, release_nb: NotebookNode | None,
            submitted: NotebookNode) -> NotebookNode:
    """The instructor notebook with each answer cell replaced by the student's answer (or, when
    it is missing or of the wrong type, by the released stub)."""
    answers = answer_cells(submitted)
    stubs = answer_cells(release_nb) if release_nb is not None else {}
    nb = from_dict(json.loads(json.dumps(source_nb)))
    missing = []
    for cell in nb.cells:
        if not is_solution(cell):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            continue
        gid = cell.metadata.nbgrader["grade_id"]
        given = answers.get(gid)
        if given and given["cell_type"] == cell.cell_type:
            cell.source = given["source"]
        else:
            missing.append(gid)
            cell.source = stubs.get(gid, {}).get("source", "")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    meta = dict(submitted.metadata.get("dlcourse", {}))
    if missing and "status" not in meta:
        meta["missing_answers"] = missing
    nb.metadata["dlcourse"] = meta
    return nb


class RebuildFromSource(NbGraderPreprocessor):
    """Sanitizing step: see :func:`rebuild`."""

    def preprocess(self, nb, resources):
        course = _course(self.config)
        info = resources["nbgrader"]
        name = f"{info['notebook']}.ipynb"
        src = Path(course.format_path(course.source_directory, ".", info["assignment"])) / name
        rel = Path(course.format_path(course.release_directory, ".", info["assignment"])) / name
        source_nb = nbformat.read(src, as_version=4)
        release_nb = nbformat.read(rel, as_version=4) if rel.exists() else None
        return rebuild(source_nb, release_nb, nb), resources


# --------------------------------------------------------------------------- 3. executing


#: Statuses of a test cell whose code did not run to its end.
STOPPED = ("timed out", "crashed", "crashed (memory)", "crashed (processes)", "not run")
#: Status of a score graded with ``--no-sandbox`` (``SandboxedExecute.sandbox = "none"``).
NO_SANDBOX = "graded (no sandbox)"
OVER_BUDGET = {
    "memory": "메모리 예산을 넘었습니다 (crashed (memory)): 이 노트북과 그것이 시작한 프로세스들이 "
              "함께 {budget_mb} MiB를 넘어 멈췄습니다 (over the notebook's memory budget)",
    "processes": "프로세스 예산을 넘었습니다 (crashed (processes)): 이 노트북이 프로세스와 스레드를 "
                 "{max_procs}개보다 많이 만들려 했습니다 (over the notebook's process budget)",
}


class OverBudget(Exception):
    """The notebook exceeded its ``memory`` or ``processes`` budget (``kind``)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class SandboxedExecute(Execute):
    """nbgrader's Execute, in the sandbox, with every failure recorded instead of raised."""

    notebook_timeout = Integer(300, help="Seconds one notebook may run in all").tag(config=True)
    sandbox = Unicode("bwrap", help="'bwrap', or 'none' for trusted notebooks").tag(config=True)
    memory_mb = Integer(4096, help="Address-space limit of each process, MiB").tag(config=True)
    budget_mb = Integer(4096, help="Memory of the notebook with all its processes (cgroup), "
                                   "MiB").tag(config=True)
    max_procs = Integer(256, help="Processes and threads of the notebook").tag(config=True)

    def preprocess(self, nb, resources, km=None):
        self.interrupt_on_timeout = False  # a timed-out kernel is killed, never interrupted
        self.shutdown_kernel = "immediate"
        self.raise_on_iopub_timeout = False
        self._deadline = time.monotonic() + self.notebook_timeout
        self._started = time.monotonic()
        self._index = None
        self._budget = None
        if self.sandbox == "none":
            nb.metadata.setdefault("dlcourse", {})["sandbox"] = "none"
        if nb.metadata.get("dlcourse", {}).get("status"):
            return nb, resources  # unreadable: nothing of the student's to run
        # The kernel runs in a fresh copy of the lesson's own files: files handed in beside the
        # notebook (a `dlcourse/` or `torch.py` that would shadow the real ones on sys.path,
        # data, other notebooks) never reach it, and what it writes is thrown away.
        meta = resources.setdefault("metadata", {})
        handed_in = meta.get("path")
        workdir = self._lesson_workdir(resources)
        meta["path"] = workdir
        with contextlib.ExitStack() as stack:
            if self.sandbox == "bwrap" and km is None:
                uid = stack.enter_context(kernel_uid())
                give_to(Path(workdir), uid)
                self._budget = Budget.open(self.budget_mb, self.max_procs)
                if self._budget is not None:
                    stack.callback(self._budget.close)
                self.kernel_manager_class = _bound_manager(workdir, self.memory_mb,
                                                           self.max_procs, uid, self._budget)
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
            self._stop(nb, "timed out", "시간 초과 (timed out): 셀이 제한 시간 안에 끝나지 "
                                        f"않았습니다 (limit {self.timeout} s per cell, "
                                        f"{self.notebook_timeout} s per notebook)")
        except OverBudget as over:
            message = OVER_BUDGET[over.kind].format(budget_mb=self.budget_mb,
                                                    max_procs=self.max_procs)
            self._stop(nb, f"crashed ({over.kind})", message)
            nb.metadata["dlcourse"]["message"] = message  # the notebook's row says it too
        except DeadKernelError:
            if self._index is None:
                raise
            self._stop(nb, "crashed", "커널이 죽었습니다 (kernel crashed): 프로세스가 끝났거나 "
                                      "메모리 한도를 넘었습니다 (exit, segfault or out of memory)")
        finally:
            nb.metadata.setdefault("dlcourse", {})["seconds"] = round(
                time.monotonic() - self._started, 3)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        self._index = index
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            # An exceeded budget explains a dead kernel, and stops a kernel that survived it.
            over = self._budget.exceeded() if self._budget is not None else None
            if over:
                raise OverBudget(over)  # the budget is the cause to report

    def _get_timeout(self, cell):
        per_cell = super()._get_timeout(cell) or self.notebook_timeout
        return max(1, int(min(per_cell, self._deadline - time.monotonic())))

    def _stop(self, nb, kind: str, message: str) -> None:
        for i, cell in enumerate(nb.cells):
            if self._index is None or i < self._index or cell.cell_type != "code":
                continue
            here = i == self._index
            cell.metadata["dlcourse"] = {
                "status": kind if here else "not run",
                "message": message if here else f"실행되지 않았습니다 (not run): {message}",
            }
        nb.metadata.setdefault("dlcourse", {})["stopped"] = kind


def _bound_manager(workdir: str, memory_mb: int, max_procs: int, uid: int | None,
                   budget: Budget | None):
    return type("BoundSandboxedKernelManager", (SandboxedKernelManager,), {
        "__init__": lambda self, **kw: SandboxedKernelManager.__init__(
            self, workdir=workdir, memory_mb=memory_mb, max_procs=max_procs, **kw),
        "uid": uid, "budget": budget,
    })


# --------------------------------------------------------------------------- 4. verdicts


def _kernel_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename = ANSI.sub("", str(out.get("ename", "")))[:100]
            evalue = ANSI.sub("", str(out.get("evalue", "")))[:600]
            return f"{ename}: {evalue}"
    return None


def verdict(cell, reference: list[dict]) -> tuple[bool, str, str]:
    """``(passed, status, message)`` for one executed test cell."""
    meta = cell.metadata.get("dlcourse", {})
    if meta.get("status") in STOPPED:
        return False, meta["status"], meta["message"]
    found = payloads(cell.outputs)
    if not found:
        err = _kernel_error(cell)
        return False, "graded", err or "검사 결과가 없습니다 (no check result): 셀이 끝까지 실행되지 않았습니다"
    records: dict[str, list[dict]] = {}
    for payload in found:
        for rec in payload["records"]:
            records.setdefault(rec["label"], []).append(rec)
    for ref in reference:
        label = ref["label"]
        got = records.get(label, [])
        if len(got) != 1:
            why = "없습니다 (missing)" if not got else "여러 번 나왔습니다 (duplicated)"
            return False, "graded", f"{label}: 검사 기록이 {why}"
        try:
            actual = decode(got[0]["actual"])
        except Exception:
            return False, "graded", f"{label}: 기록을 읽을 수 없습니다 (unreadable record)"
        visible = "expected" in ref
        spec = {
            "expected": decode(ref["expected"] if visible else ref["actual"]),
            "rtol": ref.get("rtol", 1e-5), "atol": ref.get("atol", 1e-8),
            "bound": ref.get("bound"), "dtype": ref.get("dtype", False),
        }
        try:
            problem = judge(ref["kind"], actual, spec, reveal=visible)
        except Exception as err:
            problem = f"비교할 수 없는 값입니다 (cannot compare): {type(err).__name__}"
        if problem:
            hidden = "" if visible else "숨은 검사(hidden test) "
            return False, "graded", f"{hidden}{label}: {problem}"
    return True, "graded", f"통과 (OK): 검사 {len(reference)}개"


HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS[^\n]*\n(.*?)### END HIDDEN TESTS", re.S)
CONCEALED = "[숨은 검사 코드가 들어 있어 가렸습니다 (output concealed: it shows hidden test code)]"


def hidden_code(nb: NotebookNode) -> list[str]:
    """Lines of the hidden tests that no instructor-written visible part contains (the kernel
    executes them, so student code can read them from its input history or its caller's frame;
    they must never come back in an output or a message)."""
    hidden, visible = set(), set()
    for cell in nb.cells:
        if is_solution(cell):
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
            else:
                ok, state, msg = verdict(cell, refs[gid])
                msg = conceal(msg, secret)
            cell.metadata["dlcourse"] = {"status": state, "message": msg, "passed": ok}
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
        nbmeta = nb.metadata.get("dlcourse", {})
        # Graded with --no-sandbox: every "graded" says so, in the gradebook and the CSV.
        graded = NO_SANDBOX if nbmeta.get("sandbox") == "none" else "graded"
        rows = []
        for cell in nb.cells:
            if is_grade(cell) and not is_solution(cell):
                meta = cell.metadata.get("dlcourse", {})
                state = meta.get("status", "graded")
                rows.append((cell.metadata.nbgrader["grade_id"],
                             graded if state == "graded" else state, meta.get("message", "")))
        state = nbmeta.get("status") or nbmeta.get("stopped") or "graded"
        message = nbmeta.get("message", "")
        if state == "graded" and graded == NO_SANDBOX:
            state, message = NO_SANDBOX, ("샌드박스 없이 채점했습니다 (graded without a sandbox): "
                                          "./course grade --no-sandbox")
        status.save(info["db_url"], info["assignment"], info["student"], info["notebook"],
                    state, message, nbmeta.get("seconds"), rows)
        return nb, resources
