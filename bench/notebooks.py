"""Time executing every solution notebook against the floor, in one run.

floor = starting a kernel + ``import torch`` in it (measured here, median of 3), the fixed cost
every notebook pays. A lesson's own floor adds what PyTorch itself imports on first use and no
lesson code can avoid: a lesson that makes a ``torch.optim`` optimizer (05–07) pays for
``torch._dynamo`` (``Optimizer.add_param_group`` is ``torch._disable_dynamo``-wrapped, which
imports it on the first call; about as long as ``import torch``), and the run checks whether
the lesson's kernel really imported it. Goal (issue 26): every lesson's Run All takes at most
2 × its floor; both ratios are printed, and the last line names the lessons that miss it.
``--record`` also times ``python -m dlcourse.validate`` on the student notebook with the
reference answers typed in (what a student waits for on pressing Validate once done) and
writes both times, with the hash of the code they ran, into ``instructor/measured/run_all.json``:
the times of the instructor's guide (``./course guide``).

    .venv/bin/python bench/notebooks.py [--repeat 1] [--grading] [--record] [LESSON ...]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import SOLUTIONS, lessons
from autograder.authoring.guide import MEASURED, code_hash, read_measured
from autograder.grade.scratch import submission
from autograder.pipeline.reference import execute

#: Each lesson's Run All may take at most this many floors.
GOAL = 2.0


def run(nb, path, grading: bool) -> float:
    t = time.perf_counter()
    execute(nb, path, grading=grading)
    return time.perf_counter() - t


#: Appended to a timed lesson: did PyTorch import torch._dynamo while it ran?
DYNAMO_PROBE = "import sys\nprint('torch._dynamo' in sys.modules, end='')"


def run_lesson(nb, path, grading: bool) -> tuple[float, bool]:
    """(seconds of ``nb``'s Run All, whether its kernel imported ``torch._dynamo``): a last
    cell (a print, well under a millisecond) asks the kernel."""
    nb.cells.append(nbformat.v4.new_code_cell(DYNAMO_PROBE))
    seconds = run(nb, path, grading)
    return seconds, nb.cells.pop().outputs[0].text == "True"


def validate(lesson: str) -> float:
    """Seconds of ``python -m dlcourse.validate`` on the student notebook with the reference
    answers typed in; raises when Validate does not pass it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / lesson / f"{lesson}.ipynb"
        path.parent.mkdir()
        nbformat.write(submission(lesson), path)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dlcourse.validate", str(path)], check=True,
                       capture_output=True)
        return time.perf_counter() - t


#: The floor's one cell; OPTIMIZER adds what a lesson's first torch.optim optimizer costs on top:
#: it imports torch._dynamo, about as long as ``import torch``.
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
    ap.add_argument("--record", action="store_true",
                    help=f"write the times into {MEASURED.relative_to(SOLUTIONS.parent)}")
    ap.add_argument("lessons", nargs="*", help="default: every lesson")
    args = ap.parse_args()
    chosen = args.lessons or lessons()
    base = floor(args.grading)
    with_dynamo = floor(args.grading, OPTIMIZER)
    total, missed = 0.0, []
    print(f"floor (kernel start + import torch): {base:.2f} s")
    print(f"  + first torch.optim optimizer (imports torch._dynamo): {with_dynamo:.2f} s, the "
          "floor of a lesson whose kernel imported torch._dynamo")
    print(f"{'lesson':22s} {'seconds':>8s} {'× floor':>8s} {'its floor':>10s} {'× its':>6s}")
    measured = read_measured()
    machine = (f"{platform.machine()} Linux, {os.cpu_count()} cores, "
               f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    for lesson in chosen:
        path = SOLUTIONS / lesson / f"{lesson}.ipynb"
        nb = nbformat.read(path, as_version=4)
        secs, dynamo = min(run_lesson(nb, path.parent, args.grading) for _ in range(args.repeat))
        own = with_dynamo if dynamo else base
        if args.record:
            measured[lesson] = dict(seconds=round(secs, 2), floor=round(base, 2),
                                    validate=round(validate(lesson), 2), code=code_hash(nb),
                                    repeat=args.repeat, grading=args.grading, machine=machine,
                                    load=round(os.getloadavg()[0], 1))
        total += secs
        if secs > GOAL * own:
            missed.append(lesson)
        print(f"{lesson:22s} {secs:8.2f} {secs / base:8.2f} {own:9.2f}{'*' if dynamo else ' '}"
              f" {secs / own:6.2f}")
    print(f"{'all':22s} {total:8.2f} {total / base / len(chosen):8.2f} per lesson")
    print("* its kernel imported torch._dynamo (a torch.optim optimizer)")
    print(f"goal: every lesson ≤ {GOAL:g} × its floor: "
          + (f"NOT met by {', '.join(missed)}" if missed else "met"))
    if args.record:
        MEASURED.parent.mkdir(parents=True, exist_ok=True)
        MEASURED.write_text(json.dumps(dict(sorted(measured.items())), indent=1,
                                       ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"recorded {', '.join(chosen)} in {MEASURED.relative_to(SOLUTIONS.parent)}")


if __name__ == "__main__":
    main()
