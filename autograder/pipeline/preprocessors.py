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
3. :class:`SandboxedExecute` runs it in :mod:`autograder.sandbox.bwrap` (but the cells the
   instructor tagged ``skip-at-grading`` that the student left unchanged: each shows
   :data:`SKIPPED` instead), with a per-cell and a
   per-notebook time limit, one memory and process budget (:mod:`autograder.sandbox.budget`) and a
   disk of its own (a tmpfs of ``disk_mb``); a timeout, a dead kernel or an exceeded budget is
   recorded, never raised. The kernel's working folder, on that tmpfs, holds the lesson's own
   files read-only (from a fresh temporary copy: never the course root, the student's folder
   or files handed in beside the notebook).
4. :class:`VerifyChecks` replaces each test cell's outputs with the verdict of comparing what the
   student's code produced with what the reference produced (:mod:`autograder.pipeline.reference`),
   keeps the verdict on the visible facts alone beside it (what Validate says of the cell), and
   conceals whatever could show hidden test code (student code can read it in the kernel: input
   history, its caller's frame), in any encoding (:mod:`autograder.pipeline.concealment`). nbgrader's
   ``SaveAutoGrades`` then scores the verdicts.
5. :class:`SaveStatus` records each cell's status next to the grades in the gradebook.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.exporters import NotebookExporter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import compute_checksum, is_grade
from traitlets import Enum, Integer

from dlcourse.check import MIME
from dlcourse.status import Status
from dlcourse.submission import (
    CRASH_MESSAGE,
    NOTEBOOK_TIMEOUT,
    SKIP_TAG,
    explain,
    grade_id,
    is_test_cell,
    is_written,
    notes_cell,
    read_notebook,
    rebuild,
    stop,
    timeout_message,
    verdict,
    written_verdict,
)
from dlcourse.validate import find_release

from ..paths import UnsafePath, confined, course_folder, rename_record
from ..sandbox.backends import BACKENDS, Limits
from . import status
from .concealment import (
    AFTER_HIDDEN,
    CONCEALED,
    after_hidden,
    conceal,
    first_hidden,
    hidden_code,
    output_text,
)
from .reference import reference_records, visible_labels

#: The rename marker older versions wrote in a submission folder: one found in an upload is
#: ignored and named (the record is :func:`autograder.paths.rename_record`).
RENAMED = ".dlcourse-renamed"


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


def renamed_from(root: Path, student: str, lesson: str, notebook: str) -> str | None:
    """The name the student gave ``notebook`` when ``./course grade`` graded a lone notebook
    under another name, from the course's own :func:`~autograder.paths.rename_record` (see
    :func:`autograder.grade.pool.adopt_renamed`), confined to the submission folder
    (:func:`~autograder.paths.confined`); ``None`` otherwise."""
    try:
        folder = course_folder(root, student, lesson)
        original = rename_record(Path(root), student, lesson).read_text(encoding="utf-8").strip()
        graded = confined(folder, notebook).read_bytes()
        return original if confined(folder, original).read_bytes() == graded else None
    except (OSError, UnsafePath):
        return None


class RebuildFromSource(NbGraderPreprocessor):
    """Sanitizing step: see :func:`dlcourse.submission.rebuild`; the notes go into a markdown
    cell at the top of the notebook."""

    def preprocess(self, nb, resources):
        course = _course(self.config)
        info = resources["nbgrader"]
        name = f"{info['notebook']}.ipynb"
        src = Path(course.format_path(course.source_directory, ".", info["assignment"])) / name
        looks_like, _ = find_release(nb, Path(name))
        template = nbformat.read(src, as_version=4)
        nb = rebuild(template, nb)
        mark_written(nb, template)
        if looks_like not in (None, info["assignment"]):
            nb.metadata.dlcourse.setdefault("notes", []).insert(
                0, f"이 노트북은 {looks_like} 과제로 보입니다: {info['assignment']}(으)로 "
                   f"채점했습니다 (looks like another lesson: {looks_like})")
        original = renamed_from(Path(course.root), info["student"], info["assignment"], name)
        folder = Path(course.format_path(course.submitted_directory, info["student"],
                                         info["assignment"]))
        if (folder / RENAMED).exists():  # handed in: never trusted (paths.rename_record)
            nb.metadata.dlcourse.setdefault("notes", []).insert(
                0, f"제출물의 {RENAMED} 파일은 무시했습니다 (uploaded marker ignored)")
        if original:
            nb.metadata.dlcourse.setdefault("notes", []).insert(
                0, f"{original!r} 파일을 {name}(으)로 채점했습니다 (renamed notebook graded)")
        if nb.metadata.dlcourse.get("status"):  # unreadable: nothing of the student's to place
            nb.metadata.dlcourse.pop("notes", None)
        elif nb.metadata.dlcourse.get("notes"):
            nb.cells.insert(0, notes_cell(nb.metadata.dlcourse["notes"]))
        return nb, resources


def mark_written(nb, template) -> None:
    """Give each written answer of rebuilt ``nb`` its status before a person grades it
    (:func:`dlcourse.submission.written_verdict` against ``template``, the instructor notebook;
    an unreadable file's status where the notebook has one). An empty answer gets nbgrader's
    mark of an unchanged answer (its ``checksum``), so ``SaveAutoGrades`` scores it 0 with "No
    response."; any other answer has none, so nbgrader leaves it to manual grading."""
    prompts = {grade_id(c): c for c in template.cells if is_written(c)}
    problem = nb.metadata.get("dlcourse", {})
    for cell in nb.cells:
        if not is_written(cell):
            continue
        state, message = written_verdict(cell, prompts[grade_id(cell)])
        if problem.get("status"):
            state, message = problem["status"], problem["message"]
        cell.metadata.nbgrader.pop("checksum", None)
        if state != Status.NEEDS_MANUAL:
            cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
        cell.metadata["dlcourse"] = {**cell.metadata.get("dlcourse", {}), "status": state,
                                     "message": message}


# --------------------------------------------------------------------------- 3. executing


OVER_BUDGET = {
    "memory": "메모리 예산을 넘었습니다 (crashed (memory)): 이 노트북과 그것이 시작한 프로세스들이 "
              "함께 {budget_mb} MiB를 넘어 멈췄습니다 (over the notebook's memory budget)",
    "processes": "프로세스 예산을 넘었습니다 (crashed (processes)): 이 노트북이 프로세스와 스레드를 "
                 "{max_procs}개보다 많이 만들려 했습니다 (over the notebook's process budget)",
    "disk": "디스크 예산을 넘었습니다 (crashed (disk)): 이 노트북이 쓴 파일이 {disk_mb} MiB를 다 "
            "채웠습니다 (over the notebook's disk budget)",
}


class OverBudget(Exception):
    """The notebook exceeded its ``memory``, ``processes`` or ``disk`` budget (``kind``)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


TRUNCATED = "출력이 너무 커서 잘렸습니다 (output truncated)"
#: The output of a cell not run at grading (:data:`dlcourse.submission.SKIP_TAG`), in the graded
#: notebook and the feedback.
SKIPPED = ("채점 때 실행하지 않은 셀입니다 (not run at grading): 보여 주기만 하는 셀이라 점수에 "
           f"영향이 없습니다 (show-only cell, tagged {SKIP_TAG})\n")
TRUNCATED_NOTE = (TRUNCATED + ": 출력 하나는 {per} 바이트, 노트북 전체는 {total} 바이트까지 "
                  "남깁니다 (outputs kept up to {per} bytes each, {total} bytes per notebook)")


class SandboxedExecute(Execute):
    """nbgrader's Execute, in the sandbox, with every failure recorded instead of raised."""

    notebook_timeout = Integer(NOTEBOOK_TIMEOUT, min=1, help="Seconds one notebook may run in "
                               "all").tag(config=True)
    #: Any other value is a configuration error (traitlets.TraitError) before anything is graded
    #: (:func:`autograder.grade.preflight.configured_execute`), never an unsandboxed grade.
    sandbox = Enum(BACKENDS.keys(), default_value="bwrap", help="'bwrap', or 'none' for trusted "
                   "notebooks (./course grade --no-sandbox)").tag(config=True)
    memory_mb = Integer(4096, min=64, help="Address-space limit of each process (RLIMIT_AS), "
                        "MiB").tag(config=True)
    budget_mb = Integer(4096, min=64, help="Memory of the notebook with all its processes "
                        "(cgroup), MiB").tag(config=True)
    max_procs = Integer(256, min=8, help="Processes and threads of the notebook").tag(config=True)
    file_mb = Integer(256, min=1, help="Size of each file a process writes (RLIMIT_FSIZE), MiB"
                      ).tag(config=True)
    disk_mb = Integer(512, min=16, help="What the notebook may write in all (its tmpfs: /tmp "
                      "and its working folder), MiB; counted in budget_mb, so less than it"
                      ).tag(config=True)
    max_output_bytes = Integer(2**20, help="Bytes one output may keep (text and data)"
                               ).tag(config=True)
    max_outputs_bytes = Integer(8 * 2**20, help="Bytes all outputs of the notebook may keep"
                                ).tag(config=True)

    def preprocess(self, nb, resources, km=None):
        self.interrupt_on_timeout = False  # a timed-out kernel is killed, never interrupted
        self.shutdown_kernel = "immediate"
        self.raise_on_iopub_timeout = False
        self.skip_cells_with_tag = SKIP_TAG  # nbclient leaves these unexecuted
        self._deadline = time.monotonic() + self.notebook_timeout
        self._started = time.monotonic()
        self._index = None
        self._box = None  # the notebook's opened sandbox (autograder.sandbox.backends.Sandbox)
        self._kept = 0  # bytes of output kept so far (:meth:`output`)
        self._truncated = False
        self._first_hidden = first_hidden(nb)  # from this cell on the kernel has hidden code
        if self.sandbox == "none":
            nb.metadata.setdefault("dlcourse", {})["sandbox"] = "none"
        if nb.metadata.get("dlcourse", {}).get("status"):
            return nb, resources  # unreadable: nothing of the student's to run
        # The kernel sees a fresh copy of the lesson's own files: files handed in beside the
        # notebook (a `dlcourse/` or `torch.py` that would shadow the real ones on sys.path,
        # data, other notebooks) never reach it, and what it writes stays in its tmpfs.
        meta = resources.setdefault("metadata", {})
        handed_in = meta.get("path")
        workdir = self._lesson_workdir(resources)
        meta["path"] = workdir
        # A kernel manager handed in (km) is the caller's: it runs as it was made.
        backend = BACKENDS[self.sandbox if km is None else "none"]
        try:
            with backend(Path(workdir), self.limits()) as self._box:
                if self._box.manager is not None:
                    self.kernel_manager_class = self._box.manager
                return self._run(nb, resources, km)
        finally:
            if handed_in is None:
                meta.pop("path", None)
            else:
                meta["path"] = handed_in
            shutil.rmtree(workdir, ignore_errors=True)

    def limits(self) -> Limits:
        """The configured bounds of one notebook (:class:`autograder.sandbox.backends.Limits`)."""
        return Limits(memory_mb=self.memory_mb, budget_mb=self.budget_mb,
                      max_procs=self.max_procs, file_mb=self.file_mb, disk_mb=self.disk_mb)

    def start_new_kernel_client(self):
        """nbclient's, then the kernel's sockets folder is sealed
        (:meth:`autograder.sandbox.bwrap.SandboxedKernelManager.seal`)."""
        kc = super().start_new_kernel_client()
        self._box.started(self.km)
        return kc

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
            self._stop(nb, Status.TIMED_OUT, timeout_message(self.timeout, self.notebook_timeout))
        except OverBudget as over:
            message = OVER_BUDGET[over.kind].format(budget_mb=self.budget_mb,
                                                    max_procs=self.max_procs, disk_mb=self.disk_mb)
            self._stop(nb, Status(f"crashed ({over.kind})"), message)
            nb.metadata["dlcourse"]["message"] = message  # the notebook's row says it too
        except DeadKernelError:
            if self._index is None:
                raise
            self._stop(nb, Status.CRASHED, CRASH_MESSAGE)
        finally:
            meta = nb.metadata.setdefault("dlcourse", {})
            meta["seconds"] = round(time.monotonic() - self._started, 3)
            if self._truncated:
                meta.setdefault("notes", []).append(
                    TRUNCATED_NOTE.format(per=self.max_output_bytes, total=self.max_outputs_bytes))
        return nb, resources

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's collection of one output, bounded as it arrives: an output over
        ``max_output_bytes`` keeps its first bytes (text) or becomes a note (data), and once the
        notebook's outputs reach ``max_outputs_bytes`` each cell keeps one note in place of the
        rest; a test cell's check publication (:data:`dlcourse.check.MIME`) counts but is kept
        up to twice that, so a flood of the student's costs no verdict."""
        content = msg.get("content", {})
        size = _output_size(content)
        check = (MIME in content.get("data", {}) and 0 <= cell_index < len(self.nb.cells)
                 and is_test_cell(self.nb.cells[cell_index]))
        limit = 2 * self.max_outputs_bytes if check else self.max_outputs_bytes
        note = nbformat.v4.new_output("stream", name="stderr", text=f"\n[{TRUNCATED}]\n")
        if self._kept + min(size, self.max_output_bytes) > limit:
            self._truncated = True
            if not (outs and outs[-1].get("text") == note.text):
                outs.append(note)
            return None
        cut = size > self.max_output_bytes
        if cut:
            self._truncated = True
            if msg["msg_type"] != "stream":
                outs.append(note)
                self._kept += len(note.text)
                return None
            msg = {**msg, "content": {**content,
                                      "text": content["text"][:self.max_output_bytes]}}
            size = self.max_output_bytes
        self._kept += size
        out = super().output(outs, msg, display_id, cell_index)
        if cut:
            outs.append(note)
        return out

    def _update_display_id(self, display_id, msg):
        """nbclient's replacement of the data of every earlier output with ``display_id`` (an
        ``update_display_data``, ``handle.update(...)``, or a display that reuses the id),
        bounded like :meth:`output` (and, once hidden tests have run, replaced by
        :data:`~autograder.pipeline.concealment.AFTER_HIDDEN`): what it adds over the data it replaces counts once per
        output it replaces, and over ``max_output_bytes`` or the notebook's
        ``max_outputs_bytes`` those outputs hold the truncation note instead (uncounted, as in
        :meth:`output`). ``clear_output`` loops need nothing more: every output that arrives
        counts in :meth:`output`, cleared or not."""
        targets = [self.nb.cells[cell].outputs[i]
                   for cell, ix in self._display_id_map.get(display_id, {}).items() for i in ix]
        size = _output_size(msg.get("content", {}))
        grown = size * len(targets) - sum(_output_size(out) for out in targets)
        if targets and (size > self.max_output_bytes
                        or self._kept + grown > self.max_outputs_bytes):
            self._truncated = True
            msg = {**msg, "content": {**msg["content"], "data": {"text/plain": f"[{TRUNCATED}]"},
                                      "metadata": {}}}
        else:
            self._kept += max(grown, 0)
            if (self._index or 0) >= self._first_hidden:
                # Sent once hidden test code reached the kernel, into outputs of any cell
                # (those before the first hidden cell are only checked for hidden lines as they
                # are): shown as every output after hidden tests (pipeline.concealment).
                msg = {**msg, "content": {**msg["content"], "metadata": {},
                                          "data": {"text/plain": AFTER_HIDDEN}}}
        super()._update_display_id(display_id, msg)

    def preprocess_cell(self, cell, resources, index):
        self._index = index
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
            if cell.cell_type == "code" and SKIP_TAG in cell.metadata.get("tags", []):
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=SKIPPED)]
            return cell, resources
        finally:
            # An exceeded budget explains a dead kernel, and stops a kernel that survived it.
            over = self._box.exceeded(self.km) if self._box is not None else None
            if over:
                raise OverBudget(over)  # the budget is the cause to report

    def _get_timeout(self, cell):
        per_cell = super()._get_timeout(cell) or self.notebook_timeout
        return max(1, int(min(per_cell, self._deadline - time.monotonic())))

    def _stop(self, nb, kind: str, message: str) -> None:
        stop(nb, self._index or 0, kind, message)


