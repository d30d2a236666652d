"""Hidden test code never reaches what a student gets back (feedback, messages, CSV, LMS).

The grading kernel executes the hidden tests, so code in it can read them (the running cell's
source through its frame, earlier cells' through the input history and ``linecache``, their
constants through code objects). Nothing in the kernel can be kept from it; what the kernel
*produces* is what the grader filters (:class:`autograder.pipeline.preprocessors.VerifyChecks`):

- before the first cell with hidden tests (:func:`first_hidden`) the kernel has seen none: an
  output is concealed only when it shows a hidden line as it is;
- from that cell on, printed text, pictures, HTML and results of every code cell are dropped
  (:data:`AFTER_HIDDEN` stands for them, :func:`after_hidden`); what is kept is what the grader
  needs and can check: the check payloads (numbers it judges) and the error each cell raised,
  shown only when :func:`reveals` finds no hidden line in it in any encoding it knows (plain,
  HTML or URL escapes, reversed, ROT13, base64, base32, base85, hex, ``\\x``/``\\u`` escapes,
  byte values as integers, each of these also zlib, gzip, bz2 or LZMA compressed, nested).
"""

from __future__ import annotations

import base64
import bz2
import codecs
import contextlib
import html
import json
import lzma
import re
import urllib.parse
import zlib

import nbformat
from nbformat.notebooknode import NotebookNode

from dlcourse.check import MIME
from dlcourse.submission import ANSI, cut_error_value, is_test_cell, role

HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS[^\n]*\n(.*?)### END HIDDEN TESTS", re.S)
CONCEALED = "[숨은 검사 코드가 들어 있어 가렸습니다 (output concealed: it shows hidden test code)]"
#: What stands for the outputs of a cell run once hidden test code had reached the kernel.
AFTER_HIDDEN = ("[숨은 검사가 실행된 뒤의 출력은 싣지 않습니다 (output not shown: it ran after hidden "
                "tests)]")


def hidden_code(nb: NotebookNode) -> list[str]:
    """Lines of the hidden tests that no instructor-written visible part contains (at least 8
    characters, stripped); they must never come back in an output or a message."""
    hidden, visible = set(), set()
    for cell in nb.cells:
        if role(cell) != "locked":
            continue  # the student's own text cannot make a hidden line "visible"
        src = cell.get("source", "")
        for block in HIDDEN_BLOCK.findall(src):
            hidden.update(line.strip() for line in block.splitlines())
        visible.update(line.strip() for line in HIDDEN_BLOCK.sub("", src).splitlines())
    return sorted(line for line in hidden - visible if len(line) >= 8)


def first_hidden(nb: NotebookNode) -> int:
    """Index of the first instructor cell with hidden tests, ``len(nb.cells)`` when none."""
    return next((i for i, cell in enumerate(nb.cells)
                 if role(cell) == "locked" and HIDDEN_BLOCK.search(cell.get("source", ""))),
                len(nb.cells))


_RUNS = {  # an encoded run of text → its bytes
    "base64": (re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}"),
               lambda s: base64.b64decode(s.replace("-", "+").replace("_", "/")
                                          + "=" * (-len(s) % 4))),
    "base32": (re.compile(r"[A-Z2-7]{16,}=*"), lambda s: base64.b32decode(s + "=" * (-len(s) % 8))),
    "base85": (re.compile(r"[!-~]{20,}"), base64.b85decode),
    "hex": (re.compile(r"(?:[0-9a-fA-F]{2}[\s:,]?){8,}"),
            lambda s: bytes.fromhex(re.sub(r"[\s:,]", "", s))),
    "integers": (re.compile(r"\b\d{1,3}(?:[^\d\w]{1,4}\d{1,3}\b){7,}"),
                 lambda s: bytes(int(n) for n in re.findall(r"\d+", s))),
}
#: Decompressors that return what a truncated stream holds (an error message is cut at 600
#: characters): zlib, gzip, bz2, xz/LZMA.
_UNPACK = (lambda b: zlib.decompressobj().decompress(b),
           lambda b: zlib.decompressobj(47).decompress(b),
           lambda b: bz2.BZ2Decompressor().decompress(b),
           lambda b: lzma.LZMADecompressor().decompress(b))


