"""The student experience in a real browser: JupyterLab as ``./course lab`` starts it, driven by
Playwright in Debian's Chromium (``/usr/bin/chromium``; never a downloaded browser).

One JupyterLab (loopback, free port, random token, private Jupyter folders) serves a scratch
copy of ``notebooks/`` for the whole module. For every lesson:

- the untouched student notebook: *Run All*; at each cell that stops, the student reads the
  Korean stub message (or the course's Korean "run the cells above first" guidance) and runs on
  from the next cell. Every stop must be one of those, never a bare traceback. Pictures that
  do not depend on an exercise render as images.
- the notebook with the reference answers: *Run All* twice (a second run must not break
  anything), no errors, every check prints "통과 (OK)", every ``plt.show()`` cell shows an
  image, and *Validate* reports success.
- the notebook with the lesson's first known mistake (``tests/mistakes/<lesson>.yaml``):
  *Validate* reports the failing check with its Korean message.

Also: progress bars (``tqdm.auto``) and plots render in JupyterLab, and the browser console
stays free of errors. Screenshots go to ``build/screenshots/`` (kept by CI).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import is_grade

from autograder import RELEASE, ROOT
from autograder.lab import LabServer

try:
    from .conftest import LESSONS, need
except ImportError:  # tests/ without __init__.py
    from conftest import LESSONS, need

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = Path(os.environ.get("DLCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "build" / "screenshots"
STUB = "아직 구현하지 않았습니다 (not implemented yet)"
#: The course's own Korean guidance for a cell run before the cells it needs (dlcourse.check).
GUIDANCE = "먼저 실행하세요"
OK = "통과 (OK)"
VALIDATE_OK = "Success! Your notebook passes all the tests."
#: Text that means a widget or a plot did not display in JupyterLab.
BROKEN_DISPLAY = ("Error displaying widget", "IProgress not found", "FloatProgress(value=",
                  "HBox(children=", "<Figure size")
#: Validate runs only the checks students see; hidden tests catch some mistakes only at
#: grading. The test uses the first of this many mistakes that a visible check catches.
MISTAKES_TRIED = 3
RUN_TIMEOUT_MS = 240_000
VALIDATE_TIMEOUT_MS = 300_000


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    need(CHROMIUM.exists(),
         f"Chromium is not installed at {CHROMIUM} (apt-get install chromium): "
         "the browser test drives it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):
    """JupyterLab on a scratch copy of the student notebooks, plus per lesson a copy with the
    reference answers (``<id>-reference.ipynb``) and one with the first known mistake
    (``<id>-mistake.ipynb``) next to it."""
    from autograder.grading import submission
    from autograder.mistakes import load_mistakes

    scratch = tmp_path_factory.mktemp("browser")
    notebooks = scratch / "notebooks"
    notebooks.mkdir()
    for lesson in LESSONS:
        src = RELEASE / lesson
        assert (src / f"{lesson}.ipynb").exists(), (
            f"notebooks/{lesson}/{lesson}.ipynb is missing: run ./course release {lesson}")
        shutil.copytree(src, notebooks / lesson, ignore=shutil.ignore_patterns(
            ".ipynb_checkpoints", "__pycache__"))
        nbformat.write(submission(lesson), notebooks / lesson / f"{lesson}-reference.ipynb")
        for k, mistake in enumerate(load_mistakes(lesson)[:MISTAKES_TRIED]):
            nbformat.write(submission(lesson, mistake.answers),
                           notebooks / lesson / f"{lesson}-mistake{k}.ipynb")
    server = LabServer(notebooks, scratch / "home")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        assert not server.proc


@pytest.fixture(scope="module")
def session_page(browser, lab):
    """One browser tab on JupyterLab for the whole module, as a student keeps it open."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(f"console.{m.type}: {m.text}")
          if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(f"page error: {e}"))
    pg.goto(lab.url("/lab?reset"))
    pg.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^File$")).wait_for(timeout=90_000)
    pg.locator(".jp-DirListing-content").wait_for(timeout=90_000)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def page(session_page, lab, request):
    """The module's tab, with the notebooks of the previous test closed and their kernels shut
    down; its console errors are collected per test."""
    pg = session_page
    pg.console_errors.clear()
    try:
        yield pg
    finally:
        try:  # where the test ended, for a failure's post-mortem
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            pg.screenshot(path=str(SCREENSHOTS / f"last-{name}.png"))
        except Exception:  # noqa: BLE001 - a screenshot never hides the test's own result
            pass
        close_all(pg)
        _shutdown_kernels(lab)


