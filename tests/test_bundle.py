"""The student bundle has what students need and nothing that reveals solutions or grading."""

import re
import zipfile

import nbformat
import pytest

from autograder import SOLUTIONS, lessons
from autograder.bundle import build

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
    for name in ("data/grades_train.csv", "dlcourse/check.py", "requirements.txt",
                 "environment.yml", "pyproject.toml", "nbgrader_config.py", "README.md"):
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
