"""What a student reads of the course's markdown, rendered by CommonMark rules.

JupyterLab renders markdown with marked, GitHub with cmark-gfm and nbconvert's feedback pages
with mistune; all follow CommonMark's emphasis rules (a closing ``**`` after punctuation must be
followed by whitespace or punctuation, so ``**회귀(Regression)**와`` prints its asterisks).
:func:`markdown_problems` renders a markdown cell with markdown-it-py (CommonMark, plus GFM
tables and ``$…$`` math as JupyterLab has them); :func:`feedback_problems` reads the markdown
cells of a feedback page as nbconvert rendered them.
"""

from __future__ import annotations

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

#: Markup that must never reach the reader as text.
LITERAL = ("**", "__")
#: Inline tokens whose content is code or math, not prose.
NOT_PROSE = {"code_inline", "math_inline", "math_inline_double", "html_inline"}

_md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin)


def _text_problems(text: str, where: str, math: bool) -> list[str]:
    problems = [f"{where}: literal {mark!r} in {text.strip()[:80]!r}"
                for mark in LITERAL if mark in text]
    if math and "$" in text:
        problems.append(f"{where}: unrendered math ($) in {text.strip()[:80]!r}")
    problems += [f"{where}: a table row that is not a table: {line.strip()[:80]!r}"
                 for line in text.splitlines() if line.lstrip().startswith("|")]
    return problems


def markdown_problems(source: str, where: str) -> list[str]:
    """The reader-visible defects of one markdown cell's ``source``: a literal ``**`` or ``__``,
    a ``$`` that is not part of rendered math, or a pipe row that is not part of a table.
    Returns one message per defect, prefixed with ``where``."""
    problems = []
    for token in _md.parse(source):
        if token.type != "inline":
            continue
        prose = "".join(child.content if child.type == "text" else "\n"
                        for child in token.children or [] if child.type not in NOT_PROSE)
        problems += _text_problems(prose, where, math=True)
    return problems


def feedback_problems(page: str, where: str) -> list[str]:
    """The same defects in the markdown cells of a feedback page (nbconvert's HTML, ``page``),
    leaving out code (a page without markdown cells, e.g. of a notebook that did not parse, has
none). ``$…$`` is left alone: the page's MathJax renders it in the browser."""
    soup = BeautifulSoup(page, "html.parser")
    cells = soup.select(".text_cell_render")  # nbgrader's feedback template (classic)
    problems = []
    for k, cell in enumerate(cells):
        for code in cell.find_all(["code", "pre", "script", "style"]):
            code.decompose()
        problems += _text_problems(cell.get_text("\n"), f"{where} markdown cell {k}", math=False)
    return problems
