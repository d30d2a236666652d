"""Student-side validation: no sandbox needed, and a CI-friendly exit code."""

import subprocess
import sys

import nbformat
import pytest

from autograder.authoring.mistakes import load_mistakes
from autograder.grade.scratch import release_notebook, submission
from tests.conftest import LESSONS, TCP_WARNING


def validate(tmp_path, nb) -> subprocess.CompletedProcess:
    path = tmp_path / "work.ipynb"
    nbformat.write(nb, path)
    return subprocess.run([sys.executable, "-m", "dlcourse.validate", str(path)],
                          capture_output=True, text=True, cwd=tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS[:1])
def test_validate_exit_codes(lesson, tmp_path):
    ok = validate(tmp_path, submission(lesson))
    assert ok.returncode == 0 and "통과 (OK)" in ok.stdout, ok.stdout + ok.stderr
    assert TCP_WARNING not in ok.stderr, "validation's kernel runs unencrypted"
    blank = validate(tmp_path, release_notebook(lesson))
    assert blank.returncode == 1
    assert "실패 (failed)" in blank.stdout and "not implemented yet" in blank.stdout
    mistake = load_mistakes(lesson)[0]
    wrong = validate(tmp_path, submission(lesson, mistake.answers))
    assert wrong.returncode == 1 and "(tests failed)" in wrong.stdout
