"""A notebook that fills its disk beside an honest one, graded by ``./course grade``: what it
costs the grader's disk and memory.

A copy of the course (as :mod:`tests.environment.test_fresh_machine` makes it) with
``c.SandboxedExecute.disk_mb = --mb`` grades the filler of :func:`tests.pipeline.test_bounds.filler`
(1 MiB blocks until refused, in the kernel's sockets folder, its working folder and ``/tmp``)
and an honest notebook. Reported: the exit code and wall time; the two students' statuses and
totals from ``grades.csv``; the most the free space of the grader's temporary folder fell
during the run (sampled every 0.05 s), MiB; the largest resident set of any process of the run
(``ru_maxrss`` of the children, KiB on Linux).

    .venv/bin/python bench/disk.py --mb 512
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.grade.scratch import submission  # noqa: E402
from tests.environment.test_fresh_machine import LESSON, _copy_course, _course  # noqa: E402
from tests.pipeline.test_bounds import filler  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=512, help="SandboxedExecute.disk_mb, MiB")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dest = _copy_course(Path(tmp) / "course")
        with open(dest / "nbgrader_config.py", "a", encoding="utf-8") as fh:
            fh.write(f"\nc.SandboxedExecute.disk_mb = {args.mb}\n")
        for student, nb in [("filler", filler()), ("honest", submission(LESSON))]:
            folder = dest / "submitted" / student / LESSON
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{LESSON}.ipynb")
        start = shutil.disk_usage(tempfile.gettempdir()).free
        lowest, stop = [start], threading.Event()

        def sample() -> None:
            while not stop.wait(0.05):
                lowest[0] = min(lowest[0], shutil.disk_usage(tempfile.gettempdir()).free)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        t0 = time.monotonic()
        proc = _course(dest, "grade", LESSON, "--workers", "2")
        wall = time.monotonic() - t0
        stop.set()
        watcher.join()
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"exit code {proc.returncode}, {wall:.0f} s")
        print(next(line for line in proc.stdout.splitlines() if line.startswith("sandbox:")))
        with open(dest / "grades.csv", encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["cell"] == "(total)":
                    print(f"{row['student']}: {row['score']}/{row['max_score']} {row['status']}: "
                          f"{row['message'][:120]}")
        print(f"grader's temporary folder: free space fell by at most "
              f"{(start - lowest[0]) / 2**20:.0f} MiB")
        print(f"peak RSS of one process: {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
