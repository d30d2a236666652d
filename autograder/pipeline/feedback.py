"""The feedback page's exporter: nbgrader's feedback HTML with a content security policy.

The graded notebook is already inert (:mod:`autograder.pipeline.sanitize`); the policy is the second
wall, in the page itself (a ``<meta http-equiv>`` first in ``<head>``, so it holds wherever
the file is opened: the student's browser from disk, an LMS, a web server): no script runs but
MathJax from the address nbconvert's template loads it from (``templates/base/mathjax.html.j2``:
cdnjs, MathJax 2.7 ``latest.js``, which loads the newest 2.7 and its parts from the same
folder, and evaluates the page's ``text/x-mathjax-config`` block, hence ``'unsafe-eval'``), no
request leaves the page but MathJax's own files, pictures are inline data only, no form posts.
The instructor report has the same policy without scripts (:data:`REPORT_CSP`).
"""

from __future__ import annotations

import re

from nbconvert.exporters import HTMLExporter

#: Where nbconvert's template loads MathJax from (``base/mathjax.html.j2``).
MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/"
FEEDBACK_CSP = (f"default-src 'none'; script-src {MATHJAX} 'unsafe-eval'; "
                f"style-src 'unsafe-inline' {MATHJAX}; font-src {MATHJAX}; img-src data:; "
                "base-uri 'none'; form-action 'none'")
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_HEAD = re.compile(r"<head\b[^>]*>", re.I)


def with_csp(html: str, policy: str) -> str:
    """``html`` (a whole page) with ``policy`` as a ``<meta http-equiv>`` right after
    ``<head>``; ``ValueError`` when the page has no ``<head>`` (the policy would not apply)."""
    head = _HEAD.search(html)
    if head is None:
        raise ValueError("page without <head>: no place for the content security policy")
    meta = f'\n<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return html[:head.end()] + meta + html[head.end():]


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter (nbgrader's ``feedback`` template, set by GenerateFeedback),
    its page carrying :data:`FEEDBACK_CSP`."""

    def from_notebook_node(self, nb, resources=None, **kw):
        html, resources = super().from_notebook_node(nb, resources, **kw)
        return with_csp(html, FEEDBACK_CSP), resources
