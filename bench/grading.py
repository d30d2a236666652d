"""Grading throughput: plain sequential ``nbgrader autograde`` against ``./course grade``.

One run, one machine, the same synthetic class for both:

    .venv/bin/python bench/grading.py [--students 40] [--also 10 20] [--workers N]
        [--cpu-students 2] [--run-skipped]
    .venv/bin/python bench/grading.py --broker-workers 1 2 --db postgresql://... \
        [--students 6] [--lessons 01_neuron]

The class is reproducible (seeded): per student and lesson a mix of perfect work (40 %), a known
mistake from ``tests/mistakes/`` (25 %), the untouched release (15 %), a kernel that dies in the
last answer (10 %) and a broken or missing file (10 %). Both runs must give identical scores for
every test cell (a notebook nbgrader could not grade counts 0, as in ``nbgrader export``).
Reported: wall time, the ratio, per-notebook time against executing the reference notebook as
the grader does (median of three runs here), peak memory of everything the grading started,
and the goals (issue 26) as met or missed:

- **grading CPU per notebook ≤ 2× floor**: ``--cpu-students`` perfect submissions of every
  lesson graded in one pool, the CPU seconds of everything the grading started (workers,
  sandboxes, kernels: sampled from /proc) per notebook, against the mean over the lessons of
  the floor: the CPU of starting a kernel and running ``import torch`` in it (median of three)
  plus the wall seconds of the reference run's answer, test and read-only cells but the setup
  cell (one thread: about their CPU seconds);
- **identical scores** to plain sequential ``nbgrader autograde``;
- **growth**: ``--also`` grades classes of other sizes in the same pool and prints seconds per
  notebook against the main class's (1.00: time grows in proportion to the class).

``--run-skipped`` makes every submission's cells tagged ``skip-at-grading`` differ from the
release by a comment, so the grader runs them as it did before they were skipped: the
before-and-after of the skip on one machine state.

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
import resource
import shutil
import statistics
import sys
import threading
import time
from datetime import datetime
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
from dlcourse.submission import SKIP_TAG, role

OUT = ROOT / "build" / "bench-grading"


#: Of the synthetic class, the share of perfect work (the first kind of :func:`synthetic_work`).
PERFECT = 0.40
#: What ``--run-skipped`` adds to each cell tagged skip-at-grading: the grader then runs it.
RUN_IT = "\n# --run-skipped: changed, so the grader runs this cell"


def perfect(student: int, lesson: str) -> bool:
    return random.Random(f"{SEED}-{student}-{lesson}").random() < PERFECT


def synthetic_work(student: int, lesson: str):
    rng = random.Random(f"{SEED}-{student}-{lesson}")
    roll = rng.random()
    if roll < PERFECT:
        return submission(lesson)
    if roll < 0.65:
        mistakes = load_mistakes(lesson)
        return submission(lesson, rng.choice(mistakes).answers) if mistakes else submission(lesson)
    if roll < 0.80:
        return release_notebook(lesson)
    if roll < 0.90:
        return submission(lesson, {list(reference_answers(lesson))[-1]: CRASH})
    return rng.choice([b"{broken", b"", None])


def run_skipped(nb):
    """``nb`` with each cell tagged skip-at-grading in the release changed by a comment (the
    grader runs a changed copy); anything that is no notebook as it is."""
    if isinstance(nb, nbformat.NotebookNode):
        for cell in nb.cells:
            if SKIP_TAG in cell.metadata.get("tags", []):
                cell.source += RUN_IT
    return nb


def make_course(name: str, students: int, names: list[str],
                db_url: str | None = None, run_all: bool = False) -> ScratchCourse:
    course = ScratchCourse(names, path=OUT / name, db_url=db_url)
    course.release()
    for s in range(students):
        for lesson in names:
            work = synthetic_work(s, lesson)
            course.submit(f"s{s:03d}", lesson, run_skipped(work) if run_all else work)
    return course


class PeakMemory:
    """Peak total RSS of this process's descendants, and the CPU seconds they used, sampled
    every 0.2 s from /proc (``cpu``: the sum over every descendant seen of its last user and
    system time; one that lives less than 0.2 s is missed)."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._cpu: dict[tuple[int, str], float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu(self) -> float:
        return sum(self._cpu.values())

    def _tree(self) -> int:
        parent, rss, used = {}, {}, {}
        tick = os.sysconf("SC_CLK_TCK")
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
                parent[int(d.name)] = int(fields[1])
                rss[int(d.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
                used[int(d.name)] = ((int(fields[11]) + int(fields[12])) / tick, fields[19])
            except (OSError, IndexError, ValueError):
                continue
        me, total = os.getpid(), 0
        for pid in rss:
            p = pid
            while p in parent and p not in (0, 1):
                p = parent[p]
                if p == me:
                    total += rss[pid]
                    seconds, started = used[pid]
                    self._cpu[pid, started] = seconds
                    break
        return total

    def _run(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._tree())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu() -> float:
    """CPU seconds (user and system) of this process and of its children it waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cell_seconds(cell) -> float:
    """Wall seconds an executed cell ran (nbclient's timing metadata), 0 for one not run."""
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def kernel_floor(repeat: int = 3) -> float:
    """CPU seconds of starting a kernel and running ``import torch`` in it, as a grading kernel
    would (one thread), the median of ``repeat`` runs."""
    runs = []
    OUT.mkdir(parents=True, exist_ok=True)
    for _ in range(repeat):
        c = cpu()
        execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch")]), OUT)
        runs.append(cpu() - c)
    return statistics.median(runs)


def floors(names: list[str], repeat: int = 3) -> tuple[dict[str, float], dict[str, float]]:
    """``(run, graded)``: seconds to execute each reference notebook as the grader does (cells
    tagged skip-at-grading not run), the median of ``repeat`` runs (one run moves by a second
    from run to run on a small machine); and the wall seconds of its answer and test cells in
    the fastest of those runs (one thread: about their CPU seconds)."""
    run, graded = {}, {}
    for lesson in names:  # as a grading kernel runs it: CPU, one thread, agg
        path = SOLUTIONS / lesson / f"{lesson}.ipynb"
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            nb = execute(nbformat.read(path, as_version=4), path.parent)
            runs.append((time.perf_counter() - t,
                         sum(cell_seconds(c) for c in nb.cells if role(c) != "free"
                             and c.cell_type == "code" and c.metadata.nbgrader.get("grade_id")
                             != "setup")))
        run[lesson] = statistics.median(t for t, _ in runs)
        graded[lesson] = min(runs)[1]
    return run, graded


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


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
    ap.add_argument("--cpu-students", type=int, default=2,
                    help="perfect submissions per lesson of the CPU measurement")
    ap.add_argument("--run-skipped", action="store_true",
                    help="the grader runs the cells tagged skip-at-grading (a changed copy)")
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
          f"{os.cpu_count()} cores, {args.workers} workers"
          + (" (--run-skipped: cells tagged skip-at-grading run)" if args.run_skipped else ""))
    base, graded_cells = floors(names)
    kernel = kernel_floor()
    floor = {lesson: kernel + graded_cells[lesson] for lesson in names}
    print("reference run as graded (s): " + ", ".join(f"{k} {v:.2f}" for k, v in base.items()))
    print(f"floor per notebook (CPU s): kernel start + import torch {kernel:.2f}, plus the answer "
          "and test cells: " + ", ".join(f"{k} {v:.2f}" for k, v in floor.items()), flush=True)
    seq = make_course("sequential", args.students, names, run_all=args.run_skipped)
    par = make_course("parallel", args.students, names, run_all=args.run_skipped)
    for lesson in names:  # reference results are cached and shared: compute them outside timing
        seq.autograde(lesson, "s000")

    with PeakMemory() as mem_seq:
        t_seq = sequential(seq, names)
    print(f"plain sequential nbgrader autograde done: {t_seq:.1f} s", flush=True)
    pairs = [(f"s{s:03d}", lesson) for s in range(args.students) for lesson in names]
    with PeakMemory() as mem_par:
        t = time.perf_counter()
        results = grade_class(par.path, pairs, workers=args.workers, progress=False,
                              db=par.db_url)
        t_par = time.perf_counter() - t
    got_seq, got_par = all_scores(seq, args.students, names), all_scores(par, args.students, names)
    differ = sorted(k for k in got_seq if got_seq[k] != got_par[k])
    print(f"\nplain sequential nbgrader autograde: {t_seq:7.1f} s  ({t_seq / n:.2f} s/notebook, "
          f"peak memory {mem_seq.peak / 2**20:.0f} MiB)")
    print(f"./course grade, {args.workers} workers:        {t_par:7.1f} s  "
          f"({t_par / n:.2f} s/notebook, peak memory {mem_par.peak / 2**20:.0f} MiB)")
    print(f"speed-up: {t_seq / t_par:.2f}×   identical scores: {not differ} "
          f"({len(got_seq)} test cells compared)")
    print("\nper-notebook grading time in the parallel run (median of the perfect submissions, "
          "s):")
    for lesson in names:
        mine = [r.seconds for r in results if r.lesson == lesson
                and perfect(int(r.student[1:]), lesson)] or [r.seconds for r in results
                                                             if r.lesson == lesson]
        med = statistics.median(mine)
        print(f"  {lesson:22s} {med:6.2f}  reference run {base[lesson]:6.2f}  ratio "
              f"{med / base[lesson]:.2f}")
    print(f"  throughput per notebook (wall × workers / notebooks): "
          f"{t_par * args.workers / n:.2f} s vs mean reference run {statistics.mean(base.values()):.2f} s")
    # The CPU goal: a class of perfect work only (every cell that is graded runs), one pool.
    k = args.cpu_students
    whole = ScratchCourse(names, path=OUT / "perfect")
    whole.release()
    for student in range(k):
        for lesson in names:
            work = submission(lesson)
            whole.submit(f"s{student:03d}", lesson, run_skipped(work) if args.run_skipped else work)
    with PeakMemory() as used:
        grade_class(whole.path, [(f"s{s:03d}", lesson) for s in range(k) for lesson in names],
                    workers=args.workers, progress=False, db=whole.db_url)
    per_notebook = used.cpu / (k * len(names))
    mean_floor = statistics.mean(floor.values())
    ratio = per_notebook / mean_floor
    print(f"\ngrading CPU per notebook, {k} perfect submissions of each lesson in one pool: "
          f"{per_notebook:.2f} s (sandbox, kernel, worker) vs mean floor {mean_floor:.2f} s: "
          f"{ratio:.2f}×")
    growth = []
    for size in args.also:
        small = make_course(f"parallel-{size}", size, names, run_all=args.run_skipped)
        t = time.perf_counter()
        grade_class(small.path, [(f"s{s:03d}", lesson) for s in range(size) for lesson in names],
                    workers=args.workers, progress=False, db=small.db_url)
        dt = time.perf_counter() - t
        growth.append((size, dt))
    print("\ngrowth with the class (same pool, seconds per notebook against "
          f"{args.students} students):")
    for size, dt in sorted([*growth, (args.students, t_par)]):
        per = dt / (size * len(names))
        print(f"  {size:4d} students {size * len(names):5d} notebooks {dt:7.1f} s  "
              f"{per:5.2f} s/notebook  ×{per / (t_par / n):.2f}")
    print("\ngoals (issue 26):")
    print(f"  grading CPU per notebook ≤ 2× floor: {verdict(ratio <= 2)} ({ratio:.2f}×)")
    print(f"  identical scores to plain nbgrader autograde: {verdict(not differ)} "
          f"({len(got_seq) - len(differ)}/{len(got_seq)} test cells)")
    if differ:
        for key in differ:
            print(f"  differs: {'/'.join(key)}: nbgrader {got_seq[key]} vs ./course grade "
                  f"{got_par[key]}")
        sys.exit(f"{len(differ)} of {len(got_seq)} cell scores differ between the two runs")


if __name__ == "__main__":
    main()
