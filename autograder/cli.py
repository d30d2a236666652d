"""``./course`` subcommands (``./course --help``)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from . import ROOT, lessons, release_lessons


def _lessons(names: list[str]) -> list[str]:
    known = lessons()
    for n in names:
        if n not in known:
            raise SystemExit(f"unknown lesson {n!r}; lessons: {', '.join(known)}")
    return names or known


def release(names: list[str]) -> None:
    for lesson in release_lessons(_lessons(names)):
        print(f"released notebooks/{lesson}/{lesson}.ipynb")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="./course", description="Deep-learning basics course tools")
    sub = ap.add_subparsers(dest="cmd")
    no_sandbox = dict(action="store_true", help="grade WITHOUT the sandbox (trusted notebooks "
                      "only, where no sandbox works): a warning, and every score's status says so")
    ap.add_argument("--no-sandbox", **no_sandbox)
    no_sandbox["default"] = argparse.SUPPRESS  # given before or after the command, it counts
    p = sub.add_parser("run", help="the main job (also: ./course with no command)")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--no-sandbox", **no_sandbox)
    p = sub.add_parser("release", help="regenerate the student notebooks from solutions/")
    p.add_argument("lessons", nargs="*")
    p = sub.add_parser("check", help="grade the reference, the release and every known mistake")
    p.add_argument("lessons", nargs="*")
    p = sub.add_parser("hints", help="write dlcourse/hints/ (the hints of the known mistakes "
                                     "that fail a visible check)")
    p.add_argument("lessons", nargs="*")
    p = sub.add_parser("guide", help="write instructor/guide/ (the instructor's guide) from the "
                                     "lessons, tests/mistakes/ and instructor/notes/")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when instructor/guide/ is not what it generates")
    p = sub.add_parser("test", help="run the test suite (pytest; extra arguments go to pytest)")
    p.add_argument("--fast", action="store_true",
                   help="only tests/unit/: the layer that needs no kernel (under a minute)")
    p = sub.add_parser("validate", help="validate notebooks as the Validate button does; exit 1 "
                                        "on any failed test")
    p.add_argument("notebooks", nargs="+")
    p = sub.add_parser("bundle", help="build the student bundle (build/student-bundle{,.zip})")
    p.add_argument("lessons", nargs="*", help="only these lessons (release them one by one)")
    p = sub.add_parser("grade", help="grade submitted/ (or an LMS download) in parallel, then "
                                     "feedback, CSV export and the instructor report")
    p.add_argument("lessons", nargs="*")
    p.add_argument("--lms", type=Path, help="an LMS download (zip or folder): Moodle, Canvas, "
                                            "Blackboard, or <student>_<...lesson...> files")
    p.add_argument("--roster", type=Path, help="the LMS's grading worksheet / gradebook export, "
                                               "or a CSV lms_id,student,name")
    p.add_argument("--accept", action="store_true",
                   help="skip the files the import lists as problems instead of stopping")
    p.add_argument("--workers", type=int, default=None, help="default: the machine's cores")
    p.add_argument("--broker", help="grade on ./course worker machines through this Redis URL "
                                    "(needs NBGRADER_DB_URL: the shared gradebook)")
    p.add_argument("--no-sandbox", **no_sandbox)
    p = sub.add_parser("lms-export", help="write the LMS's grade import file for a graded lesson")
    p.add_argument("lesson")
    p.add_argument("--roster", type=Path, required=True,
                   help="Moodle grading worksheet, Canvas gradebook CSV or Blackboard Grade "
                        "Center download")
    p.add_argument("--out", type=Path, required=True, help="the CSV to write (UTF-8 with BOM)")
    p.add_argument("--column", help="the LMS's grade column (default: the one naming the lesson)")
    p = sub.add_parser("worker", help="grade tasks from ./course grade --broker on this machine "
                                      "(NBGRADER_DB_URL: the shared gradebook)")
    p.add_argument("--broker", required=True, help="the Redis URL, e.g. redis://host:6379/0")
    p.add_argument("--concurrency", type=int, default=None, help="default: the machine's cores")
    p.add_argument("--course", type=Path, default=ROOT, help="the course checkout to grade with "
                                                             "(default: this one)")
    p.add_argument("--redeliver-after", type=int, default=None, metavar="SECONDS",
                   help="hand a dead worker's task to another after this long (default 900)")
    p = sub.add_parser("lab", help="open JupyterLab on the student notebooks")
    p.add_argument("--port", type=int, default=8888)
    sub.add_parser("lab-instructor", help="open JupyterLab on the instructor notebooks")
    sub.add_parser("formgrader", help="open nbgrader's formgrader on the course's gradebook "
                                      "(grade the written answers by hand)")
    args, rest = ap.parse_known_args(argv)
    if rest and args.cmd not in ("test", "lab", "lab-instructor", "formgrader"):  # never ignored silently
        ap.error(f"unrecognized arguments: {' '.join(rest)} (grading settings such as "
                 "SandboxedExecute.sandbox go in the course's nbgrader_config.py)")

    if args.cmd in (None, "run"):
        from .authoring.main_job import main_job

        return main_job(workers=getattr(args, "workers", None), sandbox=not args.no_sandbox)
    if args.cmd == "release":
        release(args.lessons)
        return 0
    if args.cmd == "check":
        from .authoring.mistakes import check_lessons

        return 0 if check_lessons(_lessons(args.lessons)) else 1
    if args.cmd == "hints":
        from .authoring.mistakes import write_hints

        write_hints(_lessons(args.lessons))
        return 0
    if args.cmd == "guide":
        from .authoring.guide import main as guide_main

        return guide_main(["--check"] if args.check else [])
    if args.cmd == "test" and args.fast:
        return subprocess.call([sys.executable, "-m", "pytest", "tests/unit", *rest], cwd=ROOT)
    if args.cmd == "test":
        # worksteal: the long lesson-grading tests must not queue behind one worker.
        default = ["-n", "auto", "--dist", "worksteal"]
        return subprocess.call([sys.executable, "-m", "pytest", *(rest or default)], cwd=ROOT)
    if args.cmd == "validate":
        from dlcourse.validate import main as validate_main

        return validate_main(args.notebooks)
    if args.cmd == "bundle":
        from .authoring.bundle import build

        folder, archive = build(only=_lessons(args.lessons))
        print(f"student bundle: {folder}\n               {archive}")
        return 0
    if args.cmd == "grade":
        from .grade.command import grade_command

        if args.broker and args.workers:
            ap.error("--workers is for the local pool; with --broker, each ./course worker "
                     "sets its own --concurrency")
        return grade_command(_lessons(args.lessons), lms=args.lms, workers=args.workers,
                             roster=args.roster, accept=args.accept, broker=args.broker,
                             sandbox=not args.no_sandbox)
    if args.cmd == "lms-export":
        from .grade.command import lms_export_command

        return lms_export_command(_lessons([args.lesson])[0], args.roster, args.out, args.column)
    if args.cmd == "worker":
        from .grade.distributed import REDELIVER_AFTER
        from .grade.distributed.worker import run_worker

        return run_worker(args.broker, args.concurrency, args.course,
                          args.redeliver_after or REDELIVER_AFTER)
    if args.cmd == "lab":
        from dlcourse.lab import run_lab

        return run_lab(ROOT / "notebooks", port=args.port, extra_args=rest)
    if args.cmd == "lab-instructor":
        from .grade.command import lab_instructor_command

        return subprocess.call([*lab_instructor_command(ROOT), *rest], cwd=ROOT)
    if args.cmd == "formgrader":
        from .grade.command import formgrader_command

        return subprocess.call([*formgrader_command(ROOT), *rest], cwd=ROOT)
    ap.error(f"unknown command {args.cmd}")
    return 2



