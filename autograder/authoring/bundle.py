"""``./course bundle``: what a graded course hands to students, and nothing more.

``build/student-bundle/`` and ``build/student-bundle.zip`` hold the student notebooks, the data,
the ``dlcourse`` helpers they import, the environment files, a student ``nbgrader_config.py``
(Validate button) and a student README. No ``solutions/``, hidden tests, ``autograder/`` or tests.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from .. import ROOT, lessons

BUNDLE = ROOT / "build" / "student-bundle"
COPY = ["data", "dlcourse", "jupyter-config", "requirements", "pyproject.toml"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")

STUDENT_README = """\
# 딥러닝 기초 (Deep-learning basics) — 학생용 (student bundle)

## 설치 (setup, once)
```bash
python3 -m venv .venv && . .venv/bin/activate   # Windows: .venv\\Scripts\\activate
pip install -r requirements/base.txt && pip install --no-deps -e .
```
(requirements/base.txt is the student set: no grading or developer tools.) On a Linux machine with an NVIDIA GPU pip installs the CUDA build of
torch; lesson 06 uses it.

## 공부하기 (work)
```bash
python -m dlcourse lab      # JupyterLab on notebooks/, with the course's Validate button
```
Start with `notebooks/01_neuron/01_neuron.ipynb`. Fill in each exercise's answer cell and run the
test cell below it: it prints "통과 (OK)" or what is wrong (shape, dtype, value) in Korean.

## 제출 전 확인 (before you hand in)
Press **Validate** in JupyterLab's notebook toolbar, or run
`python -m dlcourse validate notebooks/01_neuron/01_neuron.ipynb` (exit code 1 when a test fails).
Validate checks your notebook exactly as the grader will (the same rules, time limits and
messages); grading then re-checks your answers with hidden tests on other inputs. It also says
what the grader will restore or ignore (for example an edited test cell) and warns about a file
too large to hand in (save without outputs: Edit → Clear Outputs of All Cells).
"""


def build(dest: Path = BUNDLE, only: list[str] | None = None) -> tuple[Path, Path]:
    """Write the bundle folder and zip; ``only`` limits it to some lessons (a course that
    releases lesson by lesson: later lessons build on earlier answers)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    chosen = only or lessons()
    for lesson in chosen:
        shutil.copytree(ROOT / "notebooks" / lesson, dest / "notebooks" / lesson, ignore=IGNORE)
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORE)
        else:
            shutil.copy2(src, dest / name)
    # Validate's copies of the releases and the hints of known mistakes: only the lessons
    # handed out (a later lesson shows earlier answers).
    for shipped in [*(dest / "dlcourse" / "releases").glob("*.ipynb"),
                    *(dest / "dlcourse" / "hints").glob("*.json")]:
        if shipped.stem not in chosen:
            shipped.unlink()
    shutil.copy2(ROOT / "dlcourse" / "student_nbgrader_config.py", dest / "nbgrader_config.py")
    (dest / "README.md").write_text(STUDENT_README, encoding="utf-8")
    archive = dest.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(dest.rglob("*")):
            if path.is_file():
                zf.write(path, Path(dest.name) / path.relative_to(dest))
    return dest, archive
