"""Peak memory of ``./course grade`` with one output-flooding notebook beside an honest one.

A copy of the course (as :mod:`tests.environment.test_fresh_machine` makes it) grades the flood of
:func:`tests.pipeline.test_bounds.flood` (``--mb`` MB printed, in one line and in many) and an honest
notebook with the course's own output bounds (``SandboxedExecute.max_output_bytes`` and
``max_outputs_bytes``); then ``nbgrader generate_feedback`` runs as ``./course grade`` does.
Reported: the largest resident set of any process of the run (``ru_maxrss`` of the children,
KiB on Linux), the flood's autograded notebook and feedback page sizes, and the wall time.

    .venv/bin/python bench/flood.py --mb 200
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tests.pipeline.test_bounds as bounds  # noqa: E402
from autograder.grade.scratch import submission  # noqa: E402
from tests.environment.test_fresh_machine import LESSON, _copy_course, _course  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200, help="MB the flooding cell prints (half "
                                                        "in one line, half in many)")
    args = ap.parse_args()
    bounds.FLOOD = bounds.FLOOD.replace(f"({bounds.FLOOD_MB} * 2**19)", f"({args.mb} * 2**19)")
    bounds.FLOOD = bounds.FLOOD.replace("range(2000)", f"range({args.mb * 50})")
    with tempfile.TemporaryDirectory() as tmp:
        dest = _copy_course(Path(tmp) / "course")
        for student, nb in [("flood", bounds.flood()), ("honest", submission(LESSON))]:
            folder = dest / "submitted" / student / LESSON
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{LESSON}.ipynb")
        t0 = time.monotonic()
        proc = _course(dest, "grade", LESSON, "--workers", "2")
        wall = time.monotonic() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        sizes = {step: (dest / step / "flood" / LESSON / f"{LESSON}.{ext}")
                 for step, ext in (("autograded", "ipynb"), ("feedback", "html"))}
        print(f"exit code {proc.returncode}, {wall:.0f} s")
        print(f"peak RSS of one process: {peak / 1024:.0f} MiB")
        for step, path in sizes.items():
            size = path.stat().st_size / 2**20 if path.exists() else float("nan")
            print(f"{step} flood notebook: {size:.1f} MiB")


if __name__ == "__main__":
    main()