@pytest.fixture(scope="module", autouse=True)
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --------------------------------------------------------------------------- helpers


def _api(lab: LabServer, method: str, path: str):
    import json
    import urllib.request

    req = urllib.request.Request(lab.url(path), method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return json.loads(body) if body else None


def _shutdown_kernels(lab: LabServer) -> None:
    """End every kernel (the tests open many torch kernels on a 2-core machine)."""
    for session in _api(lab, "GET", "/api/sessions") or []:
        _api(lab, "DELETE", f"/api/sessions/{session['id']}")


def open_notebook(page, lab: LabServer, rel: str) -> None:
    """File → Open from Path…, as a student would (no page reload)."""
    menu(page, "File", "Open from Path…")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill(rel)
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="detached")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.wait_for()
    deadline = time.monotonic() + 90
    while True:  # the server has started this notebook's kernel and it has finished starting
        states = [s["kernel"]["execution_state"] for s in _api(lab, "GET", "/api/sessions")
                  if s.get("path") == rel and s.get("kernel")]
        if states == ["idle"]:
            break
        assert time.monotonic() < deadline, f"the kernel of {rel} did not start: {states}"
        time.sleep(0.25)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) "
                           ".jp-Notebook-ExecutionIndicator[data-status='idle']")
    wait_kernel_idle(page)


def close_all(page) -> None:
    """File → Close All Tabs, discarding unsaved changes."""
    if page.locator(".jp-Dialog").count():
        page.keyboard.press("Escape")
    menu(page, "File", "Close All Tabs")
    deadline = time.monotonic() + 20
    while page.locator(".jp-NotebookPanel").count() and time.monotonic() < deadline:
        discard = page.locator(".jp-Dialog .jp-Dialog-button", has_text="Discard")
        if discard.count():
            discard.first.click()
        time.sleep(0.2)


def wait_kernel_idle(page, timeout: float = 90_000) -> None:
    """The kernel is up and idle and no cell waits to run ([*])."""
    page.wait_for_function(
        """() => {
            const ind = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) '
                                               + '.jp-Notebook-ExecutionIndicator');
            if (!ind || ind.getAttribute('data-status') !== 'idle') return false;
            return ![...document.querySelectorAll('.jp-InputArea-prompt')]
                .some(p => p.textContent.includes('*'));
        }""",
        timeout=timeout, polling=100)


