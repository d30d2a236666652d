"""What the reference solution produces in every test cell, computed in a trusted run.

The instructor notebook (``solutions/<lesson>/<lesson>.ipynb``) is executed as nbgrader would
(``NBGRADER_EXECUTION=autograde``), and each test cell's published check records are kept in
``.grading/reference/``, keyed by a hash of everything that can change them. The grader compares a
student's records with these in its own process; the sandboxed kernel never sees them.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import version
from pathlib import Path

import nbformat
from filelock import FileLock

from dlcourse.runner import run_notebook
from dlcourse.submission import SKIP_TAG, is_test_cell, payloads, rebuild

from .. import NOT_IN_STUDENT_KERNELS, ROOT, STATE


class ReferenceError(RuntimeError):
    """The instructor notebook does not produce what grading needs (a course bug)."""


def _fingerprint(*sources: Path) -> str:
    h = hashlib.sha256()
    for source in sources:
        h.update(source.read_bytes())
    for folder in ("dlcourse", "data"):
        for p in sorted((ROOT / folder).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(p.relative_to(ROOT).as_posix().encode())
                h.update(p.read_bytes())
    h.update(version("torch").encode())
    return h.hexdigest()[:20]


#: The environment of a trusted kernel that runs a notebook as a sandboxed grading kernel does
#: (autograder.sandbox.bwrap): CPU, one thread (results then agree to the last bit, and parallel
#: workers do not oversubscribe cores).
GRADING_ENV = {"NBGRADER_EXECUTION": "autograde", "DLCOURSE_DEVICE": "cpu", "MPLBACKEND": "agg",
               "OMP_NUM_THREADS": "1"}


def execute(nb: nbformat.NotebookNode, folder: Path, timeout: int = 300, grading: bool = True,
            allow_errors: bool = False) -> nbformat.NotebookNode:
    """Run ``nb`` top to bottom in a trusted kernel working in ``folder``
    (:func:`dlcourse.runner.run_notebook`, ``timeout`` seconds per cell): as a grading kernel
    (``GRADING_ENV``; cells tagged :data:`~dlcourse.submission.SKIP_TAG` are not run, as the
    grader does not run them) or, with ``grading=False``, as a student's kernel (every cell).
    ``allow_errors=False`` raises nbclient's error at the first cell that raises, times out or
    crashes."""
    return run_notebook(nb, folder, cell_timeout=timeout, allow_errors=allow_errors,
                        env=GRADING_ENV if grading else dict.fromkeys(NOT_IN_STUDENT_KERNELS),
                        skip_tag=SKIP_TAG if grading else None)


def run_reference(source: Path, timeout: int = 300,
                  template: Path | None = None) -> dict[str, list[dict]]:
    """Execute ``source`` and return ``{test cell grade_id: records}``; with ``template`` (the
    released notebook), the reference answers laid into it as Validate lays a student's
    (:func:`dlcourse.submission.rebuild`): the visible facts alone."""
    nb = nbformat.read(source, as_version=4)
    if template is not None:
        nb = rebuild(nbformat.read(template, as_version=4), nb)
    nb = execute(nb, source.parent, timeout, allow_errors=True)
    refs: dict[str, list[dict]] = {}
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        gid = cell.metadata.nbgrader["grade_id"]
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        found = payloads(cell.outputs)
        if errors or len(found) != 1 or not found[0]["records"]:
            stopped = cell.metadata.get("dlcourse", {}).get("message")  # timed out, crashed
            detail = (f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors
                      else stopped or "no payload")
            raise ReferenceError(f"{source.name} test cell {gid!r} fails on the reference: {detail}")
        refs[gid] = found[0]["records"]
    return refs


def _cached(kind: str, assignment: str, notebook: str, root: Path, template: Path | None):
    source = root / "solutions" / assignment / f"{notebook}.ipynb"
    if not source.exists():
        raise ReferenceError(f"no instructor notebook {source}")
    # The cache lives in this checkout's .grading/ (outside every sandbox), shared by scratch
    # courses: the key covers everything that can change the results.
    key = _fingerprint(source, *([template] if template else []))
    cache = STATE / kind / assignment / f"{notebook}-{key}.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache) + ".lock"):
        if cache.exists():
            return json.loads(cache.read_text(encoding="utf-8"))
        refs = run_reference(source, template=template)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(refs), encoding="utf-8")
        tmp.replace(cache)
        for old in cache.parent.glob(f"{notebook}-*.json"):
            if old != cache:
                old.unlink(missing_ok=True)
        return refs


def reference_records(assignment: str, notebook: str, root: Path = ROOT) -> dict[str, list[dict]]:
    """Cached :func:`run_reference` for ``solutions/<assignment>/<notebook>.ipynb``."""
    return _cached("reference", assignment, notebook, root, None)


def visible_labels(assignment: str, notebook: str, root: Path = ROOT) -> dict[str, list[str]]:
    """``{test cell grade_id: labels of its visible facts}``: the records the reference answers
    publish in the released notebook (``notebooks/<assignment>/<notebook>.ipynb``), which has
    no hidden tests. Cached like :func:`reference_records`."""
    release = root / "notebooks" / assignment / f"{notebook}.ipynb"
    refs = _cached("visible", assignment, notebook, root, release)
    return {gid: [r["label"] for r in records] for gid, records in refs.items()}
