"""The student experience in a real browser: JupyterLab as ``./course lab`` starts it, driven by
Playwright in Debian's Chromium (``/usr/bin/chromium``; never a downloaded browser).

One test, :func:`test_student_experience_in_jupyterlab`, so that however pytest distributes the
suite (``./course test`` runs xdist workers) exactly one JupyterLab and one Chromium start, and
the browser checks never run beside each other. It serves a scratch copy of ``notebooks/``
(loopback, free port, random token, private Jupyter folders) and keeps one tab open, as a
student does. Each check is a subtest, reported on its own. For every lesson:

- the notebook with the reference answers: *Run All* without errors, every check prints
  "통과 (OK)", every ``plt.show()`` cell and every markdown picture shows an image.
- the notebook with the lesson's first known mistake that a visible check catches
  (``tests/mistakes/<lesson>.yaml``): *Validate* reports the failing check with its Korean
  message. Validate runs its own kernel, so the tab reuses the reference answers' kernel.

In the first lesson also what does not change from lesson to lesson (JupyterLab, nbgrader's
Validate, the error display) the way a student meets it:

- the first exercise's hint: collapsed, opens on a click of its summary (screenshots
  ``<lesson>-0-hint-collapsed.png`` and ``-open.png``).
- the untouched student notebook: *Run All*; at each cell that stops, the student reads the
  Korean stub message (or the course's Korean "run the cells above first" guidance) and runs on
  from the next cell. Every stop must be one of those, never a bare traceback; the first (a
  "try it" cell) says which exercise to complete first. Pictures that
  do not depend on an exercise render as images. (``test_notebooks.py`` checks every lesson's
  stops and pictures this way in a plain kernel.)
- the reference answers run a second time in the same kernel, and *Validate* reports success
  (``test_lessons_grading.py`` gives every lesson's reference answers full marks, running them
  first and again last in one kernel).
- only nbgrader's student tools are there (Validate, Assignment List).
- the first markdown cell's bold text as JupyterLab renders it: every ``**…**`` of its source
  is a ``<strong>`` element (``로지스틱 회귀``: the Korean noun bold, the English term after it)
  and no literal ``**`` is left (``test_markdown.py`` renders every cell under CommonMark's
  rules without a browser).

Also: progress bars (``tqdm.auto``) and plots render in JupyterLab, and the browser console
stays free of errors.
Screenshots go to ``build/screenshots/`` (emptied at the start, kept by CI); a failed check
leaves ``failed-<check>.png`` there.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import is_grade

from autograder import RELEASE, ROOT
from tests.conftest import LESSONS, TCP_WARNING
from tests.support.lab import LabServer

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "build" / "screenshots"
STUB = "아직 구현하지 않았습니다 (not implemented yet)"
#: The course's own Korean guidance for a cell run before the cells it needs (dlcourse.check
#: adds it to every NameError).
GUIDANCE = "먼저 실행하세요"
#: What a figure or "try it" cell that called a stub says (dlcourse.check.COMPLETE_FIRST).
COMPLETE_FIRST = "먼저 완성하세요 (complete Exercise"
OK = "통과 (OK)"
VALIDATE_OK = "Success! Your notebook passes all the tests."
#: Text that means a widget or a plot did not display in JupyterLab.
BROKEN_DISPLAY = ("Error displaying widget", "IProgress not found", "FloatProgress(value=",
                  "HBox(children=", "<Figure size")
#: Validate runs only the checks students see; hidden tests catch some mistakes only at
#: grading. The test uses the first of this many mistakes that a visible check catches.
MISTAKES_TRIED = 3
#: One Run All: lesson 06's benchmark cell trains on 100,000 synthetic students (seconds on an
#: idle core, minutes on a busy machine).
RUN_TIMEOUT_MS = 600_000
VALIDATE_TIMEOUT_MS = 300_000
KERNEL_START_S = 90
#: The lab's kernels (and Validate's) use one thread, like the grading kernels: on a small
#: machine whose other cores are busy (pytest's other workers), torch's spinning OpenMP threads
#: make lesson 06's mini-batch training several times slower.
KERNEL_ENV = {"OMP_NUM_THREADS": "1"}
#: The notebook panel the student looks at (JupyterLab keeps hidden panels in the page).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):
    """JupyterLab on a scratch copy of the student notebooks, plus per lesson a copy with the
    reference answers (``<id>-reference.ipynb``) and copies with its first known mistakes
    (``<id>-mistake<k>.ipynb``) next to it."""
    from autograder.authoring.mistakes import load_mistakes
    from autograder.grade.scratch import submission

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
    server = LabServer(notebooks, scratch / "home", env=KERNEL_ENV)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(browser, lab):
    """One browser tab on JupyterLab for the whole module, as a student keeps it open."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # no failure pictures of an earlier run
    SCREENSHOTS.mkdir(parents=True)
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


