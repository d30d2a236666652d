"""One judgement for a submitted notebook, shared by Validate and the grader.

A student's notebook goes through the same three steps whether the student checks it
(:mod:`dlcourse.validate`, the Validate button) or the instructor grades it (``autograder``):

1. :func:`read_notebook` reads the file with the course's limits: saved outputs are dropped
   *before* the size limit applies, so a correct notebook with big saved plots is never "too
   large"; an unreadable file becomes an empty notebook carrying its status.
2. :func:`rebuild` lays the student's cells into a *template*: the instructor notebook when
   grading (hidden tests included), the released notebook when validating. Test cells and
   read-only cells always come from the template; every cell the student wrote runs, in the
   student's order, in its place between them (added cells, split answer cells, an answer cell
   turned into markdown, an answer cell that lost its metadata). Whatever is ignored, moved or
   restored is named in the notebook's ``metadata.dlcourse.notes``.
3. :func:`verdict` decides each executed test cell from what the student's code published
   (:mod:`dlcourse.check`), against reference records: the grader's trusted reference run, or,
   in Validate, the visible records the cell itself published.

The only differences between Validate and the grade are the hidden tests in the template and
the grader's sandbox; the limits below are the grader's own.
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode, from_dict

from . import grading_env
from .check import HINT_MARK, MIME, decode, judge, known_hints
from .status import Status

#: The largest file accepted, as nbgrader's own exchange accepts (``ExchangeSubmit.max_file_size``,
#: 100,000 KB).
MAX_FILE_BYTES = 100_000 * 1024
#: The largest notebook once its saved outputs are dropped (the code and text the student wrote).
MAX_CODE_BYTES = 20 * 2**20
#: Validate warns about files at least this large: many LMSs refuse uploads above 20 MB.
WARN_FILE_BYTES = 20 * 2**20
#: Time limits of one graded notebook, seconds (the grader's ``Execute.timeout`` and
#: ``SandboxedExecute.notebook_timeout``); Validate uses the same.
CELL_TIMEOUT = 60
NOTEBOOK_TIMEOUT = 300
#: The largest check payload read from an output (untrusted input).
MAX_PAYLOAD_BYTES = 4 * 2**20

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

#: Notebook-level statuses of files that cannot be graded (also the CSV's status column).
READ_PROBLEMS = {
    Status.EMPTY: "빈 파일입니다 (empty file)",
    Status.TOO_LARGE: "파일이 너무 큽니다 (file too large): {detail}",
    Status.NOT_UTF8: "UTF-8 텍스트가 아닙니다 (not UTF-8)",
    Status.INVALID_JSON: "노트북 JSON이 깨졌습니다 (invalid JSON): {detail}",
    Status.OLD_NBFORMAT: "오래된 노트북 형식입니다 (old nbformat {detail}); Jupyter에서 다시 저장하세요",
    Status.NOT_A_NOTEBOOK: "노트북 형식이 아닙니다 (not a notebook): {detail}",
}


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


# --------------------------------------------------------------------------- 1. reading


def _broken(kind: Status, detail: str = "") -> NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["dlcourse"] = {"status": kind,
                               "message": READ_PROBLEMS[kind].format(detail=detail[:200])}
    return nb


#: A reference to a cell attachment in markdown (``![image.png](attachment:image.png)``, what
#: JupyterLab writes for a pasted or dragged picture; nbformat v4 ``attachments``).
ATTACHMENT_REF = re.compile(r"attachment:([^\s)\"'>\]]+)")
#: What an attachment reference points to once the attachments are dropped: nothing to fetch,
#: and nbconvert (the feedback page) no longer stops on a missing attachment.
ATTACHMENT_GONE = "#attachment-not-kept"
ATTACHMENTS_NOTE = ("셀에 붙인 그림은 채점 노트북에 싣지 않았습니다 (cell attachments not kept): "
                    "{names}")


def _drop_outputs(data: dict) -> list[str]:
    """Drop saved outputs and cell attachments in place; a markdown cell's references to its
    attachments then point to :data:`ATTACHMENT_GONE`. Returns the attachment names referenced."""
    names = []
    for cell in data.get("cells", []):
        if isinstance(cell, dict):
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
            cell.pop("attachments", None)
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            if cell.get("cell_type") == "markdown" and isinstance(src, str) and (
                    "attachment:" in src):
                names += ATTACHMENT_REF.findall(src)
                cell["source"] = ATTACHMENT_REF.sub(ATTACHMENT_GONE, src)
    return list(dict.fromkeys(names))


def read_notebook(path: str | Path, trusted: bool = False) -> NotebookNode:
    """Read a notebook for grading or validating. Never raises for a bad file: an empty,
    oversized, non-UTF-8, invalid or pre-v4 file gives an empty notebook whose
    ``metadata.dlcourse`` has ``status`` (a key of :data:`READ_PROBLEMS`) and ``message``.

    Saved outputs and cell attachments are dropped first (they are never graded; references to
    attachments in markdown then point nowhere, and a note names them); the file may
    be up to :data:`MAX_FILE_BYTES`, the rest up to :data:`MAX_CODE_BYTES`. When the outputs
    were what made the file large, ``metadata.dlcourse.notes`` says so. ``metadata.dlcourse``
    is the grader's: it is dropped from a student's file, kept only when ``trusted`` (a notebook
    the grader wrote itself)."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        return _broken(Status.EMPTY)
    if size > MAX_FILE_BYTES:
        return _broken(Status.TOO_LARGE, f"{_mb(size)}, 한도 {_mb(MAX_FILE_BYTES)} (limit)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _broken(Status.NOT_UTF8)
    if not text.strip():
        return _broken(Status.EMPTY)
    try:
        data = json.loads(text)
    except ValueError as err:
        return _broken(Status.INVALID_JSON, str(err))
    if not isinstance(data, dict) or not isinstance(data.get("cells", []), list):
        return _broken(Status.NOT_A_NOTEBOOK, "top level is not a notebook object")
    major = data.get("nbformat")
    if not isinstance(major, int) or major < 4:
        return _broken(Status.OLD_NBFORMAT, str(major))
    attachments = _drop_outputs(data)
    code_size = len(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    if code_size > MAX_CODE_BYTES:
        return _broken(Status.TOO_LARGE, f"출력을 뺀 코드와 글이 {_mb(code_size)}, 한도 "
                                    f"{_mb(MAX_CODE_BYTES)} (code and text over the limit)")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as err:  # nbformat raises many kinds on malformed cells
        return _broken(Status.NOT_A_NOTEBOOK, f"{type(err).__name__}: {err}")
    if not isinstance(nb.get("metadata"), dict):
        nb.metadata = NotebookNode()
    if not trusted:
        nb.metadata.pop("dlcourse", None)
    notes = []
    if size > WARN_FILE_BYTES:
        notes.append(f"저장된 출력(outputs) 때문에 파일이 {_mb(size)}입니다: 출력은 채점에 쓰지 "
                     "않고 지웠습니다 (saved outputs dropped)")
    if attachments:
        notes.append(ATTACHMENTS_NOTE.format(names=", ".join(attachments[:5])))
    if notes:
        nb.metadata.setdefault("dlcourse", {}).setdefault("notes", []).extend(notes)
    return nb


# --------------------------------------------------------------------------- 2. rebuilding


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def _source(cell) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def role(cell) -> str:
    """``"answer"`` (an nbgrader solution cell), ``"locked"`` (a test or read-only cell: the
    template's source always wins) or ``"free"`` (prose, examples, "try it" cells)."""
    meta = _nbgrader(cell)
    if meta.get("solution"):
        return "answer"
    if meta.get("grade") or meta.get("locked"):
        return "locked"
    return "free"


def grade_id(cell) -> str | None:
    gid = _nbgrader(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def _student_cell(cell, cell_type: str | None = None) -> NotebookNode:
    """A clean copy of a student's cell: its id, source and type, none of its metadata (a
    student cell never claims to be a test, never carries grader keys), no outputs."""
    kind = cell_type or cell.get("cell_type")
    maker = {"markdown": nbformat.v4.new_markdown_cell,
             "raw": nbformat.v4.new_raw_cell}.get(kind, nbformat.v4.new_code_cell)
    new = maker(_source(cell))
    if isinstance(cell.get("id"), str) and cell["id"]:
        new.id = cell["id"][:64]
    new.metadata["dlcourse"] = {"origin": "student"}
    return new


HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[^\n]*\n?",
                          re.S | re.M)


def visible_source(cell) -> str:
    """A cell's source as students see it: hidden test blocks removed (as nbgrader's
    ``ClearHiddenTests`` does), surrounding whitespace ignored."""
    return HIDDEN_BLOCK.sub("", _source(cell)).strip()


#: The tag of a cell that only shows (a picture, a demo, a timing experiment, a widget) and that
#: nothing graded depends on: the grader does not run it (``skip-at-grading``; ``./course
#: check`` proves each such mark changes no verdict).
SKIP_TAG = "skip-at-grading"


def _skip_mark(cell: NotebookNode, tcell) -> NotebookNode:
    """``cell`` (a student's copy of the free template cell ``tcell``) with :data:`SKIP_TAG`
    when ``tcell`` has it and the student left its code as it was; a changed copy runs."""
    tags = tcell.get("metadata", {}).get("tags", [])
    if (SKIP_TAG in tags and cell.cell_type == "code"
            and visible_source(cell) == visible_source(tcell)):
        cell.metadata["tags"] = [SKIP_TAG]
    return cell


def _template_cell(cell) -> NotebookNode:
    new = from_dict(copy.deepcopy(dict(cell)))
    if new.cell_type == "code":
        new.outputs, new.execution_count = [], None
    return new


def cell_label(cell) -> str:
    return grade_id(cell) or str(cell.get("id", "?"))


DEFINES = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)", re.M)


def _by_place(out: list, start: int, answer) -> int | None:
    """Index in ``out[start:]`` (the unmatched student cells just above where ``answer``
    belongs) of the cell of the answer's type (code; markdown for a written answer) that stands
    for the answer whose metadata was lost: the last one defining a name the answer cell
    defines (``def sigmoid``), else the last of that type."""
    code = [i for i in range(start, len(out)) if out[i].cell_type == answer.cell_type]
    names = set(DEFINES.findall(_source(answer)))
    defining = [i for i in code if names & set(DEFINES.findall(out[i].source))]
    return (defining or code or [None])[-1]


def rebuild(template: NotebookNode, submitted: NotebookNode) -> NotebookNode:
    """The notebook to run: ``template``'s test and read-only cells, with the student's cells
    of ``submitted`` laid in their places.

    Each student cell is matched to a template cell by nbgrader ``grade_id``, else by cell
    ``id``, else (a test or read-only cell that lost its metadata) by identical source. Matched
    cells take the template cell's place; the others follow the matched cell above them, in the
    student's order. An answer cell keeps every part the student split it into (the parts that
    follow it with no other matched cell between; the first part carries the nbgrader metadata;
    a copy pasted further away stays where it is), is restored to the template's cell type,
    and, where the
    student lost it, is found by its place (among the unmatched code cells just above where it
    belongs, the last that defines what the answer cell defines, else the last), left where it
    is. The student's copies of test and read-only cells are ignored. A free cell the student
    left unchanged keeps the template's :data:`SKIP_TAG` (no other metadata). The result's
    ``metadata`` is the template's (kernelspec included) with ``dlcourse.notes`` naming every
    such change, in Korean with the English phrase; ``dlcourse`` keys set by
    :func:`read_notebook` (status, message, notes) carry over.
    """
    cells = template.cells
    by_gid = {g: t for t, c in enumerate(cells) if (g := grade_id(c))}
    by_id = {c.get("id"): t for t, c in enumerate(cells) if c.get("id")}
    by_source = {visible_source(c): t for t, c in enumerate(cells)
                 if role(c) == "locked" and visible_source(c)}
    slots: dict[int, list] = {}
    follow: dict[int, list] = {}
    order: list[int] = []
    last = -1
    for cell in submitted.get("cells", []):
        if not isinstance(cell, dict):
            continue
        gid, cid = grade_id(cell), cell.get("id")
        t = by_gid.get(gid) if gid else None
        if t is None and isinstance(cid, str):
            t = by_id.get(cid)
        if t is None:
            t = by_source.get(visible_source(cell))
        if t is not None and t in slots and t != last and role(cells[t]) == "answer":
            t = None  # a copy pasted elsewhere, not a part of a split answer: it stays there
        if t is None:
            follow.setdefault(last, []).append(cell)
        else:
            slots.setdefault(t, []).append(cell)
            order.append(t)
            last = t

    notes: list[str] = []
    meta = submitted.get("metadata", {})
    dl = dict(meta.get("dlcourse", {})) if isinstance(meta, dict) else {}
    notes += list(dl.pop("notes", []))
    out: list[NotebookNode] = [_student_cell(c) for c in follow.get(-1, [])]
    trailing = len(out)  # out[trailing:]: unmatched student cells since the last placed cell
    ignored, restored, deleted, retyped, by_place, missing = [], [], [], [], [], []
    retyped_written: list[str] = []  # a written answer (markdown) the student turned into code
    for t, tcell in enumerate(cells):
        given = slots.get(t, [])
        kind = role(tcell)
        if kind == "locked":
            out.append(_template_cell(tcell))
            if not given:
                deleted.append(cell_label(tcell))
            for i, c in enumerate(given):
                if i > 0:
                    ignored.append(cell_label(tcell))
                elif (visible_source(c) != visible_source(tcell)
                      or c.get("cell_type") != tcell.cell_type):
                    restored.append(cell_label(tcell))
        elif kind == "answer":
            parts = [_student_cell(c, tcell.cell_type) for c in given]
            changed = [cell_label(tcell) for c in given if c.get("cell_type") != tcell.cell_type]
            (retyped_written if tcell.cell_type == "markdown" else retyped).extend(changed)
            head = _template_cell(tcell)
            head.metadata.setdefault("dlcourse", {})["origin"] = "student"
            if parts:
                head.source = parts[0].source
                out += [head, *parts[1:]]
            elif (at := _by_place(out, trailing, tcell)) is not None:
                head.source = out[at].source  # the answer stays where the student put it
                out[at] = head
                by_place.append(cell_label(tcell))
            else:
                head.source = ""
                out.append(head)
                missing.append(cell_label(tcell))
        else:
            out += [_skip_mark(_student_cell(c), tcell) for c in given]
        if kind != "free" or given:
            trailing = len(out)
        out += [_student_cell(c) for c in follow.get(t, [])]

    if order != sorted(order):
        notes.append("순서가 바뀐 셀을 원래 자리로 옮겨 실행했습니다 (reordered cells put back in place)")
    for what, ids in (
        ("답안 셀을 코드 셀로 되돌렸습니다 (answer cell restored to code)", retyped),
        ("서술형 답 셀을 마크다운 셀로 되돌렸습니다 (written answer cell restored to markdown)",
         retyped_written),
        ("메타데이터가 없는 셀을 제자리의 답안으로 채점했습니다 (answer cell matched by its place)",
         by_place),
        ("답안 셀이 없습니다 (answer cell missing)", missing),
        ("잠긴 셀(locked cell)은 배포된 과제의 내용으로 실행했습니다; 제출한 사본과 다릅니다 "
         "(locked cell restored)", restored),
        ("지워진 잠긴 셀(locked cell)을 되살렸습니다 (deleted cell restored)", deleted),
        ("복사한 잠긴 셀(locked cell)은 무시했습니다 (duplicated locked cell ignored)", ignored),
    ):
        if ids:
            notes.append(f"{what}: {', '.join(dict.fromkeys(ids))}")
    kernel = meta.get("kernelspec", {}) if isinstance(meta, dict) else {}
    wanted = template.metadata.get("kernelspec", {}).get("name")
    if isinstance(kernel, dict) and kernel.get("name") not in (None, wanted):
        notes.append(f"노트북의 커널(kernel) 설정 {str(kernel.get('name'))[:40]!r} 대신 "
                     f"{wanted}로 실행했습니다 (kernelspec ignored)")

    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(template.metadata)
    seen: set[str] = set()
    for i, cell in enumerate(out):
        cid = cell.get("id") or f"cell-{i}"
        while cid in seen:
            cid = f"{cid}-{i}"
        cell["id"] = cid
        seen.add(cid)
    nb.cells = out
    if notes:
        dl["notes"] = notes
    nb.metadata["dlcourse"] = dl
    return nb


def note_line(note: str) -> str:
    """One markdown list item of the notes cell, showing ``note`` as text: ``&``, ``<`` and
    ``>`` as character references (a note names files the student named, and HTML tags)."""
    return f"- {html.escape(note, quote=False)}"


def notes_cell(notes: list[str]) -> NotebookNode:
    """A markdown cell listing ``notes`` (the top of a graded notebook and its feedback)."""
    cell = nbformat.v4.new_markdown_cell(
        "### 채점 참고 (grading notes)\n" + "\n".join(note_line(n) for n in notes))
    cell.metadata["dlcourse"] = {"origin": "grader"}
    return cell


# --------------------------------------------------------------------------- 3. judging


def is_test_cell(cell) -> bool:
    """A code cell with points that is not an answer cell (nbgrader's autograder test)."""
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def payloads(outputs) -> list[dict]:
    """The check payloads among a cell's outputs, structurally validated (untrusted input)."""
    found = []
    for out in outputs:
        if out.get("output_type") not in ("display_data", "execute_result"):
            continue
        data = out.get("data", {}).get(MIME)
        if data is None:
            continue
        if isinstance(data, str):
            if len(data) > MAX_PAYLOAD_BYTES:
                continue
            try:
                data = json.loads(data)
            except ValueError:
                continue
        records = data.get("records") if isinstance(data, dict) else None
        if not isinstance(records, list):
            continue
        good = [
            r for r in records
            if isinstance(r, dict) and isinstance(r.get("label"), str)
            and isinstance(r.get("actual"), str) and len(r["actual"]) <= MAX_PAYLOAD_BYTES
        ]
        found.append({"title": str(data.get("title", "")), "records": good})
    return found


#: Characters of an error's value that a message keeps (the rest is cut, marked " …"): what a
#: student needs to read ("mat1 and mat2 shapes cannot be multiplied (4x3 and 2x1)"), and
#: little room, after hidden tests, for text in an encoding the concealment does not know.
ERROR_CHARS = 300


def cut_error_value(value: str) -> str:
    """``value`` cut at :data:`ERROR_CHARS`, marked ``" …"``; a known mistake's hint at its end
    (:data:`dlcourse.check.HINT_MARK` and a hint of :func:`dlcourse.check.known_hints`, not
    text the kernel made up) is kept whole after the cut message. Cutting twice cuts once, so
    Validate (uncut outputs) and the grader (outputs already cut after hidden tests) say the
    same."""
    message, mark, tip = value.partition(HINT_MARK)
    if not mark or tip not in known_hints():
        message, mark, tip = value, "", ""
    cut = message if len(message) <= ERROR_CHARS else message[:ERROR_CHARS] + " …"
    return f"{cut}{mark}{tip}"


def kernel_error(cell) -> str | None:
    """``"Name: message"`` of the cell's first error output, without colour codes, the name
    cut at 100 characters and the message by :func:`cut_error_value`."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename = ANSI.sub("", str(out.get("ename", "")))[:100]
            evalue = cut_error_value(ANSI.sub("", str(out.get("evalue", ""))))
            return f"{ename}: {evalue}"
    return None


#: Cell statuses that end a run: the cell and every cell after it get no verdict of their own
#: (the grader's memory and process budgets add the two ``crashed (...)`` kinds).
STOPPED = (Status.TIMED_OUT, Status.CRASHED, Status.CRASHED_MEMORY, Status.CRASHED_PROCESSES,
           Status.NOT_RUN)


def stop(nb: NotebookNode, index: int, kind: str, message: str) -> None:
    """Mark code cell ``index`` with ``kind`` (``timed out`` or ``crashed``) and every later code
    cell as ``not run``; the notebook's ``metadata.dlcourse.stopped`` is ``kind``."""
    where = cell_label(nb.cells[index]) if index < len(nb.cells) else "?"
    for i, cell in enumerate(nb.cells):
        if i < index or cell.cell_type != "code":
            continue
        here = i == index
        cell.metadata["dlcourse"] = {
            **cell.metadata.get("dlcourse", {}),
            "status": kind if here else Status.NOT_RUN,
            "message": message if here else f"실행되지 않았습니다 (not run): 셀 {where}: {message}",
        }
    nb.metadata.setdefault("dlcourse", {})["stopped"] = kind


def timeout_message(cell_timeout: int, notebook_timeout: int | None) -> str:
    """The message of a cell that timed out (``notebook_timeout=None``: no limit per notebook)."""
    per_notebook = "" if notebook_timeout is None else f", {notebook_timeout} s per notebook"
    return (f"시간 초과 (timed out): 셀이 제한 시간 안에 끝나지 않았습니다 (limit {cell_timeout} s "
            f"per cell{per_notebook})")


CRASH_MESSAGE = ("커널이 죽었습니다 (kernel crashed): 프로세스가 끝났거나 메모리 한도를 넘었습니다 "
                 "(exit, segfault or out of memory)")


#: The label of the facts a cell did not get to when it stopped with an error.
UNFINISHED = "(끝나지 않은 검사 (unfinished checks))"


#: Cell magics whose body is Python the kernel runs (IPython's own: ``%%time`` and the like).
PYTHON_CELL_MAGIC = re.compile(r"\s*%%(?:time|timeit|capture|prun)\b[^\n]*\n")


def python_source(source: str) -> str:
    """A code cell's source as the kernel compiles it: IPython's line magics and shell escapes
    (``!pip``) transformed (IPython's ``TransformerManager``); of a cell magic that runs Python
    (:data:`PYTHON_CELL_MAGIC`), its body below the magic's line made a comment (the lines
    keep their numbers)."""
    from IPython.core.inputtransformer2 import TransformerManager

    if m := PYTHON_CELL_MAGIC.match(source):
        source = f"# {m.group(0).lstrip()}{source[m.end():]}"
    return TransformerManager().transform_cell(source)


NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^'.]+)")


def hint(error: str, source: str) -> str | None:
    """What the grading environment says of a cell's ``error`` (``"Name: message"``) with
    ``source``: a construct newer than the grader's Python (:func:`grading_env.syntax_hint`),
    a module it does not provide (:func:`grading_env.module_message`), or ``None``."""
    if error.startswith("SyntaxError"):
        return grading_env.syntax_hint(python_source(source))
    m = NO_MODULE.match(error)
    if m and m.group(1) not in grading_env.grading_modules():
        return grading_env.module_message(m.group(1))
    return None


def _with_hint(error: str, source: str) -> str:
    why = hint(error, source)
    return f"{error} — {why}" if why else error


def error_above(nb: NotebookNode, index: int) -> str | None:
    """``"<cell>: Name: message"`` of the first error in a cell the student wrote above cell
    ``index`` (an answer that did not run: a ``SyntaxError``, a module that is not there, a stub
    raising at the top level), with its :func:`hint`, or ``None``."""
    for cell in nb.cells[:index]:
        if cell.cell_type == "code" and cell.metadata.get("dlcourse", {}).get("origin") == "student":
            err = kernel_error(cell)
            if err:
                return f"{cell_label(cell)}: {_with_hint(err, _source(cell))}"
    return None


def explain(nb: NotebookNode, index: int, message: str) -> str:
    """A failing test cell's ``message``; a ``NameError`` (a name an earlier cell should have
    defined) also names the first error above it (:func:`error_above`), a module the grading
    environment does not provide is named (:func:`hint`)."""
    if NO_MODULE.match(message):
        return _with_hint(message, "")
    cause = error_above(nb, index) if message.startswith("NameError") else None
    return f"{message} — 위 셀에서 먼저 난 오류 (first error above) {cause}" if cause else message


def own_records(cell) -> list[dict]:
    """The records a test cell published itself: Validate's reference (the release has no
    hidden tests, so every record is a visible fact with its expectation). A cell that stopped
    with an error also expects the facts it did not get to (:data:`UNFINISHED`), so that
    :func:`verdict` reports the error, as the grader's reference run would."""
    records = [r for p in payloads(cell.get("outputs", [])) for r in p["records"]]
    return records + ([{"label": UNFINISHED}] if kernel_error(cell) else [])


def verdict(cell, reference: list[dict]) -> tuple[bool, str, str]:
    """``(passed, status, message)`` for one executed test cell, judged against ``reference``
    (``[{label, kind, expected | actual, rtol, atol, bound, dtype, inputs, shapes, loss, rays,
    steps}]``: what the reference run recorded for the cell; a record with ``expected`` is a
    visible fact). Everything but the student's ``actual`` comes from ``reference``: a network
    fact measures the student's parameters on the reference's ``inputs``, labels and bound; a
    ``loss_along_rays`` fact reads the student's values at the reference's points."""
    meta = cell.metadata.get("dlcourse", {})
    if meta.get("status") in STOPPED:
        return False, meta["status"], meta["message"]
    found = payloads(cell.outputs)
    if not found:
        return False, Status.GRADED, (kernel_error(cell) or "검사 결과가 없습니다 (no check result): "
                                 "셀이 끝까지 실행되지 않았습니다")
    records: dict[str, list[dict]] = {}
    for payload in found:
        for rec in payload["records"]:
            records.setdefault(rec["label"], []).append(rec)
    error = kernel_error(cell)
    for ref in reference:
        label = ref["label"]
        got = records.get(label, [])
        if not got and error:  # the cell stopped before this fact: its error says why
            return False, Status.GRADED, error
        if len(got) != 1:
            why = "없습니다 (missing)" if not got else "여러 번 나왔습니다 (duplicated)"
            return False, Status.GRADED, f"{label}: 검사 기록이 {why}"
        try:
            actual = decode(got[0]["actual"])
        except Exception:
            return False, Status.GRADED, f"{label}: 기록을 읽을 수 없습니다 (unreadable record)"
        visible = "expected" in ref
        spec = {
            "expected": decode(ref["expected"] if visible else ref["actual"]),
            "rtol": ref.get("rtol", 1e-5), "atol": ref.get("atol", 1e-8),
            "bound": ref.get("bound"), "dtype": ref.get("dtype", False),
            # what the grader measures the student's network on: its own reference run's data
            "shapes": ref.get("shapes"), "loss": ref.get("loss"),
            "inputs": decode(ref["inputs"]) if "inputs" in ref else None,
            # where a loss was evaluated (loss_along_rays): the reference run's points
            "rays": ref.get("rays"), "steps": ref.get("steps"),
        }
        try:
            problem = judge(ref["kind"], actual, spec, reveal=visible)
        except Exception as err:
            problem = f"비교할 수 없는 값입니다 (cannot compare): {type(err).__name__}"
        if problem:
            hidden = "" if visible else "숨은 검사(hidden test) "
            return False, Status.GRADED, f"{hidden}{label}: {problem}"
    return True, Status.GRADED, f"통과 (OK): 검사 {len(reference)}개"


#: What a written answer holds in the release until the student writes (nbgrader's
#: ``ClearSolutions.text_stub``, set from this in the course's nbgrader configuration).
TEXT_STUB = "여기에 답을 쓰세요 (YOUR ANSWER HERE)"
SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION.*?### END SOLUTION[^\n]*\n?", re.S | re.M)
WRITTEN_MESSAGE = "서술형 답은 채점자가 읽고 채점합니다 (graded by hand)"
WRITTEN_EMPTY = "서술형 답이 비어 있습니다 (written answer empty): 0점"


def is_written(cell) -> bool:
    """A written answer (서술형): a markdown cell nbgrader grades by hand (``solution`` and
    ``grade``, with points)."""
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "markdown" and bool(meta.get("grade")) and bool(
        meta.get("solution"))


def written_text(cell, template) -> str:
    """What the student wrote in written answer ``cell``: its source without the lines of
    ``template``'s prompt (the template cell's text outside its solution region: the instructor
    notebook or the release) and without :data:`TEXT_STUB`, stripped; ``""`` when nothing is
    left (an empty answer)."""
    given = {line.strip() for line in SOLUTION_REGION.sub("", _source(template)).splitlines()}
    given |= {TEXT_STUB, ""}
    return "\n".join(line for line in _source(cell).splitlines()
                     if line.strip() not in given).strip()


def written_verdict(cell, template) -> tuple[str, str]:
    """``(status, message)`` of written answer ``cell`` before a person grades it:
    ``(Status.GRADED, WRITTEN_EMPTY)`` for an empty answer (0 points, as nbgrader scores an
    unchanged answer), else ``(Status.NEEDS_MANUAL, WRITTEN_MESSAGE)``."""
    if not written_text(cell, template):
        return Status.GRADED, WRITTEN_EMPTY
    return Status.NEEDS_MANUAL, WRITTEN_MESSAGE


def title(cell) -> str:
    """A test cell's first docstring line ("연습 1.1 검사 ① (2점): …")."""
    lines = _source(cell).strip().splitlines()
    return lines[0].strip().strip('"').strip() if lines else cell_label(cell)
