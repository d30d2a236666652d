"""Issue 30: nothing a student wrote or printed runs where an instructor or a student opens it.

A submission of lesson 01 with the reference answers, active content in its outputs
(``tests/submissions/markup_active.py.tmpl``) and in a markdown cell of its own, graded through
nbgrader with the course's configuration (:class:`autograder.grade.scratch.ScratchCourse`, as
``./course grade`` grades). Then, in Debian's Chromium (Playwright, ``/usr/bin/chromium``):

- nbgrader's formgrader, in the JupyterLab ``./course lab-instructor`` starts
  (:func:`autograder.grade.command.lab_instructor_command`), shows the submission;
- the feedback page (``feedback/…html``) is opened from disk, as a student opens it.

Each payload would set ``window.__pwned`` and request a ``/pwned-*`` address: neither happens
(the page's flag, Playwright's request events, the server's log), while the teaching content is
shown: the text, the table, the picture. The score is untouched and the status message names
what was removed.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from string import Template

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.grade.command import lab_instructor_command
from autograder.grade.scratch import ScratchCourse, reference_answers, submission
from autograder.pipeline.feedback import FEEDBACK_CSP, MATHJAX, REPORT_CSP, with_csp
from dlcourse.lab import free_port
from dlcourse.submission import note_line
from tests.support.integrity_helpers import SUBMISSIONS, answer_ids, require_bwrap

pytestmark = pytest.mark.browser

LESSON = "01_neuron"
STUDENT = "mallory"
MARKDOWN = ('제 풀이 설명입니다 (my notes). <img src="x" onerror="window.__pwned = \'markdown\'; '
            'fetch(\'/pwned-markdown\')"><script>window.__pwned = "md-script"</script>')
NOTE = ("실행되는 내용(active content) 제거: src 속성(attribute) 2개, "
        "on* 이벤트 처리기(event handler) 2개, <script> 3개, <iframe> 1개, "
        "javascript: 주소(URL) 1개, application/javascript 출력(output) 1개, <svg> 1개")
TEACHING = ("가르치는 글 (teaching text)", "강조 (emphasis)", "feature", "0.75")


def malicious() -> nbformat.NotebookNode:
    first = answer_ids(LESSON)[0]
    payload = Template((SUBMISSIONS / "markup_active.py.tmpl").read_text("utf-8")).substitute()
    nb = submission(LESSON, {first: reference_answers(LESSON)[first] + "\n" + payload})
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(MARKDOWN))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bwrap()
    course = ScratchCourse([LESSON], path=tmp_path_factory.mktemp("inert") / "course")
    course.release()
    course.submit(STUDENT, LESSON, malicious())
    proc = course.autograde(LESSON, STUDENT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    course.nbgrader("generate_feedback", LESSON, "--force")
    yield course
    course.cleanup()


@contextlib.contextmanager
def instructor_server(course: ScratchCourse, home: Path, command=lab_instructor_command):
    """``command`` (``./course lab-instructor``'s or ``./course formgrader``'s) on the scratch
    ``course``: loopback, free port, random token, private Jupyter folders under ``home``;
    yields ``(base url, token, log path)``."""
    env = {**os.environ, "NBGRADER_DB_URL": course.db_url, "JUPYTER_PLATFORM_DIRS": "1"}
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                "JUPYTERLAB_WORKSPACES_DIR"):
        (home / var).mkdir()
        env[var] = str(home / var)
    port, token = free_port(), secrets.token_hex(16)
    argv = [*command(course.path), "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", "--LabApp.news_url="]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    log = home / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=course.path, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.5)
        yield base, token, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def formgrader(graded, tmp_path_factory):
    """``./course lab-instructor`` on the scratch course (:func:`instructor_server`)."""
    with instructor_server(graded, tmp_path_factory.mktemp("instructor-home")) as server:
        yield server


def watch(page) -> list[str]:
    """Every URL the page requests, from Playwright's request events."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def assert_inert(page, seen: list[str]) -> None:
    assert page.evaluate("window.__pwned") is None
    assert [u for u in seen if "pwned" in u] == []
    text = page.inner_text("body")
    for piece in TEACHING:
        assert piece in text
    assert page.locator("table.dataframe td", has_text="0.75").count() == 1
    widths = page.eval_on_selector_all(
        'img[src^="data:image/png"]', "imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert 1 in widths, widths  # the 1×1 picture the student showed, loaded


def test_grading_keeps_the_score_and_names_what_was_removed(graded):
    assert graded.scores(LESSON, STUDENT) == graded.max_scores(LESSON)
    with Gradebook(graded.db_url) as gb:
        nb = gb.find_submission_notebook(LESSON, LESSON, STUDENT)
        # every test cell's points; the written answer waits for a person
        assert nb.score == sum(graded.max_scores(LESSON).values())
        assert nb.needs_manual_grade
    from autograder.pipeline import status

    row = status.load(graded.db_url)[(LESSON, STUDENT, LESSON, "")]
    assert (row["status"], row["message"]) == ("graded", NOTE)
    graded_nb = nbformat.read(graded.path / "autograded" / STUDENT / LESSON / f"{LESSON}.ipynb",
                              as_version=4)
    assert graded_nb.cells[0].source == "### 채점 참고 (grading notes)\n" + note_line(NOTE)
    assert "signature" not in graded_nb.metadata


def visit_inert(browser, url: str, ready: str, timeout_ms: int, log: Path, **context) -> list[str]:
    """Open ``url`` in a fresh browser context, wait for ``ready`` (a CSS selector) and the
    network to settle, assert nothing of the student ran (:func:`assert_inert`, and no payload
    request in the server's ``log``); the URLs the page requested."""
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    seen = watch(page)
    page.goto(url)
    page.locator(ready).wait_for(timeout=timeout_ms)
    page.wait_for_load_state("networkidle")
    assert_inert(page, seen)
    ctx.close()
    assert "pwned" not in log.read_text(errors="replace")
    return seen


def test_formgrader_runs_nothing_of_the_student(graded, formgrader, browser):
    base, token, log = formgrader
    with Gradebook(graded.db_url) as gb:
        sid = gb.find_submission_notebook(LESSON, LESSON, STUDENT).id
    seen = visit_inert(browser, f"{base}/formgrader/submissions/{sid}/?token={token}",
                       "table.dataframe", 60_000, log)
    assert any("/formgrader/" in u for u in seen)  # the formgrader's own page did load



def test_jupyterlab_opens_the_graded_notebook_untrusted(graded, formgrader, browser):
    """The formgrader's link to the notebook: JupyterLab, on the same server, shows it
    untrusted (nothing of it is signed) and runs nothing of it."""
    base, token, log = formgrader
    path = f"autograded/{STUDENT}/{LESSON}/{LESSON}.ipynb"
    with urllib.request.urlopen(f"{base}/api/contents/{path}?token={token}") as r:
        model = json.load(r)
    with_outputs = [c for c in model["content"]["cells"]
                    if c["cell_type"] == "code" and c.get("outputs")]
    assert with_outputs and all(c["metadata"]["trusted"] is False for c in with_outputs)
    visit_inert(browser, f"{base}/lab/tree/{path}?token={token}",
                ".jp-OutputArea-output table.dataframe", 120_000, log,
                viewport={"width": 1400, "height": 4000})


def test_feedback_page_runs_nothing_of_the_student(graded, browser):
    page_path = graded.path / "feedback" / STUDENT / LESSON / f"{LESSON}.html"
    html = page_path.read_text("utf-8")
    assert f'<meta http-equiv="Content-Security-Policy" content="{FEEDBACK_CSP}">' in html
    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    # No network here: MathJax is answered by a stand-in, which the policy must let run.
    page.route(f"{MATHJAX}**", lambda route: route.fulfill(
        content_type="application/javascript", body="window.__mathjax = true;"))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("networkidle")
    assert_inert(page, seen)
    assert page.evaluate("window.__mathjax") is True
    assert [u for u in seen if not u.startswith(("file:", "data:", MATHJAX))] == []
    context.close()


def test_report_shows_student_text_as_text(graded, browser, tmp_path):
    """The instructor report: a message carrying markup (as a file name the student chose can)
    is text on the page, which carries :data:`REPORT_CSP`."""
    from autograder.grade.report import write_report
    from autograder.pipeline import status

    shutil.copy(graded.path / "gradebook.db", tmp_path / "gradebook.db")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}?timeout=300"
    message = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'
    status.save(url, LESSON, STUDENT, LESSON, "crashed", message, 1.0, [])
    report = write_report(graded.path, url, tmp_path / "report.html")
    assert (f'<meta http-equiv="Content-Security-Policy" content="{REPORT_CSP}">'
            in report.read_text("utf-8"))
    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    page.goto(report.as_uri())
    assert page.evaluate("window.__pwned") is None
    assert page.locator("td", has_text=message).count() == 1
    assert [u for u in seen if not u.startswith(("file:", "data:"))] == []
    context.close()


def test_the_policies_stop_script_by_themselves(browser, tmp_path):
    """Second wall: markup that got past the sanitizer still runs no script on either page,
    and its picture's request never reaches the server it names (a listener counts)."""
    hits: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    context = browser.new_context()
    page = context.new_page()
    blocked = []
    page.on("requestfailed", lambda r: blocked.append((r.url, r.failure)))
    try:
        urllib.request.urlopen(f"{base}/listening").close()
        for name, policy in (("feedback", FEEDBACK_CSP), ("report", REPORT_CSP)):
            path = tmp_path / f"{name}.html"
            path.write_text(with_csp(
                "<!doctype html><html><head><title>t</title></head><body>본문 (body)"
                f"<script>window.__pwned = 1</script><img src='{base}/pwned-{name}'>"
                "<img src=x onerror='window.__pwned = 2'></body></html>", policy), "utf-8")
            page.goto(path.as_uri())
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__pwned") is None and "본문" in page.inner_text("body")
    finally:
        context.close()
        server.shutdown()
    assert hits == ["/listening"]
    assert [(u, f) for u, f in blocked if "pwned" in u] == [
        (f"{base}/pwned-feedback", "csp"), (f"{base}/pwned-report", "csp")]