# --------------------------------------------------------------------------- the server


def _api(lab: LabServer, method: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(lab.url(path), method=method, data=data,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        reply = r.read()
    return json.loads(reply) if reply else None


def kernel_of(lab: LabServer, rel: str) -> str | None:
    """The id of the kernel the server runs for the notebook ``rel``, if any."""
    return next((s["kernel"]["id"] for s in _api(lab, "GET", "/api/sessions")
                 if s.get("path") == rel and s.get("kernel")), None)


def shutdown_kernels(lab: LabServer) -> None:
    """End every kernel (many torch kernels would not fit a small machine); the server drops
    their sessions with them."""
    for kernel in _api(lab, "GET", "/api/kernels") or []:
        _api(lab, "DELETE", f"/api/kernels/{kernel['id']}")


# --------------------------------------------------------------------------- the page


def menu(page, top: str, item: str) -> None:
    """Click ``item`` in the menu bar's ``top`` menu, as a student does."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel",
                 has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def open_notebook(page, lab: LabServer, rel: str, kernel: str | None = None) -> None:
    """File → Open from Path…, as a student would (no page reload), and wait until its kernel
    is idle. With ``kernel`` (an id), the notebook attaches to that running kernel instead of
    starting one (JupyterLab connects to the session the server already has for the path)."""
    if kernel:
        _api(lab, "POST", "/api/sessions", {"path": rel, "name": Path(rel).name,
                                             "type": "notebook", "kernel": {"id": kernel}})
    menu(page, "File", "Open from Path…")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill(rel)
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="detached")
    page.locator(f"{PANEL} .jp-Notebook .jp-Cell").first.wait_for()
    deadline = time.monotonic() + KERNEL_START_S
    while True:  # the server runs this notebook's kernel and it has finished starting
        kernels = [(s["kernel"]["id"], s["kernel"]["execution_state"])
                   for s in _api(lab, "GET", "/api/sessions")
                   if s.get("path") == rel and s.get("kernel")]
        if [state for _, state in kernels] == ["idle"]:
            break
        assert time.monotonic() < deadline, f"the kernel of {rel} did not start: {kernels}"
        page.wait_for_timeout(250)  # poll the server, not a fixed wait for something to happen
    if kernel:
        assert kernels[0][0] == kernel, f"{rel} started a kernel instead of reusing {kernel}"
    page.wait_for_selector(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']")
    wait_kernel_idle(page)


def close_all(page) -> None:
    """File → Close All Tabs, discarding unsaved changes (kernels keep running)."""
    if page.locator(".jp-Dialog").count():
        page.keyboard.press("Escape")
        page.locator(".jp-Dialog").first.wait_for(state="detached")
    menu(page, "File", "Close All Tabs")
    discard = page.locator(".jp-Dialog .jp-Dialog-button", has_text="Discard")
    for _ in range(20):
        # Either every notebook has closed, or one asks whether to save its changes.
        page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel') "
                               "|| document.querySelector('.jp-Dialog')", polling=100)
        if not page.locator(".jp-NotebookPanel").count():
            return
        discard.first.click()
        page.locator(".jp-Dialog").first.wait_for(state="detached")
    raise AssertionError("File → Close All Tabs left notebooks open")


def wait_kernel_idle(page, timeout: float = 90_000) -> None:
    """The kernel is up and idle and no cell waits to run ([*]). JupyterLab keeps every cell
    in the page (content-visibility windowing), so every prompt is seen."""
    page.wait_for_function(
        """panel => {
            const ind = document.querySelector(panel + ' .jp-Notebook-ExecutionIndicator');
            if (!ind || ind.getAttribute('data-status') !== 'idle') return false;
            return ![...document.querySelectorAll(panel + ' .jp-InputArea-prompt')]
                .some(p => p.textContent.includes('*'));
        }""",
        arg=PANEL, timeout=timeout, polling=100)


PROMPTS = f"""() => [...document.querySelectorAll('{PANEL} .jp-InputArea-prompt')]
    .map(p => p.textContent)"""


def run_and_wait(page, top: str, item: str) -> None:
    before = page.evaluate(PROMPTS)
    menu(page, top, item)
    # The cells queue at once ([*]) and take new numbers as they run: wait until something
    # changed, then until the kernel has worked through all of them.
    page.wait_for_function(f"before => JSON.stringify(({PROMPTS})()) !== JSON.stringify(before)",
                           arg=before, timeout=30_000, polling=100)
    wait_kernel_idle(page, timeout=RUN_TIMEOUT_MS)


def save(page, lab: LabServer, rel: str) -> nbformat.NotebookNode:
    """Save from the browser (File → Save Notebook) and read back what the browser saved,
    once the server has answered the save (before that the file may be half written)."""
    page.locator(f"{PANEL} .jp-Notebook").focus()
    with page.expect_request(lambda r: r.method == "PUT"
                             and r.url.split("?")[0].endswith(f"/api/contents/{rel}")) as put:
        menu(page, "File", "Save Notebook")
    saved = put.value.response()
    assert saved and saved.ok, f"saving {rel}: {saved.status if saved else put.value.failure}"
    return nbformat.read(lab.notebooks / rel, as_version=4)


def cell(page, index: int):
    return page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(index)


ACTIVE = f"""() => [...document.querySelectorAll('{PANEL} .jp-Notebook .jp-Cell')]
    .findIndex(c => c.classList.contains('jp-mod-active'))"""


def select_cell(page, index: int) -> None:
    """Click the cell's prompt (command mode), and make sure that cell is the active one: the
    notebook's layout can still move cells while the page scrolls, so click again if not."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(5):
        target = cell(page, index)
        target.evaluate("el => el.scrollIntoView({block: 'center'})")
        target.locator(".jp-InputPrompt").first.click()
        try:
            page.wait_for_function(f"i => ({ACTIVE})() === i", arg=index, timeout=2_000)
            return
        except PlaywrightTimeout:
            continue  # click again
    raise AssertionError(f"could not select cell {index} (active: {page.evaluate(ACTIVE)})")


def validate(page) -> str:
    """Press the Validate button and return the text of nbgrader's result dialog."""
    page.locator(f"{PANEL} .validate-button").click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(timeout=VALIDATE_TIMEOUT_MS)
    return dialog.locator(".jp-Dialog-body").inner_text()


def close_dialog(page) -> None:
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def broken_display(page) -> list[str]:
    body = page.locator(f"{PANEL} .jp-Notebook").inner_text()
    return [t for t in BROKEN_DISPLAY if t in body]


@contextmanager
def step(page, lab: LabServer, name: str, *, fresh: bool = True, keep_kernels: bool = False):
    """One check in the tab: console errors are collected for it alone and must stay empty.
    ``fresh`` ends the kernels left by the previous check first; afterwards its notebooks close
    and (unless ``keep_kernels``, for the next check to reuse) their kernels end. A failed
    check leaves ``failed-<name>.png`` and ends every kernel."""
    if fresh:
        shutdown_kernels(lab)
    page.console_errors.clear()
    ok = False
    try:
        yield
        assert not page.console_errors, ("browser console errors:\n"
                                         + "\n".join(page.console_errors))
        ok = True
    finally:
        if not ok:
            try:  # where the check ended, for the post-mortem
                shot(page, f"failed-{name}")
            except Exception:  # noqa: BLE001 - a screenshot never hides the check's own result
                pass
        close_all(page)
        if not ok or not keep_kernels:
            shutdown_kernels(lab)


# --------------------------------------------------------------------------- notebooks


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


def check_titles(source: str) -> list[str]:
    return re.findall(r'Check\(\s*"([^"]+)"', source)


def check_pictures(page, nb: nbformat.NotebookNode, where: str) -> list[str]:
    """Every cell that ran ``plt.show()`` without error shows its figure as an image, every
    markdown picture is rendered, and every image in the notebook has loaded."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    problems = []
    for i, c in enumerate(nb.cells):
        if (c.cell_type == "code" and "plt.show()" in c.source and c.get("execution_count")
                and not errors_of(c)):
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
    imgs = page.locator(f"{PANEL} .jp-Notebook img")
    for k in range(imgs.count()):
        img = imgs.nth(k)
        img.scroll_into_view_if_needed()
        try:
            page.wait_for_function("el => el.complete", arg=img.element_handle(), timeout=10_000)
        except PlaywrightTimeout:
            pass  # reported below
        if not img.evaluate("el => el.complete && el.naturalWidth > 0"):
            problems.append(f"{where}: image {k} ({img.get_attribute('src')[:60]}) is broken")
    return problems


# --------------------------------------------------------------------------- the checks


def check_student_tools(page) -> None:
    """The Validate button and the Assignment List are there; instructor tools are not."""
    assert page.locator(f"{PANEL} .validate-button").count() == 1
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    items = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    page.locator(".lm-Menu-content").wait_for(state="detached")
    assert "Assignment List" in items, items
    assert not [i for i in items if "Formgrader" in i or "Course List" in i], items


#: What the first lesson's first cell must show in bold (issue: a closing ``**`` after ``)`` and
#: before a Hangul particle is not right-flanking in CommonMark, and the asterisks were printed).
FIRST_BOLD = "로지스틱 회귀"


def check_first_cell_bold(page, lab: LabServer, lesson: str) -> None:
    """The lesson's first markdown cell as the student sees it: its rendered ``<strong>``
    elements are exactly the ``**…**`` spans of its source, and no ``**`` is left in its text."""
    nb = nbformat.read(lab.notebooks / lesson / f"{lesson}.ipynb", as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    rendered = cell(page, index).locator(".jp-RenderedMarkdown")
    rendered.wait_for()
    rendered.evaluate("el => el.scrollIntoView({block: 'start'})")
    shot(page, f"{lesson}-0-first-cell-bold")
    strong = rendered.locator("strong").all_inner_texts()
    assert strong == re.findall(r"\*\*(.+?)\*\*", nb.cells[index].source), strong
    assert FIRST_BOLD in strong or lesson != LESSONS[0], strong
    text = rendered.inner_text()
    assert "**" not in text, text


#: The summary line of an exercise's collapsible hint (CONTRIBUTING.md, the lesson skeleton).
HINT_SUMMARY = "힌트 (Hint)"


def check_exercise_hint(page, lab: LabServer, lesson: str) -> None:
    """The first exercise's hint as JupyterLab renders it: a ``<details>`` that shows only its
    summary, and opens to show its text when the student clicks the summary."""
    nb = nbformat.read(lab.notebooks / lesson / f"{lesson}.ipynb", as_version=4)
    index = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "markdown" and c.source.startswith("<details>"))
    details = cell(page, index).locator(".jp-RenderedMarkdown details")
    details.wait_for()
    details.evaluate("el => el.scrollIntoView({block: 'center'})")
    summary, body = details.locator("summary"), details.locator("li").first
    assert summary.inner_text().strip() == HINT_SUMMARY, summary.inner_text()
    assert not details.evaluate("el => el.open") and not body.is_visible(), "the hint is open"
    shot(page, f"{lesson}-0-hint-collapsed")
    summary.click()
    body.wait_for(state="visible")
    assert details.evaluate("el => el.open")
    shot(page, f"{lesson}-0-hint-open")
    summary.click()
    body.wait_for(state="hidden")


def check_untouched(page, lab: LabServer, lesson: str) -> None:
    """Run All on the untouched notebook; at every stop read the message and run on below."""
    rel = f"{lesson}/{lesson}.ipynb"
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
            assert COMPLETE_FIRST in visible or is_grade(nb.cells[stop]), (
                f"cell {stop} stopped at a stub and does not say which exercise to complete "
                f"first:\n{visible}")
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


def check_reference(page, lab: LabServer, lesson: str, full: bool) -> None:
    """Reference answers: Run All without errors, every check says "통과 (OK)", pictures shown;
    with ``full``, a second Run All in the same kernel and Validate succeeds."""
    rel = f"{lesson}/{lesson}-reference.ipynb"
    open_notebook(page, lab, rel)
    for attempt in ("first", "second") if full else ("first",):
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
    if not full:
        return

    result = validate(page)
    shot(page, f"{lesson}-4-reference-validate")
    assert VALIDATE_OK in result, f"Validate on the reference answers says:\n{result}"
    close_dialog(page)


def check_mistake(page, lab: LabServer, lesson: str, kernel: str | None) -> None:
    """A known wrong answer: Validate names the failing check and shows its Korean message.
    The tabs attach to ``kernel`` (Validate runs the notebook in a kernel of its own)."""
    from autograder.authoring.mistakes import load_mistakes

    mistakes = load_mistakes(lesson)[:MISTAKES_TRIED]
    assert mistakes, f"tests/mistakes/{lesson}.yaml lists no mistakes"
    release = nbformat.read(lab.notebooks / lesson / f"{lesson}.ipynb", as_version=4)
    by_id = {c.metadata.nbgrader["grade_id"]: c for c in release.cells
             if c.metadata.get("nbgrader", {}).get("grade_id")}
    accepted = []
    for k, mistake in enumerate(mistakes):
        if k:
            close_all(page)
        open_notebook(page, lab, f"{lesson}/{lesson}-mistake{k}.ipynb", kernel=kernel)
        result = validate(page)
        shot(page, f"{lesson}-5-mistake-validate")
        if VALIDATE_OK not in result:
            break
        accepted.append(mistake.name)
        close_dialog(page)
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


PROBE_CELLS = [
    "import time\nfrom tqdm.auto import tqdm\n\nfor _ in tqdm(range(30), desc='epoch'):\n"
    "    time.sleep(0.01)",
    "import matplotlib.pyplot as plt\n\nplt.plot([0, 1, 2], [2, 0, 1])\nplt.title('loss')\n"
    "plt.show()",
]


def check_display_probe(page, lab: LabServer, kernel: str | None) -> None:
    """A training loop's tqdm progress bar shows as a progress widget and a plot as an image in
    JupyterLab (not only in nbconvert output)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(src) for src in PROBE_CELLS]
    folder = lab.notebooks / "display_probe"
    folder.mkdir(exist_ok=True)
    nbformat.write(nb, folder / "display_probe.ipynb")
    open_notebook(page, lab, "display_probe/display_probe.ipynb", kernel=kernel)
    run_and_wait(page, "Run", "Run All Cells")
    bar = cell(page, 0).locator(".jp-OutputArea-output .widget-hprogress")
    bar.first.wait_for(timeout=30_000)
    assert "30/30" in cell(page, 0).locator(".jp-OutputArea").inner_text()
    img = cell(page, 1).locator(".jp-OutputArea-output img")
    img.first.wait_for()
    assert img.first.evaluate("el => el.complete && el.naturalWidth > 0")
    assert not broken_display(page), broken_display(page)
    shot(page, "display-probe")


# --------------------------------------------------------------------------- the test


@pytest.mark.slow
def test_student_experience_in_jupyterlab(lab, page, subtests):
    """Every lesson as a student meets it in JupyterLab (each check a subtest; the first
    lesson in full), then the display probe; one server, one browser, one tab."""
    kernel = None
    for lesson in LESSONS:
        first = lesson == LESSONS[0]
        if first:
            with (subtests.test("untouched notebook stops only at Korean messages", lesson=lesson),
                  step(page, lab, f"{lesson}-untouched")):
                open_notebook(page, lab, f"{lesson}/{lesson}.ipynb")
                with subtests.test("only nbgrader's student tools"):
                    check_student_tools(page)
                with subtests.test("the first cell's bold text renders bold"):
                    check_first_cell_bold(page, lab, lesson)
                with subtests.test("an exercise's hint is collapsed and opens on click"):
                    check_exercise_hint(page, lab, lesson)
                check_untouched(page, lab, lesson)
        with (subtests.test("reference answers run" + (" twice and validate" if first else ""),
                            lesson=lesson),
              step(page, lab, f"{lesson}-reference", keep_kernels=True)):
            check_reference(page, lab, lesson, full=first)
        # The reference answers' kernel, if their check passed; else the tab starts one.
        kernel = kernel_of(lab, f"{lesson}/{lesson}-reference.ipynb")
        with (subtests.test("Validate names the failing check of a mistake", lesson=lesson),
              step(page, lab, f"{lesson}-mistake", fresh=False, keep_kernels=True)):
            check_mistake(page, lab, lesson, kernel)
    kernel = next((k["id"] for k in _api(lab, "GET", "/api/kernels")), None)
    with (subtests.test("tqdm progress bars and plots display"),
          step(page, lab, "display-probe", fresh=False)):
        check_display_probe(page, lab, kernel)
    with subtests.test("kernels (the tab's and Validate's) talk to JupyterLab encrypted"):
        assert TCP_WARNING not in lab.log()