def menu(page, top: str, item: str) -> None:
    """Click ``item`` in the menu bar's ``top`` menu, as a student does."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel",
                 has_text=re.compile(f"^{re.escape(item)}$")).first.click()


CELLS = """() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')].map(c => [
        c.classList.contains('jp-CodeCell'),
        (c.querySelector('.jp-InputArea-prompt') || {textContent: ''}).textContent])"""
PROMPTS = "() => [...document.querySelectorAll('.jp-InputArea-prompt')].map(p => p.textContent)"


def run_and_wait(page, top: str, item: str) -> None:
    before = page.evaluate(PROMPTS)
    menu(page, top, item)
    # The cells queue at once ([*]) and take new numbers as they run: wait until something
    # changed, then until the kernel has worked through all of them.
    page.wait_for_function(f"before => JSON.stringify(({PROMPTS})()) !== JSON.stringify(before)",
                           arg=before, timeout=30_000, polling=100)
    wait_kernel_idle(page, timeout=RUN_TIMEOUT_MS)


def save(page, lab: LabServer, rel: str) -> nbformat.NotebookNode:
    """Save from the browser (File → Save) and read back what the browser saved."""
    page.locator(".jp-NotebookPanel .jp-Notebook").first.focus()
    menu(page, "File", "Save Notebook")
    page.wait_for_function(
        "() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
        timeout=30_000)
    return nbformat.read(lab.notebooks / rel, as_version=4)


def cell(page, index: int):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)


ACTIVE = """() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')].findIndex(
        c => c.classList.contains('jp-mod-active'))"""


def select_cell(page, index: int) -> None:
    """Click the cell's prompt (command mode), and make sure that cell is the active one: the
    notebook's lazy layout can move cells while the page scrolls."""
    for _ in range(5):
        target = cell(page, index)
        target.evaluate("el => el.scrollIntoView({block: 'center'})")
        target.locator(".jp-InputPrompt").first.click()
        if page.evaluate(ACTIVE) == index:
            return
        time.sleep(0.5)
    raise AssertionError(f"could not select cell {index} (active: {page.evaluate(ACTIVE)})")


def errors_of(c) -> list:
    return [o for o in c.get("outputs", []) if o.output_type == "error"]


def text_of(c) -> str:
    parts = []
    for o in c.get("outputs", []):
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type == "error":
            parts.append(f"{o.ename}: {o.evalue}")
        elif "text/plain" in o.get("data", {}):
            parts.append(o.data["text/plain"])
    return "\n".join(parts)


def shows_picture(c) -> bool:
    """A code cell that draws a figure (``plt.show()``, or a figure helper as its result)."""
    return c.cell_type == "code" and "plt.show()" in c.source


def check_pictures(page, nb: nbformat.NotebookNode, where: str) -> list[str]:
    """Every cell that drew a figure without error shows it as a loaded image, and every image
    in the notebook (outputs and markdown explanations) has loaded."""
    problems = []
    for i, c in enumerate(nb.cells):
        if shows_picture(c) and c.get("execution_count") and not errors_of(c):
            if not any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
                       for o in c.outputs):
                problems.append(f"{where}: cell {i} ran plt.show() but saved no image output")
                continue
            imgs = cell(page, i).locator(".jp-OutputArea-output img, .jp-OutputArea-output svg")
            if imgs.count() == 0:
                problems.append(f"{where}: cell {i} drew a figure but JupyterLab shows no image")
        needs_img = c.cell_type == "markdown" and (
            "![" in c.source or "<img" in c.source or c.get("attachments"))
        if needs_img and cell(page, i).locator(".jp-MarkdownOutput img").count() == 0:
            problems.append(f"{where}: markdown cell {i} has a picture that is not rendered")
    imgs = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook img")
    for k in range(imgs.count()):
        img = imgs.nth(k)
        img.scroll_into_view_if_needed()
        try:
            page.wait_for_function("el => el.complete", arg=img.element_handle(), timeout=10_000)
        except Exception:  # noqa: BLE001 - reported below
            pass
        if not img.evaluate("el => el.complete && el.naturalWidth > 0"):
            problems.append(f"{where}: image {k} ({img.get_attribute('src')[:60]}) is broken")
    return problems


def broken_display(page) -> list[str]:
    body = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text()
    return [t for t in BROKEN_DISPLAY if t in body]


def validate(page) -> str:
    """Press the Validate button and return the text of nbgrader's result dialog."""
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(timeout=VALIDATE_TIMEOUT_MS)
    return dialog.locator(".jp-Dialog-body").inner_text()


def close_dialog(page) -> None:
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def check_titles(source: str) -> list[str]:
    return re.findall(r'Check\(\s*"([^"]+)"', source)


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def assert_clean_console(page) -> None:
    assert not page.console_errors, "browser console errors:\n" + "\n".join(page.console_errors)


