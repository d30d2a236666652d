"""Google Colab as it is (issue 28): the lessons, ``dlcourse`` and Validate on Colab's own package
versions, in an environment that has nothing of this machine's site-packages.

Colab's versions come from ``tests/fixtures/colab/pip-freeze.txt`` (README there: source and
date). The environment is a plain ``python -m venv`` (no system site-packages) filled by pip with
Colab's release of every package the lessons, ``dlcourse`` and Validate import. Two stand-ins, said
here once: Python 3.11 (Colab runs 3.13; the only torch wheel that installs here without a
multi-GB CUDA download is the pinned CPU build of torch 2.13.0 for Python 3.11) and that torch
wheel for Colab's torch. A stand-in ``google.colab`` module makes each lesson's real setup cell
take its Colab branch: it installs the course (a wheel of this checkout stands in for the
repository) with ``--no-deps`` and then :data:`autograder.authoring.colab.RUNTIME`. The environment is built
once per session and shared by the tests of this module.
"""

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from autograder.authoring import colab
from autograder.grade.scratch import submission
from tests.conftest import LESSONS
from tests.environment.test_platforms import (
    SETUP_BLOCK_MESSAGE,
    assert_checks_pass_from,
    build_wheel,
    kernel_env,
    run_alone,
    text,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "colab"
#: Import names of the course's runtime (lessons, dlcourse, Validate) -> pip names in the freeze.
#: scikit-learn: lesson 07 reads its bundled digits from Colab's own copy, which must stay.
COLAB_PACKAGES = ("numpy", "pandas", "matplotlib", "ipywidgets", "ipykernel", "jupyter_client",
                  "ipython", "traitlets", "tqdm", "nbclient", "nbformat", "nbconvert", "pyzmq",
                  "scikit-learn")
#: torch: the pinned CPU wheel stands in for Colab's CUDA build (see the module docstring).
TORCH = "torch==2.13.0"
PYTHON = "3.11"


def colab_pins() -> dict[str, str]:
    """``{name: version}`` of Colab's ``pip-freeze.txt`` (names lower-cased, ``_`` as ``-``);
    a direct-URL line (``torch @ https://.../torch-2.11.0%2Bcpu-...whl``) gives the wheel's
    version."""
    pins = {}
    for line in (FIXTURE / "pip-freeze.txt").read_text().splitlines():
        m = (re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line.strip())
             or re.fullmatch(r"([A-Za-z0-9_.\-]+) @ \S+/[A-Za-z0-9_.]+-([0-9][^-]*?)(?:%2B[^-]*)?-\S+",
                             line.strip()))
        if m:
            pins[m[1].lower().replace("_", "-")] = m[2]
    return pins


def test_fixture_is_colabs_published_list():
    """The fixture is the 2026-08-19 list: the versions the issue names, and no font package."""
    pins = colab_pins()
    assert {k: pins[k] for k in ("numpy", "pandas", "matplotlib", "ipywidgets", "ipykernel",
                                 "jupyter-client", "torch")} == {
        "numpy": "2.1.3", "pandas": "2.2.3", "matplotlib": "3.10.0", "ipywidgets": "7.7.1",
        "ipykernel": "6.17.1", "jupyter-client": "7.4.9", "torch": "2.11.0"}
    assert pins["scikit-learn"] == "1.6.1"  # lesson 07's digits come from Colab's own copy
    assert "koreanize-matplotlib" not in pins
    assert "Python 3.13.15" in (FIXTURE / "os-info.txt").read_text()
    assert "koreanize-matplotlib" in colab.RUNTIME  # so the setup cell installs the font


@pytest.fixture(scope="session")
def colab_env(tmp_path_factory):
    """(python, site-packages, wheel, seconds to build) of the shared Colab environment."""
    base = shutil.which(f"python{PYTHON}")
    if base is None:
        pytest.skip(f"Python {PYTHON} is not installed (the torch CPU wheel needs it)")
    tmp = tmp_path_factory.mktemp("colab-env")
    start = time.monotonic()
    subprocess.run([base, "-m", "venv", str(tmp / "venv")], check=True)
    python = tmp / "venv" / "bin" / "python"
    pins = colab_pins()
    wanted = [f"{name}=={pins[name.replace('_', '-')]}" for name in COLAB_PACKAGES]
    done = subprocess.run([python, "-m", "pip", "install", "-q", TORCH, *wanted],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    return python, site, build_wheel(tmp / "wheel"), time.monotonic() - start


def versions(python: Path) -> dict[str, str]:
    out = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], check=True,
                         capture_output=True, text=True).stdout
    return {k.lower().replace("_", "-"): v for k, v in
            (line.split("==") for line in out.splitlines() if "==" in line)}


@pytest.mark.slow
def test_lessons_run_on_colabs_versions(colab_env, tmp_path):
    """Each lesson's real setup cell on Colab's versions installs the course and the font; the
    reference answers then run top to bottom, every visible check passes, Colab's numpy, pandas,
    matplotlib, ipywidgets and Jupyter stay, and Validate passes each executed notebook."""
    python, site, wheel, built = colab_env
    print(f"Colab environment built in {built:.0f} s")
    marker = tmp_path / "colab-marker"
    (marker / "google" / "colab").mkdir(parents=True)
    (marker / "google" / "__init__.py").write_text("")
    (marker / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab."""\n')
    env = kernel_env(tmp_path, python, PYTHONPATH=str(marker))
    notebooks = {}
    for lesson in LESSONS:
        nb = submission(lesson)
        setup = colab.setup_cells(nb)[0]
        assert setup.source.count(f'"{colab.install_spec()}"') == 1
        setup.source = setup.source.replace(colab.install_spec(), str(wheel))
        notebooks[lesson] = nb
    before = versions(python)
    assert "dl-basics-course" not in before and "koreanize-matplotlib" not in before
    done = run_alone(python, notebooks, tmp_path / "lessons", env)
    after = versions(python)
    pins = colab_pins()
    for name in COLAB_PACKAGES:
        key = name.replace("_", "-")
        assert after[key] == pins[key], (name, after[key])
    assert after["torch"].startswith("2.13.0")
    assert "koreanize-matplotlib" in after
    first = LESSONS[0]
    assert SETUP_BLOCK_MESSAGE in text(colab.setup_cells(done[first])[0])
    for lesson, nb in done.items():
        assert_checks_pass_from(site, nb)
        for cell in nb.cells:  # the font is there: no font warning, no missing-glyph warning
            for out in cell.get("outputs", []):
                assert "Korean font missing" not in out.get("text", ""), lesson
                assert "missing from font" not in out.get("text", ""), lesson
    paths = [str(tmp_path / "lessons" / f"{lesson}.ipynb") for lesson in LESSONS]
    validated = subprocess.run([python, "-m", "dlcourse", "validate", *paths], env=env,
                               cwd=tmp_path, capture_output=True, text=True, timeout=1200)
    assert validated.returncode == 0, validated.stdout + validated.stderr[-3000:]
    assert validated.stdout.count("통과 (OK)") == len(LESSONS), validated.stdout
