"""Grade a whole class in parallel through nbgrader (``./course grade``).

Each worker process holds one nbgrader API object and autogrades one (student, lesson) pair at a
time with the course's configuration, so every integrity rule of ``nbgrader autograde`` applies.
The gradebook is nbgrader's own: SQLite waits for its lock (``?timeout=`` in ``db_url``) and
PostgreSQL (``NBGRADER_DB_URL``) takes concurrent writers as it is.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from tqdm import tqdm

from dlcourse.status import Status

from .. import lessons as course_lessons
from .. import load_config
from ..paths import UnsafePath, check_id, confined, course_folder, rename_record, symlinks
from ..pipeline import status
from ..pipeline.preprocessors import RENAMED, renamed_from
from ..pipeline.reference import reference_records


@dataclass
class Result:
    student: str
    lesson: str
    seconds: float
    success: bool
    message: str = ""
    #: Its worker process died while grading it, alone in its pool (:func:`grade_class`).
    died: bool = False


#: The message of a submission whose grading process died (a memory limit's killer, a crash).
WORKER_DIED = ("채점 프로세스가 이 제출물을 채점하다 죽었습니다 (grader worker died, e.g. memory "
               "limit exceeded); 다른 학생은 채점되었습니다; 관리자에게 알리세요")


def db_url(root: Path) -> str:
    return load_config(root).CourseDirectory.db_url


_api: NbGraderAPI | None = None


def _init_worker(root: str, db: str | None, sandbox: bool = True) -> None:
    global _api
    if db:
        os.environ["NBGRADER_DB_URL"] = db
    os.chdir(root)
    config = load_config(Path(root))
    if not sandbox:  # ./course grade --no-sandbox: each score says so (preprocessors.SaveStatus)
        config.SandboxedExecute.sandbox = "none"
    _api = NbGraderAPI(config=config)
    _api.log.setLevel("ERROR")


def _grade(student: str, lesson: str) -> Result:
    t0 = time.monotonic()
    try:
        res = _api.autograde(lesson, student, force=True, create=True)
        ok = res["success"]
        msg = "" if ok else f"{res.get('log') or ''}\n{res.get('error') or ''}"
    except Exception as err:  # one submission never stops the batch
        ok, msg = False, f"{type(err).__name__}: {err}"
    return Result(student, lesson, time.monotonic() - t0, ok, msg[-4000:])


def _feedback(student: str, lesson: str) -> str:
    """nbgrader ``generate_feedback`` of one graded notebook in this worker; the cause of a
    failure (:func:`cause`), '' on success."""
    try:
        res = _api.generate_feedback(lesson, student, force=True)
    except Exception as err:  # one page never stops the others
        return f"{type(err).__name__}: {err}"
    return "" if res["success"] else cause(f"{res.get('log') or ''}\n{res.get('error') or ''}")


def feedback_class(root: Path, pairs: list[tuple[str, str]], url: str,
                   workers: int | None = None) -> dict[tuple[str, str], str]:
    """The feedback pages (nbgrader ``generate_feedback``) of every pair in ``pairs`` that has
    an autograded notebook, made by ``workers`` processes (default: the machine's cores) with
    the course ``root``'s configuration and the gradebook ``url``; returns ``{pair: cause}`` of
    each page that could not be made."""
    root = Path(root).resolve()
    graded = [(s, lesson) for s, lesson in pairs
              if (course_folder(root, s, lesson, "autograded") / f"{lesson}.ipynb").exists()]
    if not graded:
        return {}
    with ProcessPoolExecutor(min(workers or os.cpu_count() or 1, len(graded)),
                             mp_context=get_context("spawn"), initializer=_init_worker,
                             initargs=(str(root), url)) as pool:
        causes = pool.map(_feedback, [s for s, _ in graded], [lesson for _, lesson in graded])
        return {pair: why for pair, why in zip(graded, causes, strict=True) if why}


def _found(root: Path, lessons: list[str] | None) -> list[tuple[str, str]]:
    """Every (folder name, lesson) with a ``submitted/<name>/<lesson>/`` folder."""
    lessons = lessons or course_lessons(root)
    sub = root / "submitted"
    if not sub.exists():
        return []
    return sorted((s.name, lesson) for s in sub.iterdir() if s.is_dir()
                  for lesson in lessons if (s / lesson).is_dir())


def _id_error(name: str) -> str:
    """Why ``name`` is no student id (:func:`autograder.paths.check_id`), '' when it is one."""
    try:
        check_id(name)
    except UnsafePath as err:
        return str(err)
    return ""


def submissions(root: Path, lessons: list[str] | None = None) -> list[tuple[str, str]]:
    """(student, lesson) pairs found in ``submitted/<student>/<lesson>/`` whose folder name is a
    student id (:data:`autograder.paths.STUDENT_ID`); :func:`refused_folders` names the others,
    which are never graded nor written to the gradebook."""
    return [(s, lesson) for s, lesson in _found(root, lessons) if not _id_error(s)]


def refused_folders(root: Path, lessons: list[str] | None = None) -> dict[tuple[str, str], str]:
    """``{(name, lesson): message}`` for each ``submitted/<name>/<lesson>/`` whose ``name``
    breaks the id rule (:func:`autograder.paths.check_id`): the folders :func:`submissions`
    leaves out."""
    return {(s, lesson): f"submitted/{s!r}/{lesson}: 폴더를 채점하지 않았습니다 (folder refused, "
            f"not graded): {why}" for s, lesson in _found(root, lessons) if (why := _id_error(s))}


def adopt_renamed(root: Path, student: str, lesson: str) -> str | None:
    """When ``submitted/<student>/<lesson>/`` holds no ``<lesson>.ipynb`` but exactly one other
    notebook (browsers and LMSs rename downloads: ``01_neuron (1).ipynb``), copy it to the
    expected name and record the original name in :func:`rename_record` (the grader names the
    rename in the student's notes, :func:`autograder.pipeline.preprocessors.renamed_from`). Returns the
    original name, or ``None`` when there is nothing to adopt (also for a folder with a symbolic
    link: :func:`refused`)."""
    folder = course_folder(root, student, lesson)
    expected = folder / f"{lesson}.ipynb"
    if refused(root, student, lesson):
        return None
    record = rename_record(root, student, lesson)
    if expected.exists() and record.exists():
        # Our copy of an earlier rename: a newer file under the student's name replaces it (a
        # newer <lesson>.ipynb handed in since is graded as it is).
        try:
            original = confined(folder, record.read_text(encoding="utf-8").strip())
        except UnsafePath:
            return None
        if (original.is_file() and original.stat().st_mtime > expected.stat().st_mtime
                and original.read_bytes() != expected.read_bytes()):
            shutil.copyfile(original, expected)
            return original.name
        return None
    if expected.exists() or not folder.is_dir():
        return None
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(found) != 1:
        return None
    shutil.copyfile(found[0], expected)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(found[0].name, encoding="utf-8")
    return found[0].name


def refused(root: Path, student: str, lesson: str) -> str:
    """Why ``submitted/<student>/<lesson>/`` is not graded ('' when it may be): an unsafe id or
    a symbolic link in the folder (it could name the solutions or a classmate's notebook,
    :func:`autograder.paths.symlinks`)."""
    try:
        folder = course_folder(root, check_id(student), check_id(lesson))
    except UnsafePath as err:
        return str(err)
    links = symlinks(folder) if folder.exists() else []
    if links:
        return (f"{student}/{lesson}: 심볼릭 링크는 채점하지 않습니다 (symlink refused): "
                f"{', '.join(links)}; 파일 자체를 제출하세요 (hand in the file itself)")
    return ""


def inspect_submission(root: Path, student: str, lesson: str) -> str:
    """A message about missing, renamed, duplicated or extra files ('' when all is in order)."""
    folder = course_folder(root, student, lesson)
    expected = folder / f"{lesson}.ipynb"
    original = renamed_from(root, student, lesson, expected.name)
    skip = {expected.name, "timestamp.txt", RENAMED, original}
    others = sorted(p.name for p in folder.iterdir()
                    if p.name not in skip) if folder.exists() else []
    notes = []
    if (folder / RENAMED).exists():
        notes.append(f"{student}/{lesson}: 제출물의 {RENAMED} 파일은 무시했습니다 "
                     "(uploaded marker ignored)")
    if not expected.exists():
        renamed = [n for n in others if n.endswith(".ipynb")]
        hint = f"; 다른 이름의 노트북 (renamed?): {', '.join(renamed)}" if renamed else ""
        notes.append(f"{student}: {lesson}.ipynb 제출 없음 (missing notebook){hint}")
    else:
        if original:
            notes.append(f"{student}/{lesson}: {original!r} 파일을 {expected.name}(으)로 "
                         "채점했습니다 (renamed notebook graded)")
        if others:
            notes.append(f"{student}/{lesson}: 채점하지 않는 추가 파일 (extra files): "
                         f"{', '.join(others)}")
    return "; ".join(notes)


#: A line of a traceback that names an exception: ``dateutil.parser.ParserError: ...``.
EXCEPTION_LINE = re.compile(r"^\s*(?:\w+\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt): ")


def cause(log: str) -> str:
    """The root cause in nbgrader's log of a failed run: the first exception a traceback names
    (nbgrader's own closing "NbGraderException: Please see ..." says nothing), else the last
    line."""
    named = [line.strip() for line in log.splitlines()
             if EXCEPTION_LINE.match(line) and "NbGraderException" not in line]
    return named[0] if named else (log.strip().splitlines() or [""])[-1]


def _invalidate(root: Path, url: str, student: str, lesson: str, state: str,
                message: str) -> None:
    """Zero a submission's grades and remove its autograded notebook and feedback, so that
    nothing of an older grade survives a failed or missing run (nbgrader leaves both in place
    when it grades nothing)."""
    for step in ("autograded", "feedback"):
        shutil.rmtree(course_folder(root, student, lesson, step), ignore_errors=True)
    with Gradebook(url) as gb:
        try:
            nb = gb.find_submission_notebook(lesson, lesson, student)
        except MissingEntry:  # nbgrader stopped before recording the submission
            gb.update_or_create_student(student)
            gb.update_or_create_submission(lesson, student)
            nb = gb.find_submission_notebook(lesson, lesson, student)
        cells = []
        for grade in nb.grades:
            if grade.max_score:  # test cells and written answers
                grade.auto_score, grade.needs_manual_grade = 0.0, False
                cells.append((grade.name, state, message))
        gb.db.commit()
    status.save(url, lesson, student, lesson, state, message, None, cells)


def grade_class(root: Path, pairs: list[tuple[str, str]], workers: int | None = None,
                progress: bool = True, db: str | None = None,
                sandbox: bool = True) -> list[Result]:
    """Autograde ``pairs`` with ``workers`` processes (default: the machine's cores) into the
    gradebook ``db`` (default: the course's ``db_url``), without the sandbox when ``sandbox`` is
    False (``--no-sandbox``); returns one Result per pair. ``./course`` and ``./course grade``
    call :func:`autograder.grade.preflight.check_environment` first."""
    root = Path(root).resolve()
    workers = workers or os.cpu_count() or 1
    url = db or db_url(root)
    for lesson in sorted({lesson for _, lesson in pairs}):
        reference_records(lesson, lesson, root)  # once, before the workers need it
    for s, lesson in pairs:
        adopt_renamed(root, s, lesson)
    bar = tqdm(total=len(pairs), disable=not progress, desc="grading", unit="nb")
    results: list[Result] = []

    def run(batch, size):
        """Grade ``batch`` in a pool of ``size``; returns the pairs a dying worker took down."""
        broken = []
        with ProcessPoolExecutor(size, mp_context=get_context("spawn"),
                                 initializer=_init_worker,
                                 initargs=(str(root), url, sandbox)) as pool:
            futures = {pool.submit(_grade, s, lesson): (s, lesson) for s, lesson in batch}
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except BrokenProcessPool:
                    broken.append(futures[fut])
                    continue
                results.append(settle(root, url, res, bar.write))
                bar.update()
        return sorted(broken)

    for s, lesson in pairs:  # never graded: settle zeroes them with the reason
        if refused(root, s, lesson):
            results.append(settle(root, url, Result(s, lesson, 0.0, False), bar.write))
            bar.update()
    pairs = [(s, lesson) for s, lesson in pairs if not refused(root, s, lesson)]
    with Gradebook(url) as gb:  # before the pool: two workers never create one student at once
        for s in sorted({s for s, _ in pairs}):
            gb.update_or_create_student(s)
    # A worker that dies (a memory limit's killer) breaks the pool and every pair in flight:
    # each of those is graded again alone, so that only the one that kills its worker fails.
    for pair in run(pairs, workers):
        for s, lesson in run([pair], 1):
            results.append(settle(root, url, Result(s, lesson, 0.0, False, WORKER_DIED,
                                                    died=True), bar.write))
            bar.update()
    bar.close()
    return sorted(results, key=lambda r: (r.student, r.lesson))


def settle(root: Path, url: str, res: Result, write=print) -> Result:
    """Record what a grading run of one pair means in the course ``root`` and gradebook ``url``:
    a missing notebook or a failed run is zeroed with its status (:func:`_invalidate`); a note
    about the submission's files replaces the message and is written with ``write``; a refused
    folder (:func:`refused`) is zeroed as ``refused`` with the reason."""
    why = refused(root, res.student, res.lesson)
    if why:
        _invalidate(root, url, res.student, res.lesson, Status.REFUSED, why)
        res.success, res.message = True, why
        write(why)
        return res
    note = inspect_submission(root, res.student, res.lesson)
    notebook = course_folder(root, res.student, res.lesson) / f"{res.lesson}.ipynb"
    if not notebook.exists():
        _invalidate(root, url, res.student, res.lesson, Status.MISSING, note)
        res.success = True
    elif not res.success:
        _invalidate(root, url, res.student, res.lesson, Status.GRADER_ERROR,
                    WORKER_DIED if res.died else "채점 중 오류 (grader error); 관리자에게 알리세요")
    res.message = note or res.message
    if note:
        write(note)
    return res


def fresh_submitted(root: Path) -> None:
    shutil.rmtree(root / "submitted", ignore_errors=True)