# --------------------------------------------------------------------------- tests


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_student_notebook_stops_at_stubs(lesson, lab, page):
    """Run All on the untouched notebook; at every stop read the message and run on below."""
    rel = f"{lesson}/{lesson}.ipynb"
    open_notebook(page, lab, rel)
    run_and_wait(page, "Run", "Run All Cells")
    first_stop = True
    start: int | None = 0
    while True:
        # Where Run All stopped: the first cell from `start` on whose saved output is an error.
        nb = save(page, lab, rel)
        stop = next((i for i in range(start, len(nb.cells)) if errors_of(nb.cells[i])), None)
        if stop is None:
            break
        if first_stop:
            first_stop = False
            out = cell(page, stop).locator(".jp-OutputArea")
            out.evaluate("el => el.scrollIntoView({block: 'center'})")
            shot(page, f"{lesson}-1-student-first-stop")
            visible = out.inner_text()
            assert STUB in visible or GUIDANCE in visible, (
                f"cell {stop}: the student does not see the Korean stub message:\n{visible}")
        # The student reads the message and runs on from the next code cell.
        start = next((i for i in range(stop + 1, len(nb.cells))
                      if nb.cells[i].cell_type == "code"), None)
        if start is None:
            break
        select_cell(page, start)
        # JupyterLab disables "... and All Below" on the last cell.
        last = start == len(nb.cells) - 1
        run_and_wait(page, "Run", "Run Selected Cell and Do not Advance" if last
                     else "Run Selected Cell and All Below")
    nb = save(page, lab, rel)
    stops = [(i, e.ename, e.evalue) for i, c in enumerate(nb.cells) for e in errors_of(c)]

    unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                  and not c.get("execution_count") and not errors_of(c)]
    shot(page, f"{lesson}-2-student-end")
    assert stops, "the untouched notebook ran without stopping at any exercise stub"
    assert any(STUB in ev for _, _, ev in stops), f"no stop shows the stub message: {stops}"
    confusing = [f"cell {i}: {en}: {ev}" for i, en, ev in stops
                 if STUB not in ev and GUIDANCE not in ev]
    assert not confusing, (
        "cells that stop with a bare traceback instead of the Korean stub message or the course's "
        "'run the cells above first' guidance (run in order, exercises untouched):\n"
        + "\n".join(confusing))
    assert not unexecuted, f"cells Run All never reached: {unexecuted}"
    problems = check_pictures(page, nb, "untouched") + broken_display(page)
    assert not problems, "\n".join(problems)
    assert_clean_console(page)


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_reference_answers_run_and_validate(lesson, lab, page):
    """Reference answers: Run All (twice) without errors, pictures shown, Validate succeeds."""
    rel = f"{lesson}/{lesson}-reference.ipynb"
    open_notebook(page, lab, rel)
    for attempt in ("first", "second"):
        run_and_wait(page, "Run", "Run All Cells")
        nb = save(page, lab, rel)
        failed = [f"cell {i}: {e.ename}: {e.evalue}" for i, c in enumerate(nb.cells)
                  for e in errors_of(c)]
        assert not failed, f"reference answers, {attempt} Run All:\n" + "\n".join(failed)
        unexecuted = [i for i, c in enumerate(nb.cells)
                      if c.cell_type == "code" and not c.get("execution_count")]
        assert not unexecuted, f"{attempt} Run All never reached cells {unexecuted}"
        not_ok = [i for i, c in enumerate(nb.cells)
                  if is_grade(c) and c.cell_type == "code" and check_titles(c.source)
                  and OK not in text_of(c)]
        assert not not_ok, f"{attempt} Run All: check cells without '{OK}': {not_ok}"
    problems = check_pictures(page, nb, "reference") + broken_display(page)
    shot(page, f"{lesson}-3-reference-run")
    assert not problems, "\n".join(problems)

    result = validate(page)
    shot(page, f"{lesson}-4-reference-validate")
    assert VALIDATE_OK in result, f"Validate on the reference answers says:\n{result}"
    close_dialog(page)
    assert_clean_console(page)


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_validate_reports_the_failing_check(lesson, lab, page):
    """A known wrong answer: Validate names the failing check and shows its Korean message."""
    from autograder.mistakes import load_mistakes

    mistakes = load_mistakes(lesson)
    assert mistakes, f"tests/mistakes/{lesson}.yaml lists no mistakes"
    mistake = mistakes[0]
    release = nbformat.read(lab.notebooks / lesson / f"{lesson}.ipynb", as_version=4)
    by_id = {c.metadata.nbgrader["grade_id"]: c for c in release.cells
             if c.metadata.get("nbgrader", {}).get("grade_id")}
    accepted = []
    for k, mistake in enumerate(mistakes[:MISTAKES_TRIED]):
        open_notebook(page, lab, f"{lesson}/{lesson}-mistake{k}.ipynb")
        result = validate(page)
        shot(page, f"{lesson}-5-mistake-validate")
        if VALIDATE_OK not in result:
            break
        accepted.append(mistake.name)
        close_dialog(page)
        close_all(page)
    else:
        pytest.fail(f"Validate accepts each of the first mistakes {accepted} of "
                    f"tests/mistakes/{lesson}.yaml: only hidden tests catch them, so a student "
                    "gets no hint before grading")
    assert "failed" in result, result
    titles = [t for gid in mistake.fails for t in check_titles(by_id[gid].source)]
    shown = [t for t in titles if f"[{t}]" in result]
    assert shown, (f"Validate does not show the Korean message of any of the checks "
                   f"{mistake.fails} (titles {titles}) for mistake {mistake.name!r}:\n{result}")
    assert re.search(r"[\uac00-\ud7a3]", result.split(f"[{shown[0]}]", 1)[1]), result
    close_dialog(page)
    assert_clean_console(page)


