"""Time executing every solution notebook against the floor, in one run.

floor = starting a kernel + ``import torch`` in it (measured here, median of 3), the fixed cost
every notebook pays. Target (issue 3): all lessons together take at most 3 × floor × lessons.

    .venv/bin/python bench/notebooks.py [--repeat 1] [--grading]
"""

from __future__ import annotations

import argparse
import statistics
import time

import nbformat

from autograder import SOLUTIONS, lessons
from autograder.pipeline.reference import execute


def run(nb, path, grading: bool) -> float:
    t = time.perf_counter()
    execute(nb, path, grading=grading)
    return time.perf_counter() - t


def floor(grading: bool) -> float:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch")])
    return statistics.median(run(nb, SOLUTIONS, grading) for _ in range(3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--grading", action="store_true",
                    help="as a grading kernel runs them (NBGRADER_EXECUTION=autograde, one thread)")
    args = ap.parse_args()
    base = floor(args.grading)
    total = 0.0
    print(f"floor (kernel start + import torch): {base:.2f} s")
    print(f"{'lesson':22s} {'seconds':>8s} {'× floor':>8s}")
    for lesson in lessons():
        path = SOLUTIONS / lesson / f"{lesson}.ipynb"
        secs = min(run(nbformat.read(path, as_version=4), path.parent, args.grading)
                   for _ in range(args.repeat))
        total += secs
        print(f"{lesson:22s} {secs:8.2f} {secs / base:8.2f}")
    n = len(lessons())
    print(f"{'all':22s} {total:8.2f} {total / base:8.2f}   target ≤ {3 * n:.0f} × floor "
          f"({3 * base * n:.1f} s): {'met' if total <= 3 * base * n else 'NOT met'}")


if __name__ == "__main__":
    main()
