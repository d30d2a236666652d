"""What people open is inert: the graded notebook's outputs and markdown carry no active content.

A student's code prints whatever it likes (HTML with ``<script>``, event handlers, iframes,
JavaScript outputs, widget views, SVG with script) and a student's markdown holds raw HTML. The
formgrader's submission view and the feedback page (nbconvert's HTML, which inserts HTML outputs
and the HTML of markdown as they are) and JupyterLab would run it with the instructor's or the
student's session. :class:`SanitizeOutputs` (after :class:`~autograder.pipeline.preprocessors.VerifyChecks`)
cleans every output and markdown cell of the autograded notebook with ``nh3`` (the Python binding
of the Rust ``ammonia`` sanitizer, https://nh3.readthedocs.io), keeping what teaching needs:
text, PNG/JPEG/GIF pictures, tables (pandas' DataFrame HTML as pandas writes it), headings, lists,
links and formulas. What it removed is one grading note (:data:`NOTE`), in the feedback and the
status message. The pages themselves carry a content security policy too
(:mod:`autograder.pipeline.feedback`).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from html.parser import HTMLParser

import nh3
import pandas as pd
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbgrader.preprocessors import NbGraderPreprocessor

from dlcourse.check import MIME
from dlcourse.submission import note_line, notes_cell

#: The grading note, ``{removed}`` being ``"<script> 1개, on* 이벤트 처리기(event handler) 2개"``.
NOTE = "실행되는 내용(active content) 제거: {removed}"
#: Output types shown as they are (text is escaped by every renderer, pictures are base64).
PASSIVE = {"text/plain", "image/png", "image/jpeg", "image/gif", "text/latex", MIME}
#: What each removed output type is called in the note.
OUTPUT_NAMES = {
    "application/javascript": "application/javascript 출력(output)",
    "application/vnd.jupyter.widget-view+json": "위젯(widget view) 출력(output)",
    "image/svg+xml": "스크립트가 든 SVG(image/svg+xml) 출력(output)",
}
#: pandas' own ``<style>`` of ``DataFrame._repr_html_`` (alignment only): the one ``<style>``
#: kept, compared exactly; every other ``<style>`` can restyle or cover the page it lands in.
_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S)
PANDAS_STYLE = _STYLE.search(pd.DataFrame([[0]])._repr_html_())[0]
#: Sources a picture may have: inline data only (no request to the server or anywhere else).
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp);", re.I)
_SCRIPT_URL = re.compile(r"\s*(javascript|vbscript|data):", re.I)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "src":  # a picture's source: inline data only
        return value if _IMAGE_DATA.match(value) else None
    return value


#: nh3's defaults, plus what nbconvert's markdown (heading ids and anchor links, pygments'
#: classes) and pandas' tables write; links (a click away: http, https, mailto, relative ones
#: such as the lessons' links to each other) are kept, pictures only as inline data.
CLEANER = nh3.Cleaner(
    tags=nh3.ALLOWED_TAGS | {"style"},
    clean_content_tags={"script"},
    attributes={**nh3.ALLOWED_ATTRIBUTES, "*": {"class"}, "style": {"scoped"},
                **{h: {"id"} for h in HEADINGS}},
    tag_attribute_values={"table": {"border": {"0", "1"}},
                          "tr": {"style": {"text-align: right;"}}},
    attribute_filter=_keep_attribute,
    url_schemes={"http", "https", "mailto", "data"},
)
_PANDAS_STYLE = CLEANER.clean(PANDAS_STYLE)  # as nh3 writes it


class _Markup(HTMLParser):
    """Counts what a fragment holds: ``<tag>`` per element, and per attribute ``(tag, what)``,
    ``what`` being ``on*`` for an event handler, ``javascript:`` for a script URL, else its
    name."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: Counter = Counter()
        self.urls: list[str] = []  # every href and src value
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found[f"<{tag}>"] += 1
        for name, value in attrs:
            if name in ("href", "xlink:href", "src"):
                self.urls.append(value or "")
            if name.startswith("on"):
                self.found[tag, "on* 이벤트 처리기(event handler)"] += 1
            elif _SCRIPT_URL.match(value or "") and not _IMAGE_DATA.match(value or ""):
                self.found[tag, "javascript: 주소(URL)"] += 1
            else:
                self.found[tag, f"{name} 속성(attribute)"] += 1

    handle_startendtag = handle_starttag


