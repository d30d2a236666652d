"""No silent unsandboxed grade (issue 28, item 5): a grading setting the grader does not accept
stops ``./course grade`` before anything is graded, with the setting named, instead of grading
students without the sandbox and recording "graded".

The course is checkout B of :mod:`tests.environment.test_fresh_machine` with one honest submission; each
case rewrites its ``nbgrader_config.py``. That the configured limits are the ones checked and
printed is asserted on the class graded in :mod:`tests.pipeline.test_bounds`.
"""

import nbformat
import pytest

from autograder.grade.preflight import NO_SANDBOX_WARNING, preflight
from autograder.grade.scratch import submission
from tests.environment.test_fresh_machine import LESSON, _copy_course, _course

STOPPED = "채점 설정 오류 (configuration error)"
NOTHING = "아무것도 채점하지 않았습니다 (nothing graded)"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    dest = _copy_course(tmp_path_factory.mktemp("config") / "course")
    folder = dest / "submitted" / "honest" / LESSON
    folder.mkdir(parents=True)
    nbformat.write(submission(LESSON), folder / f"{LESSON}.ipynb")
    return dest, (dest / "nbgrader_config.py").read_text(encoding="utf-8")


def _nothing_written(dest) -> None:
    for path in ("grades.csv", "gradebook.db", "autograded", "feedback", "reports"):
        assert not (dest / path).exists(), path


@pytest.mark.parametrize("line, phrase", [
    ('c.SandboxedExecute.sandbox = "bwarp"',
     "expected any of ['bwrap', 'none'], not the str 'bwarp'"),
    ('c.SandboxedExecute.sandbx = "none"', "(unknown setting): sandbx; "),
    ("c.SandboxedExecute.max_procs = 0", "should not be less than 8, but a value of 0"),
    ("c.SandboxedExecute.disk_mb = 4096",
     "disk_mb (4096) must be less than budget_mb (4096): the notebook's tmpfs is counted in its "
     "memory"),
])
def test_bad_setting_stops_before_anything_is_graded(course, line, phrase):
    dest, config = course
    (dest / "nbgrader_config.py").write_text(f"{config}\n{line}\n", encoding="utf-8")
    proc = _course(dest, "grade", LESSON, timeout=300)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert out.startswith(f"{STOPPED} in {dest / 'nbgrader_config.py'}: "), out
    assert phrase in out and NOTHING in out, out
    assert "Traceback" not in proc.stderr, proc.stderr
    _nothing_written(dest)


def test_unknown_command_line_setting_is_refused(course):
    """``./course grade`` passes no traitlets options on: one given is an error (exit 2), never
    ignored."""
    dest, config = course
    (dest / "nbgrader_config.py").write_text(config, encoding="utf-8")
    proc = _course(dest, "grade", LESSON, "--SandboxedExecute.sandbox=bwarp", timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert ("error: unrecognized arguments: --SandboxedExecute.sandbox=bwarp (grading settings "
            "such as SandboxedExecute.sandbox go in the course's nbgrader_config.py)"
            in proc.stderr), proc.stderr
    _nothing_written(dest)


def test_configured_none_is_graded_as_no_sandbox(course):
    """``sandbox = "none"`` in the configuration is ``--no-sandbox``: the preflight warns (the
    scores say "graded (no sandbox)", :mod:`tests.pipeline.test_no_sandbox`) instead of checking a
    sandbox the grading would not use."""
    dest, config = course
    (dest / "nbgrader_config.py").write_text(f'{config}\nc.SandboxedExecute.sandbox = "none"\n',
                                             encoding="utf-8")
    assert preflight(True, dest) == NO_SANDBOX_WARNING


@pytest.mark.parametrize("text, phrase", [
    # traitlets' load_subconfig finds nothing and says nothing (a course folder copied without
    # autograder/, an instructor's own file): nbgrader would grade with its defaults.
    ("c = get_config()  # noqa: F821\n", "(the course's pipeline is not configured: its "
     "load_subconfig found no autograder/pipeline/nbgrader_config.py"),
    (None, "채점 설정이 없습니다 (configuration error: no nbgrader_config.py in "),
])
def test_a_course_without_its_pipeline_is_not_graded(course, text, phrase):
    dest, config = course
    path = dest / "nbgrader_config.py"
    if text is None:
        path.unlink()
    else:
        path.write_text(text, encoding="utf-8")
    try:
        proc = _course(dest, "grade", LESSON, timeout=300)
    finally:
        path.write_text(config, encoding="utf-8")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert phrase in proc.stdout and NOTHING in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    _nothing_written(dest)