def _decoded(text: str) -> list[str]:
    """``text`` read every way :func:`reveals` knows, one level deep."""
    out = [html.unescape(text), urllib.parse.unquote(text), text[::-1],
           codecs.decode(text, "rot13")]
    with contextlib.suppress(Exception):  # not an escaped text
        out.append(codecs.decode(text.encode("latin-1", "ignore"), "unicode_escape"))
    for pattern, decode in _RUNS.values():
        for run in pattern.findall(text):
            with contextlib.suppress(Exception):  # a run that only looks encoded
                raw = decode(run)
                out.append(raw.decode("utf-8", "replace"))
                for unpack in _UNPACK:
                    with contextlib.suppress(Exception):  # not compressed this way
                        out.append(unpack(raw).decode("utf-8", "replace"))
    return out


#: What :func:`reveals` also ignores: everything but letters, digits and ``_``.
WORD_GAPS = re.compile(r"[\W_]+")
#: Characters :func:`reveals` reads at most for one text, all its decodings together; a text
#: that needs more is treated as revealing (concealed, never shown unread).
READ_LIMIT = 16 * 2**20


def reveals(text: str, lines: list[str], depth: int = 3) -> bool:
    """Whether ``text`` shows one of the hidden ``lines`` (whitespace ignored) as it is or in
    an encoding of :func:`_decoded`, nested up to ``depth`` levels (base64 of zlib of hex …)."""
    if not lines or not text:
        return False
    wanted = ["".join(line.split()) for line in lines]
    # the same lines with every character but letters and digits taken out: a hidden line
    # spread out with separators ("g|=|t|o|r|c|h…") is found too
    words = [w for w in (WORD_GAPS.sub("", line) for line in lines) if len(w) >= 12]
    seen, level, budget = set(), [ANSI.sub("", text)], READ_LIMIT
    for step in range(depth + 1):
        for t in level:
            squeezed = "".join(t.split())
            if any(w in squeezed for w in wanted):
                return True
            letters = WORD_GAPS.sub("", t)
            if any(w in letters for w in words):
                return True
        if step == depth:
            break
        seen.update(level)
        level = [d for t in level for d in _decoded(t) if d and d not in seen]
        level = list(dict.fromkeys(level))
        budget -= sum(len(t) for t in level)
        if budget < 0:
            return True
    return False


def output_text(out) -> str:
    """All the text of one output (stream text, error name, value and traceback, every data
    value), colour codes removed."""
    parts = [out.get("text", ""), out.get("ename", ""), out.get("evalue", "")]
    parts += list(out.get("traceback", []) or [])
    for value in (out.get("data") or {}).values():
        parts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return ANSI.sub("", "\n".join(p if isinstance(p, str) else "".join(p) for p in parts))


def conceal(text: str, lines: list[str]) -> str:
    """:data:`CONCEALED` when ``text`` :func:`reveals` a hidden line, else ``text``."""
    return CONCEALED if reveals(text, lines) else text


def after_hidden(cell, lines: list[str], grader_texts: frozenset[str] = frozenset()) -> None:
    """Keep, of a code cell run after hidden test code reached the kernel, its check payloads,
    its errors (name and value, the value cut by :func:`dlcourse.submission.cut_error_value`,
    no traceback but that one line; replaced by :data:`CONCEALED` when it :func:`reveals` a
    hidden line) and
    the grader's own stream notes (``grader_texts``, e.g. the truncation note); everything else
    becomes one :data:`AFTER_HIDDEN` note."""
    kept, dropped = [], False
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            # Name and value only, the value cut (cut_error_value): a test cell's traceback names
            # the instructor's calling line, hidden or not, and any traceback is text the
            # kernel wrote (frames, linecache) in whatever form it chose.
            err = {"ename": str(out.get("ename", "")), "evalue": str(out.get("evalue", ""))}
            if reveals(output_text(err), lines):
                err = {"ename": "Exception", "evalue": CONCEALED}
            else:
                err["evalue"] = cut_error_value(err["evalue"])
            kept.append(nbformat.v4.new_output("error", **err, traceback=(
                [] if is_test_cell(cell) else [f"{err['ename']}: {err['evalue']}"])))
        elif kind in ("display_data", "execute_result") and MIME in out.get("data", {}):
            kept.append(nbformat.v4.new_output("display_data", data={MIME: out["data"][MIME]}))
        elif kind == "stream" and out.get("text") in grader_texts:
            kept.append(out)
        elif not dropped:
            dropped = True
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=AFTER_HIDDEN + "\n"))
    cell.outputs = kept