def _output_size(content: dict) -> int:
    """Characters an output message's ``content`` carries: its text, every data value (JSON
    for a non-string) and its traceback lines (Jupyter messaging spec, IOPub outputs)."""
    return len(content.get("text", "")) + sum(
        len(v) if isinstance(v, str) else len(json.dumps(v))
        for v in content.get("data", {}).values()) + sum(
        len(line) for line in content.get("traceback", []))


# --------------------------------------------------------------------------- 4. verdicts


class VerifyChecks(NbGraderPreprocessor):
    """Replace every test cell's outputs with the grader's own verdict, and conceal what could
    show hidden test code (:mod:`autograder.pipeline.concealment`): before the first cell with hidden
    tests, an output showing a hidden line; from it on, every output but errors and check
    payloads, and any error or verdict message that reveals a hidden line in any encoding."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        course = _course(self.config)
        refs = reference_records(info["assignment"], info["notebook"], Path(course.root))
        shown = visible_labels(info["assignment"], info["notebook"], Path(course.root))
        read_problem = nb.metadata.get("dlcourse", {}).get("status")
        secret = hidden_code(nb)
        tainted = first_hidden(nb)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and index >= tainted:
                after_hidden(cell, secret, frozenset([f"\n[{TRUNCATED}]\n", SKIPPED]))
            elif cell.cell_type == "code" and not is_test_cell(cell):
                cell.outputs = [
                    nbformat.v4.new_output("stream", name="stdout", text=CONCEALED + "\n")
                    if any(line in output_text(out) for line in secret) else out
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
                msg = conceal(explain(nb, index, msg), secret)
                # What Validate says of this cell: the same verdict on the visible facts alone.
                seen_ok, _, seen_msg = verdict(
                    cell, [r for r in refs[gid] if r["label"] in shown.get(gid, ())])
                seen = [seen_ok, conceal(explain(nb, index, seen_msg), secret)]
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
    """Write each test cell's status (graded, timed out, crashed, not run, unreadable…) and
    each written answer's (needs manual grading, or graded when empty) into the gradebook
    database, beside nbgrader's grades."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        nbmeta = nb.metadata.get("dlcourse", {})
        # Graded with --no-sandbox: every "graded" says so, in the gradebook and the CSV.
        graded = Status.GRADED_NO_SANDBOX if nbmeta.get("sandbox") == "none" else Status.GRADED
        rows = []
        for cell in nb.cells:
            if is_grade(cell):
                meta = cell.metadata.get("dlcourse", {})
                state = meta.get("status", Status.GRADED)
                rows.append((cell.metadata.nbgrader["grade_id"],
                             graded if state == Status.GRADED else state, meta.get("message", "")))
        state = nbmeta.get("status") or nbmeta.get("stopped") or Status.GRADED
        message = nbmeta.get("message") or "; ".join(nbmeta.get("notes", []))
        if state == Status.GRADED and graded == Status.GRADED_NO_SANDBOX:
            message = "; ".join(m for m in ("샌드박스 없이 채점했습니다 (graded without a sandbox): "
                                            "./course grade --no-sandbox", message) if m)
            state = Status.GRADED_NO_SANDBOX
        status.save(info["db_url"], info["assignment"], info["student"], info["notebook"],
                    state, message, nbmeta.get("seconds"), rows)
        return nb, resources
