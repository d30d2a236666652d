"""Grading throughput: plain sequential ``nbgrader autograde`` against ``./course grade``.

One run, one machine, the same synthetic class for both:

    .venv/bin/python bench/grading.py [--students 40] [--also 10] [--workers N]
    .venv/bin/python bench/grading.py --broker-workers 1 2 --db postgresql://... \
        [--students 6] [--lessons 01_neuron]

The class is reproducible (seeded): per student and lesson a mix of perfect work (40 %), a known
mistake from ``tests/mistakes/`` (25 %), the untouched release (15 %), a kernel that dies in the
last answer (10 %) and a broken or missing file (10 %). Both runs must give identical scores for
every test cell (a notebook nbgrader could not grade counts 0, as in ``nbgrader export``).
Reported: wall time, the ratio, per-notebook time against the floor (kernel start + ``import
torch`` + the notebook's own compute, i.e. executing the reference notebook, median of three
runs here) and peak memory of everything the grading started; ``--also`` repeats the parallel
run for a smaller class to show how time grows with the class size.

Broker mode (``--broker-workers``, instead of the runs above): the local pool against
``./course grade --broker`` with 1, 2, … ``./course worker`` processes (one pool process each)
on a Redis started here, all grading the same class into the one PostgreSQL gradebook ``--db``
that workers need. Timed from the first task sent to the last result settled (the workers are
started and ready before); scores must be identical to the local pool's.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import nbformat

from autograder import ROOT, SOLUTIONS, lessons
from autograder.authoring.examples import CRASH
from autograder.authoring.mistakes import load_mistakes
from autograder.grade.distributed.coordinator import grade_class_broker
from autograder.grade.distributed.local import Redis, Worker
from autograder.grade.pool import grade_class
from autograder.grade.scratch import ScratchCourse, reference_answers, release_notebook, submission
from autograder.pipeline.reference import execute, reference_records
from dlcourse import SEED

OUT = ROOT / "build" / "bench-grading"


def synthetic_work(student: int, lesson: str):
    rng = random.Random(f"{SEED}-{student}-{lesson}")
    roll = rng.random()
    if roll < 0.40:
        return submission(lesson)
    if roll < 0.65:
        mistakes = load_mistakes(lesson)
        return submission(lesson, rng.choice(mistakes).answers) if mistakes else submission(lesson)
    if roll < 0.80:
        return release_notebook(lesson)
    if roll < 0.90:
        return submission(lesson, {list(reference_answers(lesson))[-1]: CRASH})
    return rng.choice([b"{broken", b"", None])


def make_course(name: str, students: int, names: list[str],
                db_url: str | None = None) -> ScratchCourse:
    course = ScratchCourse(names, path=OUT / name, db_url=db_url)
    course.release()
    for s in range(students):
        for lesson in names:
            course.submit(f"s{s:03d}", lesson, synthetic_work(s, lesson))
    return course


class PeakMemory:
    """Peak total RSS of this process's descendants, sampled every 0.2 s from /proc."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        parent, rss = {}, {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
                parent[int(d.name)] = int(fields[1])
                rss[int(d.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, IndexError, ValueError):
                continue
        me, total = os.getpid(), 0
        for pid in rss:
            p = pid
            while p in parent and p not in (0, 1):
                p = parent[p]
                if p == me:
                    total += rss[pid]
                    break
        return total

    def _run(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._tree_rss())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def floors(names: list[str], repeat: int = 3) -> dict[str, float]:
    """Seconds to execute each reference notebook (kernel start + import torch + compute), the
    median of ``repeat`` runs: one run moves by a second from run to run on a small machine."""
    out = {}
    for lesson in names:  # as a grading kernel runs it: CPU, one thread, agg
        path = SOLUTIONS / lesson / f"{lesson}.ipynb"
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            execute(nbformat.read(path, as_version=4), path.parent)
            runs.append(time.perf_counter() - t)
        out[lesson] = statistics.median(runs)
    return out


def sequential(course: ScratchCourse, names: list[str]) -> float:
    t = time.perf_counter()
    for lesson in names:
        course.autograde(lesson)
    return time.perf_counter() - t


def all_scores(course: ScratchCourse, students: int, names: list[str]) -> dict:
    """``{(student, lesson, test cell): score}``; a notebook nbgrader could not grade (missing or
    unreadable: plain nbgrader records nothing, ``./course grade`` records zeros) counts 0, as in
    ``nbgrader export``."""
    cells = {lesson: course.max_scores(lesson) for lesson in names}
    out = {}
    for s in range(students):
        for lesson in names:
            got = course.scores(lesson, f"s{s:03d}")
            out.update({(f"s{s:03d}", lesson, cell): got.get(cell, 0.0) for cell in cells[lesson]})
    return out


def broker_mode(students: int, names: list[str], counts: list[int], db: str,
                workers: int) -> None:
    """The local pool with ``workers`` processes (before and after, as the load of a shared
    machine drifts), and the broker with each of ``counts`` workers, on the same class and
    gradebook ``db``; prints wall times, throughput and the overhead against the faster local
    run."""
    pairs = [(f"s{s:03d}", lesson) for s in range(students) for lesson in names]
    n = len(pairs)
    base = OUT / "broker"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    redis = Redis(base)
    local = make_course("broker-local", students, names, db)
    for lesson in names:  # cached and shared with the workers: computed outside timing
        reference_records(lesson, lesson)

    def local_run() -> float:
        t = time.perf_counter()
        grade_class(local.path, pairs, workers=workers, progress=False, db=db)
        return time.perf_counter() - t

    try:
        t_local = [local_run()]
        want = all_scores(local, students, names)
        runs = []
        for k in counts:
            course = make_course(f"broker-{k}", students, names, db)
            t = time.perf_counter()
            pool = [Worker(redis.url, db, base / f"worker{k}-{i}.log") for i in range(k)]
            try:
                for w in pool:
                    w.wait_ready()
                ready = time.perf_counter() - t
                t = time.perf_counter()
                grade_class_broker(course.path, pairs, redis.url, db, progress=False)
                runs.append((k, time.perf_counter() - t, ready))
            finally:
                for w in pool:
                    w.stop()
            if all_scores(course, students, names) != want:
                sys.exit(f"broker with {k} workers: scores differ from the local pool's")
        t_local.append(local_run())
    finally:
        redis.stop()
    best = min(t_local)
    print("local pool, {} processes:  {} s  ({:.2f} s/notebook at best)".format(
        workers, " and ".join(f"{t:.1f}" for t in t_local), best / n))
    for k, dt, ready in runs:
        print(f"broker, {k} worker{'s' if k > 1 else ' '}:          {dt:5.1f} s  ({dt / n:.2f} s/notebook, "
              f"{n / dt * 60:.1f} notebooks/min; workers ready in {ready:.0f} s before)  "
              f"vs local pool {dt / best - 1:+.0%}")
    print("identical scores: True (every broker run against the local pool)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--also", type=int, nargs="*", default=[10])
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--lessons", nargs="*", default=None, help="default: every lesson")
    ap.add_argument("--broker-workers", type=int, nargs="*", default=None,
                    help="broker mode with these worker counts (needs --db and redis-server)")
    ap.add_argument("--db", help="PostgreSQL gradebook URL for broker mode")
    args = ap.parse_args()
    names = args.lessons or lessons()
    if args.broker_workers:
        if not args.db:
            ap.error("--broker-workers needs --db (a PostgreSQL URL: workers share it)")
        print(f"class: {args.students} students × {len(names)} lessons = "
              f"{args.students * len(names)} notebooks, {os.cpu_count()} cores", flush=True)
        broker_mode(args.students, names, args.broker_workers, args.db, args.workers)
        return
    n = args.students * len(names)
    print(f"class: {args.students} students × {len(names)} lessons = {n} notebooks, "
          f"{os.cpu_count()} cores, {args.workers} workers")
    base = floors(names)
    print("floor per notebook (s): " + ", ".join(f"{k} {v:.2f}" for k, v in base.items()),
          flush=True)
    seq = make_course("sequential", args.students, names)
    par = make_course("parallel", args.students, names)
    for lesson in names:  # reference results are cached and shared: compute them outside timing
        seq.autograde(lesson, "s000")

    with PeakMemory() as mem_seq:
        t_seq = sequential(seq, names)
    print(f"plain sequential nbgrader autograde done: {t_seq:.1f} s", flush=True)
    with PeakMemory() as mem_par:
        t = time.perf_counter()
        results = grade_class(par.path, [(f"s{s:03d}", lesson) for s in range(args.students)
                                         for lesson in names],
                              workers=args.workers, progress=False, db=par.db_url)
        t_par = time.perf_counter() - t
    got_seq, got_par = all_scores(seq, args.students, names), all_scores(par, args.students, names)
    differ = sorted(k for k in got_seq if got_seq[k] != got_par[k])
    same = not differ
    print(f"\nplain sequential nbgrader autograde: {t_seq:7.1f} s  ({t_seq / n:.2f} s/notebook, "
          f"peak memory {mem_seq.peak / 2**20:.0f} MiB)")
    print(f"./course grade, {args.workers} workers:        {t_par:7.1f} s  "
          f"({t_par / n:.2f} s/notebook, peak memory {mem_par.peak / 2**20:.0f} MiB)")
    print(f"speed-up: {t_seq / t_par:.2f}×   identical scores: {same} "
          f"({len(got_seq)} test cells compared)")
    print("\nper-notebook grading time in the parallel run vs floor (median, s):")
    for lesson in names:
        times = [r.seconds for r in results if r.lesson == lesson]
        med = statistics.median(times)
        print(f"  {lesson:22s} {med:6.2f}  floor {base[lesson]:6.2f}  ratio {med / base[lesson]:.2f}")
    print(f"  throughput per notebook (wall × workers / notebooks): "
          f"{t_par * args.workers / n:.2f} s vs mean floor {statistics.mean(base.values()):.2f} s")
    for size in args.also:
        small = make_course(f"parallel-{size}", size, names)
        t = time.perf_counter()
        grade_class(small.path, [(f"s{s:03d}", lesson) for s in range(size) for lesson in names],
                    workers=args.workers, progress=False, db=small.db_url)
        dt = time.perf_counter() - t
        print(f"growth: {size} students {dt:.1f} s ({dt / (size * len(names)):.2f} s/notebook) "
              f"vs {args.students} students {t_par:.1f} s ({t_par / n:.2f} s/notebook)")
    if differ:
        for key in differ:
            print(f"  differs: {'/'.join(key)}: nbgrader {got_seq[key]} vs ./course grade "
                  f"{got_par[key]}")
        sys.exit(f"{len(differ)} of {len(got_seq)} cell scores differ between the two runs")


if __name__ == "__main__":
    main()
