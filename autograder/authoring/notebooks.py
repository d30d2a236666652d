"""Write and tidy instructor notebooks.

``python -m autograder.authoring.notebooks lesson.py solutions/01_neuron/01_neuron.ipynb`` turns a jupytext
percent script (cell metadata in the ``# %%`` line, e.g. ``nbgrader={"grade": true, ...}``) into
a tidy instructor notebook; ``python -m autograder.authoring.notebooks --tidy`` tidies every notebook under
``solutions/`` in place. Tidy means: no outputs or execution counts, cell ids derived from
``grade_id`` or position, no editor metadata (a cell keeps ``nbgrader`` and the
``skip-at-grading`` tag, :data:`dlcourse.submission.SKIP_TAG`), the course's kernelspec.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

from dlcourse.submission import SKIP_TAG

from .. import SOLUTIONS

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}


def tidy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    nb.nbformat, nb.nbformat_minor = 4, 5
    used = set()
    for i, cell in enumerate(nb.cells):
        keep = {k: v for k, v in cell.metadata.items() if k == "nbgrader"}
        if SKIP_TAG in cell.metadata.get("tags", []):
            keep["tags"] = [SKIP_TAG]
        cell.metadata = nbformat.from_dict(keep)
        gid = keep.get("nbgrader", {}).get("grade_id")
        cid = gid if gid and gid not in used else f"cell-{i:03d}"
        used.add(cid)
        cell.id = cid
        cell.source = cell.source.strip("\n")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("script", nargs="?", help="jupytext percent script")
    ap.add_argument("notebook", nargs="?", help="instructor notebook to write")
    ap.add_argument("--tidy", action="store_true", help="tidy every notebook under solutions/")
    args = ap.parse_args(argv)
    if args.tidy:
        for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
            write(tidy(nbformat.read(path, as_version=4)), path)
            print(f"tidied {path.relative_to(SOLUTIONS.parent)}")
        return 0
    if not (args.script and args.notebook):
        ap.error("give a script and a notebook, or --tidy")
    nb = jupytext.read(args.script, fmt="py:percent")
    write(tidy(nb), Path(args.notebook))
    print(f"wrote {args.notebook}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
