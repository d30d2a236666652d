"""JupyterLab's *Validate* button, answered with the grader's judgement (:mod:`dlcourse.validate`).

nbgrader's lab extension posts the notebook's path to ``/assignments/validate`` and shows the
JSON it gets back (``{"success": true, "value": {"failed": [{"source", "error"}]}}``, or an empty
``value`` for success). This Jupyter server extension answers that route instead of
``nbgrader.server_extensions.validate_assignment`` (which runs nbgrader's own validator on the
notebook as it is), so the button and ``python -m dlcourse.validate`` say the same thing, and
what they say of every visible fact is what the grade says. Enable it and disable nbgrader's:
``./course lab`` does (``dlcourse/lab.py``), and so does the Jupyter config the package
installs (``jupyter-config/``).
"""

from __future__ import annotations

import asyncio
import html
import json
from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .submission import WRITTEN_EMPTY
from .validate import Report, validate_notebook

#: What the button says above the notes of a notebook that passes every visible test (the
#: dialog has no place for notes beside success, so they come as one entry of its list).
PASSED_WITH_NOTES = ("보이는 검사(visible tests)는 모두 통과했습니다 (all visible tests passed). "
                     "채점 참고 (grading notes):")


def button_result(report: Report) -> dict:
    """The JSON nbgrader's Validate dialog shows for ``report``."""
    entries = []
    if report.problem:
        entries.append({"source": report.path, "raw_error": report.problem})
    for cell in report.failed():
        entries.append({"source": cell.title, "raw_error": cell.message})
    for problem in report.at_grading:
        entries.append({"source": "채점 때 실패 (fails at grading)", "raw_error": problem})
    extra = [f"채점 참고 (grading note): {n}" for n in report.notes]
    extra += [f"주의 (warning): {w}" for w in report.warnings]
    # A written answer is graded by hand: the dialog names only an empty one (what the student
    # can still do something about); the command line report names each.
    extra += [f"서술형 (written answer) {c.grade_id}: {c.message}" for c in report.written
              if c.message == WRITTEN_EMPTY]
    if extra:
        head = PASSED_WITH_NOTES if report.passed else "채점 참고 (grading notes)"
        entries.append({"source": head, "raw_error": "\n".join(extra)})
    for entry in entries:
        entry["error"] = html.escape(entry["raw_error"])
    return {"success": True, "value": {"failed": entries} if entries else {}}


class ValidateHandler(JupyterHandler):
    """``POST /assignments/validate`` with ``path`` (relative to the server's root)."""

    @web.authenticated
    async def post(self):
        path = self.get_argument("path", None)
        if path is None:
            path = (self.get_json_body() or {}).get("path", "")
        root = Path(self.settings["server_root_dir"]).expanduser().resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPError(403, "Access denied: path outside allowed directory")
        report = await asyncio.get_running_loop().run_in_executor(None, validate_notebook,
                                                                  target)
        self.finish(json.dumps(button_result(report)))


def _jupyter_server_extension_points():
    return [{"module": "dlcourse.validate_button"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from nbgrader.server_extensions.validate_assignment.handlers import NbGraderVersionHandler

    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [
        (url_path_join(base, "assignments", "validate"), ValidateHandler),
        (url_path_join(base, "nbgrader_version"), NbGraderVersionHandler),
    ])
