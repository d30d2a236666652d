"""Issue 30: the graded notebook carries no active content (``autograder.pipeline.sanitize``), keeps what
teaching needs, and says what it removed. Fast: the preprocessor on a built notebook; the real
pipeline and a real browser are in ``tests/pipeline/test_pages_inert.py``."""

from __future__ import annotations

import base64

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.pipeline.sanitize import SanitizeOutputs, clean_html, clean_markdown
from dlcourse.submission import note_line, notes_cell

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
TABLE = pd.DataFrame({"x": [1, 2], "y": [3.5, 4.5]})._repr_html_()
SVG_SCRIPT = '<svg xmlns="http://www.w3.org/2000/svg"><script>window.p=1</script></svg>'
SVG_PLOT = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            '<defs><path id="g" d="M0 0"/></defs><use xlink:href="#g"/></svg>')


def _display(data: dict) -> nbformat.NotebookNode:
    return new_output("display_data", data=data)


def hostile_notebook() -> nbformat.NotebookNode:
    """One cell per kind of active content, with the teaching content beside it."""
    return new_notebook(cells=[
        new_markdown_cell("## 답 (answer)\n\n$a < b$ 입니다 <script>window.p=1</script>\n\n"
                          "[링크](javascript:window.p=1) `<script>` 는 코드입니다"),
        new_code_cell("x", outputs=[
            _display({"text/html": '<b>굵게</b><img src="x" onerror="window.p=1">'
                                   '<iframe src="http://127.0.0.1/"></iframe>',
                      "text/plain": "굵게"}),
            _display({"application/javascript": "window.p=1", "text/plain": "<js>"}),
            _display({"application/vnd.jupyter.widget-view+json":
                      {"model_id": "m", "version_major": 2, "version_minor": 0},
                      "text/plain": "IntSlider(value=0)"}),
            _display({"image/svg+xml": SVG_SCRIPT}),
            _display({"image/svg+xml": SVG_PLOT}),
            _display({"image/png": PNG, "text/plain": "<Figure>"}),
            _display({"text/html": TABLE, "text/plain": "table"}),
            _display({"text/markdown": "*md* <object data='x'></object><embed src='y'>"}),
            new_output("stream", name="stdout", text="<script>window.p=1</script> 인쇄\n"),
        ]),
    ])


def test_every_kind_of_active_content_is_removed_with_the_exact_note():
    nb = hostile_notebook()
    nb, _ = SanitizeOutputs().preprocess(nb, {})

    note = ("실행되는 내용(active content) 제거: <script> 1개, javascript: 주소(URL) 1개, "
            "src 속성(attribute) 1개, on* 이벤트 처리기(event handler) 1개, <iframe> 1개, "
            "application/javascript 출력(output) 1개, 위젯(widget view) 출력(output) 1개, "
            "스크립트가 든 SVG(image/svg+xml) 출력(output) 1개, <object> 1개, <embed> 1개")
    assert nb.metadata.dlcourse["notes"] == [note]
    assert nb.cells[0].source == "### 채점 참고 (grading notes)\n" + note_line(note)

    answer, code = nb.cells[1], nb.cells[2]
    assert "<script" not in answer.source and "javascript:" not in answer.source
    assert "$a &lt; b$" in answer.source and "<code>&lt;script&gt;</code>" in answer.source
    html, js, widget, plot, png, table, md, stream = code.outputs  # the script SVG: gone
    assert html.data == {"text/html": "<b>굵게</b><img>", "text/plain": "굵게"}
    assert js.data == {"text/plain": "<js>"}
    assert widget.data == {"text/plain": "IntSlider(value=0)"}
    assert plot.data == {"image/svg+xml": SVG_PLOT}
    assert png.data == {"image/png": PNG, "text/plain": "<Figure>"}
    assert clean_html(TABLE)[1] == {} and "<table" in table.data["text/html"]
    assert "<style" in table.data["text/html"] and "dataframe" in table.data["text/html"]
    assert md.data == {"text/markdown": "<p><em>md</em> </p>"}
    assert stream.text == "<script>window.p=1</script> 인쇄\n"  # text: escaped where shown


def test_an_existing_notes_cell_gets_the_note():
    nb = new_notebook(cells=[notes_cell(["앞선 참고 (earlier note)"]),
                             new_markdown_cell("<img src=x onerror=alert(1)>")])
    nb.metadata["dlcourse"] = {"notes": ["앞선 참고 (earlier note)"]}
    nb, _ = SanitizeOutputs().preprocess(nb, {})
    note = ("실행되는 내용(active content) 제거: src 속성(attribute) 1개, "
            "on* 이벤트 처리기(event handler) 1개")
    assert nb.metadata.dlcourse["notes"] == ["앞선 참고 (earlier note)", note]
    assert nb.cells[0].source.splitlines()[-2:] == ["- 앞선 참고 (earlier note)", note_line(note)]
    assert len(nb.cells) == 2 and nb.cells[1].source == "<img>"


def test_honest_notebooks_are_left_as_they_are():
    """Every lesson's markdown, a pandas table and a plot: nothing removed, no note."""
    from autograder import ROOT

    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                assert clean_markdown(cell.source) == (cell.source, {}), (path.name, cell.source)
    nb = new_notebook(cells=[new_code_cell("df", outputs=[
        _display({"text/html": TABLE, "text/plain": "table"}),
        _display({"image/png": PNG})])])
    nb, _ = SanitizeOutputs().preprocess(nb, {})
    assert "notes" not in nb.metadata.get("dlcourse", {}) and len(nb.cells) == 1