PROBE_CELLS = [
    "import time\nfrom tqdm.auto import tqdm\n\nfor _ in tqdm(range(30), desc='epoch'):\n"
    "    time.sleep(0.01)",
    "import matplotlib.pyplot as plt\n\nplt.plot([0, 1, 2], [2, 0, 1])\nplt.title('loss')\n"
    "plt.show()",
]


def test_progress_bars_and_plots_display(lab, page):
    """A training loop's tqdm progress bar shows as a progress widget and a plot as an image in
    JupyterLab (not only in nbconvert output)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(src) for src in PROBE_CELLS]
    folder = lab.notebooks / "display_probe"
    folder.mkdir(exist_ok=True)
    nbformat.write(nb, folder / "display_probe.ipynb")
    open_notebook(page, lab, "display_probe/display_probe.ipynb")
    run_and_wait(page, "Run", "Run All Cells")
    bar = cell(page, 0).locator(".jp-OutputArea-output .widget-hprogress")
    bar.first.wait_for(timeout=30_000)
    assert "30/30" in cell(page, 0).locator(".jp-OutputArea").inner_text()
    img = cell(page, 1).locator(".jp-OutputArea-output img")
    img.first.wait_for()
    assert img.first.evaluate("el => el.complete && el.naturalWidth > 0")
    assert not broken_display(page), broken_display(page)
    shot(page, "display-probe")
    assert_clean_console(page)


def test_student_lab_has_nbgrader_student_tools_only(lab, page):
    """The Validate button and the Assignment List are there; instructor tools are not."""
    open_notebook(page, lab, f"{LESSONS[0]}/{LESSONS[0]}.ipynb")
    assert page.locator(".jp-NotebookPanel .validate-button").count() == 1
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    items = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    assert "Assignment List" in items, items
    assert not [i for i in items if "Formgrader" in i or "Course List" in i], items
    assert_clean_console(page)
