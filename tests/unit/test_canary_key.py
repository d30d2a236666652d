"""The canary's recorded pass is reused only while nothing it depends on changed (issue 26):
each thing :func:`autograder.grade.preflight.canary_key` covers changes the key, and nothing
else does. ``tests/environment/test_fresh_machine.py`` proves the reuse and the rerun on real gradings."""

import importlib.metadata
import shutil

import pytest

from autograder import ROOT
from autograder.grade import preflight

LESSON = "01_neuron"
#: One file of each thing the canary depends on, in a copy of the course.
DEPENDENCIES = {
    "course code": "autograder/grade/report.py",
    "sandbox and limits configuration": "autograder/pipeline/nbgrader_config.py",
    "course helpers": "dlcourse/check.py",
    "data": "data/grades_train.csv",
    "solution": f"solutions/{LESSON}/{LESSON}.ipynb",
    "release": f"notebooks/{LESSON}/{LESSON}.ipynb",
    "reference results": f".grading/reference/{LESSON}/{LESSON}-0.json",
    "visible results": f".grading/visible/{LESSON}/{LESSON}-0.json",
    "course configuration": "nbgrader_config.py",
}


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A copy of the course (one lesson) that :mod:`autograder.grade.preflight` takes for its
    own checkout."""
    for name in ("autograder", "dlcourse", "data", f"solutions/{LESSON}", f"notebooks/{LESSON}"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    for kind in ("reference", "visible"):
        (tmp_path / ".grading" / kind / LESSON).mkdir(parents=True)
        (tmp_path / ".grading" / kind / LESSON / f"{LESSON}-0.json").write_text("{}")
    monkeypatch.setattr(preflight, "ROOT", tmp_path)
    monkeypatch.setattr(preflight, "STATE", tmp_path / ".grading")
    return tmp_path


@pytest.mark.parametrize("what", DEPENDENCIES)
def test_each_dependency_changes_the_key(course, what):
    before = preflight.canary_key(LESSON, "bwrap", course)
    assert preflight.canary_key(LESSON, "bwrap", course) == before
    path = course / DEPENDENCIES[what]
    path.write_bytes(path.read_bytes() + b"\n")
    assert preflight.canary_key(LESSON, "bwrap", course) != before


def test_packages_and_sandbox_change_the_key(course, monkeypatch):
    before = preflight.canary_key(LESSON, "bwrap", course)
    assert preflight.canary_key(LESSON, "bwrap other", course) != before
    for name in ("torch", "nbgrader", "nbclient", "ipykernel"):
        assert f"{name}=={importlib.metadata.version(name)}" in preflight.packages()
    monkeypatch.setattr(preflight, "packages", lambda: "torch==0.0")
    assert preflight.canary_key(LESSON, "bwrap", course) != before


def test_other_lessons_and_locks_leave_the_key(course):
    before = preflight.canary_key(LESSON, "bwrap", course)
    (course / "solutions" / "02_forward").mkdir()
    (course / "solutions" / "02_forward" / "02_forward.ipynb").write_text("{}")
    (course / ".grading" / "reference" / LESSON / f"{LESSON}-0.json.lock").write_text("")
    assert preflight.canary_key(LESSON, "bwrap", course) == before


def test_sandbox_state_covers_every_limit(course):
    before = preflight.sandbox_state(False, course)
    assert before.startswith("none; ") and "'memory_mb'" in before
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write("c.SandboxedExecute.memory_mb = 1024\n")
    assert preflight.sandbox_state(False, course) != before
