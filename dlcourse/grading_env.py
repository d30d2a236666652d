"""What the grading environment accepts that a student's own Python may not: its grammar and its
modules.

Students run the lessons on Python 3.11, 3.12 or 3.13 (Colab: 3.13) with whatever else they
installed; the grader runs every notebook on :data:`GRADER_PYTHON` (``./course`` builds its
``.venv`` with ``python3.11``) with the course's pins only (``requirements/base.txt`` and
``requirements/grader.txt``). Validate (:mod:`dlcourse.validate`) asks this module, per cell the
student wrote, what grading will refuse although the student's kernel ran it; the grader asks it
why a cell failed (:func:`dlcourse.submission.error_above`), so both say the same.

Standard library only (it runs on every Python a student may use, before anything else).
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from functools import cache
from pathlib import Path

#: The Python the grader runs (``./course``: ``PY=${PYTHON:-python3.11}``).
GRADER_PYTHON = (3, 11)
_GRADER = ".".join(map(str, GRADER_PYTHON))

#: The top-level modules the grading environment's packages provide, one a line: generated
#: from the pins by ``python -m autograder.authoring.grading_modules`` (tests/pipeline/test_grading_env.py keeps it
#: in agreement with them). The standard library is :data:`sys.stdlib_module_names`.
MODULES_FILE = Path(__file__).with_name("grading_modules.txt")

#: Constructs newer than :data:`GRADER_PYTHON`'s grammar: ``kind: (what, how to rewrite)``,
#: Korean with the English key phrase. Sources: PEP 701 (f-strings, 3.12), PEP 695 (type
#: parameters and ``type`` statements, 3.12), PEP 696 (type parameter defaults, 3.13).
NEWER_SYNTAX = {
    "fstring quotes": (
        "f-string의 {} 안에서 바깥과 같은 따옴표를 다시 썼습니다 (same quotes inside an f-string, "
        "PEP 701, Python 3.12+)",
        "안쪽은 다른 따옴표로 쓰세요: f\"{d['key']}\""),
    "fstring backslash": (
        "f-string의 {} 안에 역슬래시(\\)가 있습니다 (backslash in an f-string expression, "
        "PEP 701, Python 3.12+)",
        "{} 밖에서 먼저 계산하세요: sep = '\\n' 다음 f\"{sep.join(xs)}\""),
    "fstring comment": (
        "f-string의 {} 안에 주석(#)이 있습니다 (comment in an f-string expression, PEP 701, "
        "Python 3.12+)",
        "주석을 f-string 밖으로 옮기세요"),
    "fstring line break": (
        "따옴표 하나로 연 f-string의 {} 안에서 줄을 바꿨습니다 (line break in a single-quoted "
        "f-string, PEP 701, Python 3.12+)",
        "한 줄로 쓰거나 {} 밖에서 먼저 계산하세요"),
    "type statement": (
        "type 문을 썼습니다 (type statement, PEP 695, Python 3.12+)",
        "Name = ... 대입으로 쓰세요 (typing.TypeAlias)"),
    "type parameters": (
        "타입 매개변수 목록을 썼습니다 (type parameter list, PEP 695, Python 3.12+)",
        "def f[T](x: T) 대신 T = typing.TypeVar('T') 다음 def f(x: T)"),
    "type parameter default": (
        "타입 매개변수 기본값을 썼습니다 (type parameter default, PEP 696, Python 3.13+)",
        "기본값 없이 T = typing.TypeVar('T')로 쓰세요"),
}

#: ``ast.parse(..., feature_version=GRADER_PYTHON)``'s messages on Python 3.12+ → kind.
_FEATURE_MESSAGES = {
    "Type statement": "type statement",
    "Type parameter lists": "type parameters",
    "Type parameter defaults": "type parameter default",
}


def syntax_message(kind: str, line: int | None = None) -> str:
    """The sentence students read for a construct of :data:`NEWER_SYNTAX` (``line``: 1-based,
    in the cell)."""
    what, how = NEWER_SYNTAX[kind]
    where = f"{line}행: " if line else ""
    return (f"{where}채점하는 Python {_GRADER}에서는 문법 오류(SyntaxError)입니다 (syntax the "
            f"grader's Python {_GRADER} does not accept): {what}; {how}")


def _offsets(source: str) -> list[int]:
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _fstring_kinds(source: str) -> list[tuple[int, str]]:
    """On Python 3.12+ (f-strings are tokens there): ``[(line, kind)]`` of every outermost
    f-string that Python 3.11 lexed differently. Python 3.11 read an f-string as one string
    literal (it ends at the first unescaped closing quote, a one-quote literal at the end of
    the line) whose ``{}`` parts hold no backslash and no comment."""
    starts = _offsets(source)

    def at(pos):
        return starts[pos[0] - 1] + pos[1]

    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    found, depth, first = [], 0, 0
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.FSTRING_START:
            first = i if depth == 0 else first
            depth += 1
        elif tok.type == tokenize.FSTRING_END:
            depth -= 1
            if depth == 0:
                found += _outer_kinds(source, tokens[first:i + 1], at)
    return found


def _outer_kinds(source, tokens, at) -> list[tuple[int, str]]:
    head = tokens[0]
    quote = head.string.lstrip("fFrRbBuU")
    body = source[at(head.end):at(tokens[-1].end)]
    kinds = []
    i = 0
    while i < len(body):  # where Python 3.11's string literal ended
        if body[i] == "\\":
            i += 2
            continue
        if body.startswith(quote, i):
            if i + len(quote) != len(body):
                kinds.append((head.start[0] + body[:i].count("\n"), "fstring quotes"))
            break
        if body[i] == "\n" and len(quote) == 1:
            kinds.append((head.start[0] + body[:i].count("\n"), "fstring line break"))
            break
        i += 1
    depth, prev = 0, None
    for tok in tokens:
        if tok.type == tokenize.FSTRING_START:
            depth += 1
        elif tok.type == tokenize.FSTRING_END:
            depth -= 1
        if tok.type == tokenize.COMMENT:
            kinds.append((tok.start[0], "fstring comment"))
        elif depth >= 1 and not (tok.type == tokenize.FSTRING_MIDDLE and depth == 1):
            gap = (source[at(prev.end):at(tok.start)]
                   if prev is not None and tokenize.FSTRING_MIDDLE not in (prev.type, tok.type)
                   else "")
            if "\\" in tok.string or "\\" in gap:
                kinds.append((tok.start[0], "fstring backslash"))
        prev = tok
    return kinds


def newer_syntax(source: str) -> list[tuple[int, str]]:
    """``[(line, kind)]`` (kinds of :data:`NEWER_SYNTAX`, in order, each once) of what
    ``source`` (plain Python: IPython's magics already transformed) uses that this Python
    accepts and :data:`GRADER_PYTHON` does not. Empty on the grader's own Python, and for source
    this Python refuses too (the kernel's own ``SyntaxError`` says that)."""
    if sys.version_info[:2] <= GRADER_PYTHON:
        return []
    try:
        compile(source, "<cell>", "exec", flags=ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        return []
    found = _fstring_kinds(source)
    try:
        ast.parse(source, feature_version=GRADER_PYTHON)
    except SyntaxError as err:
        kind = next((k for m, k in _FEATURE_MESSAGES.items() if err.msg.startswith(m)), None)
        if kind:
            found.append((err.lineno or 0, kind))
    seen, out = set(), []
    for line, kind in sorted(found):
        if kind not in seen:
            seen.add(kind)
            out.append((line, kind))
    return out


_TYPE_STATEMENT = re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*[\[=]")
_TYPE_PARAMETERS = re.compile(r"^\s*(?:async\s+def|def|class)\s+[A-Za-z_]\w*\s*\[([^\]]*)")


def syntax_hint(source: str) -> str | None:
    """On :data:`GRADER_PYTHON` (the grader, a student on it): the sentence of
    :func:`syntax_message` for the newer construct that makes ``source`` (plain Python) a
    ``SyntaxError`` here; ``None`` when it compiles, for a plain syntax error, and on other
    Pythons (:func:`newer_syntax` answers there)."""
    if sys.version_info[:2] != GRADER_PYTHON:
        return None
    try:
        compile(source, "<cell>", "exec", flags=ast.PyCF_ONLY_AST)
    except SyntaxError as err:
        kind = grader_syntax_error(source, err)
        return syntax_message(kind, err.lineno) if kind else None
    except ValueError:
        return None
    return None


def grader_syntax_error(source: str, err: SyntaxError) -> str | None:
    """On :data:`GRADER_PYTHON`: the construct of :data:`NEWER_SYNTAX` that most likely made
    ``source`` raise ``err`` (newer Python accepts it), or ``None`` for a plain syntax error.
    Python 3.11 cannot parse the newer grammar, so this reads its own messages (``f-string: …``)
    and the failing line (``type X = …``, ``def f[T](…)``)."""
    msg = err.msg or ""
    lines = source.splitlines()
    text = lines[err.lineno - 1] if err.lineno and 0 < err.lineno <= len(lines) else ""
    if "f-string expression part cannot include a backslash" in msg:
        return "fstring backslash"
    if "f-string expression part cannot include '#'" in msg:
        return "fstring comment"
    if msg.startswith("f-string"):
        return "fstring quotes"
    if msg.startswith("unterminated string literal") and re.search(r"(?i)\b[rb]?f[rb]?['\"]", text):
        return "fstring line break"
    if _TYPE_STATEMENT.match(text):
        return "type statement"
    if m := _TYPE_PARAMETERS.match(text):
        return "type parameter default" if "=" in m.group(1) else "type parameters"
    return None


# --------------------------------------------------------------------------- modules


@cache
def grading_modules() -> frozenset[str]:
    """Top-level modules importable at grading: the standard library and :data:`MODULES_FILE`."""
    listed = MODULES_FILE.read_text(encoding="utf-8").split()
    return frozenset(sys.stdlib_module_names) | frozenset(listed)


def _literal(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def imported_modules(source: str) -> list[tuple[int, str]]:
    """``[(line, top-level module)]`` that ``source`` imports: ``import a.b``, ``from a import
    b`` (not relative imports), ``__import__("a")`` and ``importlib.import_module("a")`` with a
    literal name. Empty for source this Python cannot parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = (func.id if isinstance(func, ast.Name)
                      else func.attr if isinstance(func, ast.Attribute) else None)
            if called in ("__import__", "import_module"):
                names = [n for n in [_literal(node.args[0])] if n and not n.startswith(".")]
        found += [(node.lineno, n.split(".")[0]) for n in names]
    return sorted(set(found))


def module_message(module: str) -> str:
    """The sentence students read for a module the grading environment does not provide."""
    return (f"{module!r} 모듈은 채점 환경에 없습니다 (module not in the grading environment): "
            f"채점은 강좌의 패키지(requirements/base.txt)만으로 하고 노트북 옆의 파일도 받지 "
            f"않습니다; 이 모듈 없이 답안 셀 안에서 직접 쓰세요")


def missing_modules(source: str) -> list[tuple[int, str]]:
    """``[(line, module)]`` that ``source`` imports and the grading environment does not
    provide (:func:`grading_modules`), each module once."""
    known, seen, out = grading_modules(), set(), []
    for line, name in imported_modules(source):
        if name not in known and name not in seen:
            seen.add(name)
            out.append((line, name))
    return out