def clean_html(html: str) -> tuple[str, Counter[str]]:
    """``html`` (a fragment) without active content, and what was removed: ``<tag>`` per
    element, ``on*`` handlers and ``javascript:`` URLs wherever they were, other attributes of
    the elements kept (``Counter``, empty when nothing was removed)."""
    clean = _STYLE.sub(lambda m: m[0] if m[0] == _PANDAS_STYLE else "", CLEANER.clean(html))
    gone = _Markup(html).found - _Markup(clean).found
    removed: Counter[str] = Counter()
    for key, n in gone.items():
        if isinstance(key, str):
            removed[key] += n
        elif key[1].startswith(("on*", "javascript:")) or f"<{key[0]}>" not in gone:
            removed[key[1]] += n
    return clean, removed


#: What :func:`clean_markdown` counts when nbconvert cannot render a markdown text at all.
UNRENDERABLE = "렌더링할 수 없는 마크다운(unrenderable markdown, shown as text)"


def clean_markdown(source: str) -> tuple[str, Counter[str]]:
    """A markdown text unchanged when its HTML (as nbconvert renders it, which is what the pages
    show) holds nothing to remove; otherwise that HTML, cleaned, as the new source (blank lines
    dropped so that it stays one HTML block under CommonMark); a text nbconvert refuses to
    render becomes its escaped text (:data:`UNRENDERABLE`)."""
    try:
        rendered = markdown2html_mistune(source)
    except Exception:  # nbconvert refuses it (InvalidNotebook …): shown as text, never as markup
        return f"<pre>{html.escape(source)}</pre>", Counter({UNRENDERABLE: 1})
    clean, removed = clean_html(rendered)
    if not removed:
        return source, removed
    return "\n".join(line for line in clean.splitlines() if line.strip()), removed


def _inert_svg(svg: str) -> bool:
    """No script, no embedded HTML, no handler, no link but to its own parts (matplotlib's
    glyphs: ``xlink:href="#…"``) or inline pictures."""
    markup = _Markup(svg)
    return not (any(k in ("<script>", "<foreignobject>", "<iframe>", "<object>", "<embed>")
                    or k[1].startswith(("on*", "javascript:")) for k in markup.found)
                or any(not (u.startswith("#") or _IMAGE_DATA.match(u)) for u in markup.urls))


def clean_outputs(outputs: list) -> Counter[str]:
    """Clean a code cell's ``outputs`` in place: :data:`PASSIVE` types kept, HTML and markdown
    cleaned (:func:`clean_html`, :func:`clean_markdown`), SVG kept when inert, every other type
    dropped (JavaScript, widget views, …), an output of which nothing is left dropped; returns
    what was removed."""
    removed: Counter[str] = Counter()
    kept = []
    for out in outputs:
        data = out.get("data")
        if data is None:  # stream and error outputs: text, escaped by every renderer
            kept.append(out)
            continue
        for mime in list(data):
            if mime in ("text/html", "text/markdown"):
                clean, gone = (clean_html if mime == "text/html" else clean_markdown)(
                    "".join(data[mime]) if isinstance(data[mime], list) else data[mime])
                data[mime] = clean
                removed += gone
            elif mime == "image/svg+xml" and _inert_svg(
                    "".join(data[mime]) if isinstance(data[mime], list) else data[mime]):
                continue
            elif mime not in PASSIVE:
                removed[OUTPUT_NAMES.get(mime, f"{mime} 출력(output)")] += 1
                del data[mime]
        if data:
            kept.append(out)
    outputs[:] = kept
    return removed


def describe(removed: Counter[str]) -> str:
    """The note for ``removed``: :data:`NOTE`, the items in order of first appearance."""
    return NOTE.format(removed=", ".join(f"{what} {n}개" for what, n in removed.items()))


class SanitizeOutputs(NbGraderPreprocessor):
    """Clean every output (:func:`clean_outputs`) and markdown cell (:func:`clean_markdown`) of
    the graded notebook, and add :func:`describe`'s note to its grading notes (the notes cell
    at the top, and ``metadata.dlcourse.notes`` that :class:`~autograder.pipeline.preprocessors.SaveStatus`
    writes into the status message)."""

    def preprocess(self, nb, resources):
        removed: Counter[str] = Counter()
        for cell in nb.cells:
            if cell.cell_type == "code":
                removed += clean_outputs(cell.get("outputs", []))
            elif cell.cell_type == "markdown":
                cell.source, gone = clean_markdown(cell.source)
                removed += gone
        if removed:
            note = describe(removed)
            meta = nb.metadata.setdefault("dlcourse", {})
            meta.setdefault("notes", []).append(note)
            top = nb.cells[0] if nb.cells else None
            if top is not None and top.metadata.get("dlcourse", {}).get("origin") == "grader":
                top.source += "\n" + note_line(note)
            else:
                nb.cells.insert(0, notes_cell([note]))
        return nb, resources

