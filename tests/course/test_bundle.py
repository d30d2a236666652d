"""The student bundle has what students need and nothing that reveals solutions or grading."""

import re
import zipfile

import nbformat
import pytest

from autograder import SOLUTIONS, lessons
from autograder.authoring.bundle import build

SECRET = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build(tmp_path_factory.mktemp("b") / "student-bundle")


def read(lesson: str):
    return nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", as_version=4)


def secret_lines(lesson: str) -> set[str]:
    """Lines of the lesson's solution and hidden-test regions that no lesson shows openly."""
    nb = read(lesson)
    public = "\n".join(SECRET.sub("", c.source) for n in lessons() for c in read(n).cells)
    lines = set()
    for cell in nb.cells:
        for _, region in SECRET.findall(cell.source):
            lines |= {ln.strip() for ln in region.splitlines()
                      if len(ln.strip()) > 12 and ln.strip() not in public}
    return lines


def test_bundle_has_what_students_need(bundle):
    folder, archive = bundle
    for lesson in lessons():
        assert (folder / "notebooks" / lesson / f"{lesson}.ipynb").exists()
    for name in ("data/grades_train.csv", "dlcourse/check.py", "requirements/base.txt",
                 "pyproject.toml", "nbgrader_config.py", "README.md"):
        assert (folder / name).exists(), name
    with zipfile.ZipFile(archive) as zf:
        assert "student-bundle/notebooks/01_neuron/01_neuron.ipynb" in zf.namelist()


def test_bundle_reveals_nothing(bundle):
    folder, archive = bundle
    names = [p.relative_to(folder).as_posix() for p in folder.rglob("*")]
    assert not [n for n in names if n.split("/")[0] in ("solutions", "autograder", "tests",
                                                          ".grading", "bench")]
    notebooks = "\n".join(p.read_text(encoding="utf-8") for p in folder.rglob("*.ipynb"))
    assert "BEGIN SOLUTION" not in notebooks and "HIDDEN TESTS" not in notebooks
    # A lesson's answers may appear in *later* lessons (lesson 05 builds on lesson 02's
    # network); release the bundle lesson by lesson (`./course bundle LESSON...`) in a graded
    # course. Nothing else may show them: not the lesson itself, the helpers or earlier lessons.
    order = lessons()
    files = {p: p.read_text(encoding="utf-8", errors="replace")
             for p in folder.rglob("*") if p.is_file() and p.suffix != ".zip"}
    for i, lesson in enumerate(order):
        secrets = secret_lines(lesson)
        assert secrets, f"{lesson}: no solution lines found to look for"
        later = {path for n in order[i + 1:] for path in (
            folder / "notebooks" / n / f"{n}.ipynb", folder / "dlcourse" / "releases" / f"{n}.ipynb")}
        leaked = sorted({(s, p.relative_to(folder).as_posix()) for p, t in files.items()
                         if p not in later for s in secrets if s in t})
        assert not leaked, f"{lesson}: solution/hidden-test lines in the bundle: {leaked[:5]}"
    with zipfile.ZipFile(archive) as zf:
        assert sorted(n.split("/", 1)[1] for n in zf.namelist()) == sorted(
            p.relative_to(folder).as_posix() for p in files)


def test_bundle_of_some_lessons_ships_only_their_releases(tmp_path):
    """Validate's copies of the releases follow ``only``: a later lesson shows earlier answers."""
    folder, _ = build(tmp_path / "bundle", only=["01_neuron"])
    assert sorted(p.name for p in (folder / "dlcourse" / "releases").iterdir()) == [
        "01_neuron.ipynb"]


LAB_PROBE = r"""
import importlib.abc, json, os, subprocess, sys
from pathlib import Path

class NoAutograder(importlib.abc.MetaPathFinder):  # the bundle has no instructor package
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "autograder":
            raise ImportError("no autograder in the student bundle")

sys.meta_path.insert(0, NoAutograder())

def call(argv, cwd=None, env=None):  # instead of starting JupyterLab: what it would read
    config = Path(env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0])
    server = json.loads((config / "jupyter_server_config.json").read_text())
    page = json.loads((config / "labconfig" / "page_config.json").read_text())
    print(json.dumps({"server": server["ServerApp"]["jpserver_extensions"],
                      "page": sorted(page["disabledExtensions"]),
                      "nbgrader_config": (Path(cwd) / "nbgrader_config.py").is_file(),
                      "root": [a for a in argv if a.startswith("--ServerApp.root_dir=")]}))
    return 0

subprocess.call = call
import dlcourse, dlcourse.__main__
assert dlcourse.__file__.startswith(sys.argv[1]), dlcourse.__file__
sys.exit(dlcourse.__main__.main(["lab", "notebooks"]))
"""


def test_bundle_lab_is_the_student_lab(bundle):
    """Issue 28: ``python -m dlcourse lab`` in the bundle (no ``autograder``) starts the same lab
    as the checkout: nbgrader's formgrader and course list off in the server and the browser,
    the course's Validate button on, the student nbgrader_config.py in its home."""
    import json
    import os
    import subprocess
    import sys

    folder, _ = bundle
    env = {**os.environ, "PYTHONPATH": str(folder)}
    done = subprocess.run([sys.executable, "-c", LAB_PROBE, str(folder)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["server"] == {"nbgrader.server_extensions.formgrader": False,
                              "nbgrader.server_extensions.course_list": False,
                              "nbgrader.server_extensions.validate_assignment": False,
                              "dlcourse.validate_button": True}
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
            "@jupyter/nbgrader:create-assignment"} <= set(seen["page"])
    assert seen["nbgrader_config"] is True
    assert seen["root"] == [f"--ServerApp.root_dir={(folder / 'notebooks').resolve()}"]


def test_bundle_holds_no_instructor_guide(bundle):
    """No page or hand-written note of the instructor's guide (instructor/) is in the bundle."""
    from tests.unit.test_guide import instructor_only_lines

    folder, archive = bundle
    assert not [p for p in folder.rglob("*") if "instructor" in p.relative_to(folder).parts]
    secrets = instructor_only_lines()
    leaked = sorted({(s, p.relative_to(folder).as_posix()) for p in folder.rglob("*")
                     if p.is_file() and p.suffix != ".zip"
                     for s in secrets if s in p.read_text(encoding="utf-8", errors="replace")})
    assert not leaked, f"instructor's guide in the bundle: {leaked[:5]}"
