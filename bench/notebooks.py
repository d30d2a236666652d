"""Time executing every solution notebook against the floor, in one run.

floor = starting a kernel + ``import torch`` in it (measured here, median of 3), the fixed cost
every notebook pays. Goal (issue 26): every lesson's Run All takes at most 2 × floor; the last
line names the lessons that miss it.

    .venv/bin/python bench/notebooks.py [--repeat 1] [--grading]
"""

from __future__ import annotations

import argparse
import statistics
import time

import nbformat

from autograder import SOLUTIONS, lessons
from autograder.pipeline.reference import execute

#: Each lesson's Run All may take at most this many floors.
GOAL = 2.0


def run(nb, path, grading: bool) -> float:
    t = time.perf_counter()
    execute(nb, path, grading=grading)
    return time.perf_counter() - t


#: The floor's one cell; OPTIMIZER adds what a lesson's first torch.optim optimizer (or first
#: meta-device op) costs on top: it imports torch._dynamo, about as long as ``import torch``.
FLOOR = "import torch"
OPTIMIZER = FLOOR + "\ntorch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)"


def floor(grading: bool, source: str = FLOOR) -> float:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    return statistics.median(run(nb, SOLUTIONS, grading) for _ in range(3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--grading", action="store_true",
                    help="as a grading kernel runs them (NBGRADER_EXECUTION=autograde, one thread)")
    args = ap.parse_args()
    base = floor(args.grading)
    total, missed = 0.0, []
    print(f"floor (kernel start + import torch): {base:.2f} s")
    print(f"  + first torch.optim optimizer (imports torch._dynamo): "
          f"{floor(args.grading, OPTIMIZER):.2f} s (not the goal's floor; 05, 06 pay it)")
    print(f"{'lesson':22s} {'seconds':>8s} {'× floor':>8s}")
    for lesson in lessons():
        path = SOLUTIONS / lesson / f"{lesson}.ipynb"
        secs = min(run(nbformat.read(path, as_version=4), path.parent, args.grading)
                   for _ in range(args.repeat))
        total += secs
        if secs > GOAL * base:
            missed.append(lesson)
        print(f"{lesson:22s} {secs:8.2f} {secs / base:8.2f}")
    print(f"{'all':22s} {total:8.2f} {total / base / len(lessons()):8.2f} per lesson")
    print(f"goal: every lesson ≤ {GOAL:g} × floor ({GOAL * base:.1f} s): "
          + (f"NOT met by {', '.join(missed)}" if missed else "met"))


if __name__ == "__main__":
    main()
