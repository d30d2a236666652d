"""Students learn where they are: Python 3.11–3.13 on Linux, macOS and Windows, an installed course
(a wheel, no checkout), Google Colab's setup block, the Python entry point, lesson 06 on cuda."""

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import distribution
from pathlib import Path

import nbformat
import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from autograder.authoring import colab
from autograder.grade.scratch import submission
from autograder.pipeline.reference import execute
from tests.conftest import LESSONS
from tests.environment.test_environment import pins

ROOT = Path(__file__).resolve().parents[2]
PYTHONS = ("3.12", "3.13")
#: pip's --platform tags per operating system. pip does not widen a manylinux tag to older
#: ones, so Linux lists them; macOS means Apple silicon (torch has no Intel macOS wheels).
PLATFORMS = {
    "Linux": [f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)]
    + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"],
    "macOS": ["macosx_14_0_arm64"],
    "Windows": ["win_amd64"],
}
#: ``sys.platform`` of each, for requirement markers.
SYS_PLATFORM = {"Linux": "linux", "macOS": "darwin", "Windows": "win32"}
OFFLINE = re.compile(r"NewConnectionError|Failed to establish a new connection|"
                     r"Temporary failure in name resolution|Name or service not known|"
                     r"Network is unreachable|ConnectTimeout|Max retries exceeded")
SETUP_BLOCK_MESSAGE = "Colab: 강의 패키지(dlcourse)를 설치합니다 (installing the course package)"


# ------------------------------------------------------------------ Python versions and pins


def test_requires_python_is_311_to_313():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    spec = SpecifierSet(project["project"]["requires-python"])
    assert [v for v in ("3.10", "3.11", "3.12", "3.13", "3.14") if v in spec] == [
        "3.11", "3.12", "3.13"]
    # ruff checks the oldest supported syntax.
    assert project["tool"]["ruff"]["target-version"] == "py311"


def index_versions(name: str, python: str, platforms: list[str]) -> tuple[list[str], str]:
    """Versions of ``name`` with a wheel for ``python`` on ``platforms`` that pip's finder sees
    (``pip index versions``: it reads the index pages and downloads no wheel), and pip's output."""
    cmd = [sys.executable, "-m", "pip", "index", "versions", name, "--python-version", python,
           "--only-binary=:all:", "--retries", "1", "--timeout", "30"]
    for tag in platforms:
        cmd += ["--platform", tag]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    found = re.search(r"^Available versions: (.*)$", proc.stdout, re.M)
    return (found.group(1).split(", ") if found else []), proc.stdout + proc.stderr


def pure_python(name: str) -> bool:
    """True when the installed wheel of ``name`` is tagged for every platform (``none-any``)."""
    tags = [line.split(":", 1)[1].strip()
            for line in (distribution(name).read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]
    return bool(tags) and all(t.endswith("-none-any") for t in tags)


@pytest.mark.slow
def test_every_pin_has_wheels_for_python_312_and_313_on_linux_macos_windows():
    """The exact pins (torch included) install from wheels on Python 3.12 and 3.13 on every
    student platform (3.11 on Linux is this machine's .venv). A platform-specific pin is asked
    for each (Python, platform); a pure-Python one once, plus its Requires-Python."""
    jobs = []
    for name, pin in pins().items():
        version, _, marker = pin.partition("; ")
        systems = [os_name for os_name in PLATFORMS  # a pin like `...; sys_platform == "linux"`
                   if not marker or Marker(marker).evaluate({"sys_platform": SYS_PLATFORM[os_name]})]
        if pure_python(name):
            requires = SpecifierSet(distribution(name).metadata.get("Requires-Python") or "")
            assert all(py in requires for py in PYTHONS), f"{name}: Requires-Python {requires}"
            jobs.append((name, version, "3.13", systems[-1]))
        else:
            jobs += [(name, version, py, os_name) for py in PYTHONS for os_name in systems]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda j: index_versions(j[0], j[2], PLATFORMS[j[3]]), jobs))
    offline = [out for versions, out in answers if not versions and OFFLINE.search(out)]
    if offline:
        pytest.skip("package index unreachable (offline): "
                    + OFFLINE.search(offline[0]).group(0))
    missing = [f"{name}=={version} (Python {py}, {os_name})"
               for (name, version, py, os_name), (versions, _) in zip(jobs, answers, strict=True)
               if version not in versions]
    assert missing == []
    # The filter is real: torch's wheels for Python 3.8 end long before the pinned release.
    old, out = index_versions("torch", "3.8", PLATFORMS["Windows"])
    assert old and pins()["torch"] not in old, out


def interpreter(version: str) -> str | None:
    """A working ``python<version>`` on PATH or in pyenv's folder, else None."""
    candidates = [shutil.which(f"python{version}")] + sorted(
        map(str, (Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin/python{version}")))
    for exe in filter(None, candidates):
        if subprocess.run([exe, "-c", "pass"], capture_output=True).returncode == 0:
            return exe
    return None


COMPILES = """\
import ast, importlib.util, pathlib, sys
stdlib = set(sys.stdin.read().split())  # the oldest supported Python's standard library
missing = []
for path in sys.argv[1:]:
    tree = ast.parse(pathlib.Path(path).read_text(encoding="utf-8"), path)
    compile(tree, path, "exec")
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        missing += [f"{path}: {n}" for n in names if n.split(".")[0] in stdlib
                    and importlib.util.find_spec(n.split(".")[0]) is None]
print("\\n".join(missing))
"""


@pytest.mark.parametrize("version", PYTHONS)
def test_course_code_compiles_on_newer_python(version):
    """Every .py file of the course parses and compiles under Python 3.12 / 3.13, and each
    module of 3.11's standard library that it imports still exists there (3.13 removed some)."""
    exe = interpreter(version)
    if exe is None:
        pytest.skip(f"no Python {version} interpreter on this machine")
    files = [str(p) for folder in ("dlcourse", "autograder", "tests", "bench")
             for p in sorted((ROOT / folder).rglob("*.py"))
             if "submissions" not in p.parts]
    proc = subprocess.run([exe, "-c", COMPILES, *files], capture_output=True, text=True,
                          input="\n".join(sorted(sys.stdlib_module_names)))
    assert (proc.returncode, proc.stdout.strip()) == (0, ""), proc.stderr[-2000:]


# ------------------------------------------------------------------ an installed course


def build_wheel(out: Path) -> Path:
    """The course's wheel, built from a copy of the files a clone has (git's tracked and
    not-ignored files, not this checkout's build/ or caches), without build isolation (no
    download)."""
    src = out / "src"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index",
                    "--no-build-isolation", "-w", str(out / "dist"), str(src)],
                   check=True, capture_output=True)
    (wheel,) = (out / "dist").glob("dl_basics_course-*.whl")
    return wheel


def fresh_venv(path: Path) -> tuple[Path, Path]:
    """A new virtual environment without the course: (its python, its site-packages). This
    environment's site-packages is appended to its path by a plain .pth line, so torch and
    Jupyter come from here without a download, and this checkout's editable install (a .pth
    inside that folder, not processed) stays out."""
    venv.EnvBuilder(with_pip=False).create(path)
    bindir = path / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "course-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, site


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("wheel"))


#: What only instructors may read: nbgrader's solution and hidden-test regions.
INSTRUCTOR_MARKERS = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def test_wheel_ships_the_student_side_only(wheel):
    """A student's ``pip install`` (the wheel) holds ``dlcourse`` with its data (each lesson's
    release and hint table, the grade tables, the grader's module list) and nothing of the
    instructor's: no ``autograder``, solutions, tests or known mistakes, and no data file of it
    with a solution or hidden-test region."""
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        data = {n: whl.read(n).decode("utf-8", "replace") for n in names
                if not n.endswith(".py") and not n.startswith("dl_basics_course-")}
    assert {n.split("/")[0] for n in names if not n.startswith("dl_basics_course-")} == {"dlcourse"}
    want = {f"dlcourse/{kind}/{lesson}.{ext}" for lesson in LESSONS
            for kind, ext in (("releases", "ipynb"), ("hints", "json"))}
    want |= {"dlcourse/tables/grades_train.csv", "dlcourse/tables/grades_test.csv",
             "dlcourse/grading_modules.txt"}
    assert want <= set(names), sorted(want - set(names))
    assert [n for n in names if "solutions/" in n or "mistakes" in n or "tests/" in n] == []
    assert [(n, m) for n, text in data.items() for m in INSTRUCTOR_MARKERS if m in text] == []


def test_packaged_tables_are_copies_of_data():
    """dlcourse/tables/ (package data) holds exactly data/'s tables, byte for byte."""
    from dlcourse.data import DATA_DIR, SPLITS

    source = sorted(p.name for p in (ROOT / "data").glob("*.csv"))
    packaged = sorted(p.name for p in (ROOT / "dlcourse" / "tables").iterdir())
    assert source == packaged == sorted(SPLITS.values())
    for name in source:
        assert (ROOT / "dlcourse" / "tables" / name).read_bytes() == (
            ROOT / "data" / name).read_bytes(), f"copy data/{name} to dlcourse/tables/"
    assert Path(str(DATA_DIR)) == ROOT / "dlcourse" / "tables"


def kernel_env(tmp: Path, python: Path, **extra: str) -> dict[str, str]:
    """Variables for a driver (and its kernels) run by ``python``: no grading variables, no
    Jupyter folders of this machine, CPU, headless plots."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBGRADER_", "JUPYTER", "PYTHON", "DLCOURSE_"))}
    env.update(PATH=str(python.parent) + os.pathsep + env.get("PATH", ""),
               JUPYTER_PATH="", JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
               JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"), IPYTHONDIR=str(tmp / "ipython"),
               MPLBACKEND="agg", DLCOURSE_DEVICE="cpu", **extra)
    return env


DRIVER = """\
import sys
import nbformat
from nbclient import NotebookClient
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", shutdown_kernel="immediate",
                   resources={"metadata": {"path": "."}}).execute()
    nbformat.write(nb, path)
"""

WHERE = """\
import sys, dlcourse, dlcourse.data
print("prefix:", sys.prefix)
print("dlcourse:", dlcourse.__file__)
print("tables:", dlcourse.data.DATA_DIR)
"""


def run_alone(python: Path, notebooks: dict[str, nbformat.NotebookNode], folder: Path,
              env: dict[str, str]) -> dict[str, nbformat.NotebookNode]:
    """Write each notebook alone into ``folder`` (plus a last cell that prints where
    ``dlcourse`` and its tables come from), execute them with nbclient under ``python``
    (a failing cell fails the run) and return them executed."""
    folder.mkdir()
    paths = []
    for name, nb in notebooks.items():
        nb.cells.append(nbformat.v4.new_code_cell(WHERE))
        paths.append(folder / f"{name}.ipynb")
        nbformat.write(nb, paths[-1])
    (folder.parent / "driver.py").write_text(DRIVER)
    proc = subprocess.run([python, str(folder.parent / "driver.py"), *map(str, paths)],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    return {p.stem: nbformat.read(p, as_version=4) for p in paths}


def text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def assert_checks_pass_from(site: Path, nb: nbformat.NotebookNode) -> None:
    """Every visible check cell printed 통과 and the last cell shows the package's tables (a
    written answer, a markdown cell graded by hand, prints nothing)."""
    tests = [c for c in nb.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    assert tests and all("통과 (OK)" in text(c) for c in tests), [text(c) for c in tests]
    where = text(nb.cells[-1])
    assert f"dlcourse: {site / 'dlcourse' / '__init__.py'}" in where, where
    assert f"tables: {site / 'dlcourse' / 'tables'}" in where, where


def test_wheel_holds_no_instructor_guide(wheel):
    """The course's wheel (what `pip install` of the repository gives a student) holds no page or
    hand-written note of the instructor's guide (instructor/), under any name."""
    from tests.unit.test_guide import instructor_only_lines

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        text = "\n".join(zf.read(n).decode("utf-8", "replace") for n in names)
    assert not [n for n in names if "instructor" in n.split("/")], names
    leaked = [s for s in instructor_only_lines() if s in text]
    assert not leaked, f"instructor's guide in the wheel: {leaked[:5]}"


@pytest.mark.slow
def test_wheel_gives_a_working_course_without_the_checkout(wheel, tmp_path):
    """pip install of the wheel into a fresh environment; each lesson's student notebook alone in
    an empty folder, reference answers filled in: every visible check passes, and the grade
    tables come from the installed package."""
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"dlcourse/tables/grades_train.csv", "dlcourse/tables/grades_test.csv"} <= names
    python, site = fresh_venv(tmp_path / "venv")
    probe = [python, "-c", "import importlib.util; print(importlib.util.find_spec('dlcourse'))"]
    assert subprocess.run(probe, cwd=tmp_path, capture_output=True, text=True).stdout == "None\n"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True)
    for name in ("grades_train.csv", "grades_test.csv"):  # the one source, copied unchanged
        assert (site / "dlcourse" / "tables" / name).read_bytes() == (ROOT / "data" / name).read_bytes()
    done = run_alone(python, {lesson: submission(lesson) for lesson in LESSONS},
                     tmp_path / "alone", kernel_env(tmp_path, python))
    assert sorted(done) == sorted(LESSONS)
    for nb in done.values():
        assert_checks_pass_from(site, nb)
        # The Colab block is silent where dlcourse is installed (lesson 05 prints its seed).
        assert SETUP_BLOCK_MESSAGE not in text(colab.setup_cells(nb)[0])


@pytest.mark.slow
def test_colab_block_installs_the_course_and_is_silent_once_installed(wheel, tmp_path):
    """The setup cell's Colab branch with a local wheel standing in for the repository and a
    stand-in ``google.colab`` on the path: it installs the course (torch and the rest already
    there stay) and the lesson runs; run again with dlcourse importable, it does nothing."""
    python, site = fresh_venv(tmp_path / "venv")
    marker = tmp_path / "colab-marker"
    (marker / "google" / "colab").mkdir(parents=True)
    (marker / "google" / "__init__.py").write_text("")
    (marker / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab."""\n')
    env = kernel_env(tmp_path, python, PYTHONPATH=str(marker))
    lesson = "03_loss"
    nb = submission(lesson)
    setup = colab.setup_cells(nb)[0]
    assert setup.source.count(f'"{colab.install_spec()}"') == 1
    setup.source = setup.source.replace(colab.install_spec(), str(wheel))
    done = run_alone(python, {lesson: nb}, tmp_path / "colab", env)[lesson]
    assert text(colab.setup_cells(done)[0]) == SETUP_BLOCK_MESSAGE + "\n"
    assert_checks_pass_from(site, done)
    torch_dist = subprocess.run([python, "-c", "import torch; print(torch.__file__)"],
                                capture_output=True, text=True, env=env).stdout.strip()
    assert torch_dist == str(Path(sysconfig.get_paths()["purelib"]) / "torch" / "__init__.py")
    # Installed now: the block must not run (a missing wheel path would make pip fail).
    again = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        setup.source.replace(str(wheel), str(tmp_path / "missing.whl")))])
    again.cells[0].metadata = setup.metadata
    rerun = run_alone(python, {"again": again}, tmp_path / "again", env)["again"]
    assert rerun.cells[0].outputs == []


def test_readme_and_setup_cells_follow_the_one_repository_constant():
    """REPOSITORY in autograder/authoring/colab.py is named nowhere else by hand: every solution and
    student setup cell opens with the generated Colab block, and the README links each lesson."""
    assert colab.sync(write=False) == []
    block = colab.setup_block()
    for lesson in LESSONS:
        for folder in ("solutions", "notebooks"):
            nb = nbformat.read(ROOT / folder / lesson / f"{lesson}.ipynb", as_version=4)
            assert colab.setup_cells(nb)[0].source.startswith(block)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for lesson in LESSONS:
        assert f"]({colab.colab_url(lesson)})" in readme
    assert colab.colab_url("01_neuron", "https://github.com/a/b", "dev") == (
        "https://colab.research.google.com/github/a/b/blob/dev/notebooks/01_neuron/01_neuron.ipynb")


def test_a_fork_changes_the_repository_once(tmp_path, monkeypatch):
    """With another REPOSITORY, sync rewrites every setup cell's block and the README table (on a
    copy of the course), and a second sync finds nothing left to change."""
    for part in ("solutions", "README.md"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / part)
    monkeypatch.setattr(colab, "REPOSITORY", "https://github.com/fork/course")
    changed = colab.sync(write=True, root=tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in changed) == sorted(
        [f"solutions/{n}/{n}.ipynb" for n in LESSONS] + ["README.md"])
    assert colab.sync(write=False, root=tmp_path) == []
    for lesson in LESSONS:
        nb = nbformat.read(tmp_path / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
        source = colab.setup_cells(nb)[0].source
        assert source.count("git+https://github.com/fork/course@main") == 1
        assert source.count(colab.BEGIN) == 1  # replaced, not stacked
        # everything after the block is the lesson's own setup, unchanged
        original = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
        own = colab.setup_cells(original)[0].source.split(colab.END, 1)[1]
        assert source.split(colab.END, 1)[1] == own
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "colab.research.google.com/github/fork/course/blob/main/notebooks/" in readme
    assert "dl-basics/dl-basics-course" not in readme.split(colab.README_BEGIN)[1].split(
        colab.README_END)[0]


def imports(source: str) -> set[str]:
    """Top-level names of the modules ``source`` imports (absolute imports only)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def dlcourse_modules(source: str, package: str = "") -> set[str]:
    """Modules of dlcourse that ``source`` imports (``package``: the importing module's package,
    for relative imports inside dlcourse), as file stems: ``__init__``, ``check``, ``data``..."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            names = [module] + [f"{module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "dlcourse":
                found.add("__init__")
                if len(parts) > 1 and (ROOT / "dlcourse" / f"{parts[1]}.py").is_file():
                    found.add(parts[1])
    return found


def test_colab_installs_what_the_notebooks_import():
    """The Colab block installs by name every third-party package that the setup cells and the
    dlcourse modules they load (followed import by import, lazy imports included) import."""
    sources = []
    for lesson in LESSONS:
        nb = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
        sources.append(colab.setup_cells(nb)[0].source)
    todo = set().union(*(dlcourse_modules(src) for src in sources))
    seen: set[str] = set()
    while todo:
        stem = todo.pop()
        seen.add(stem)
        source = (ROOT / "dlcourse" / f"{stem}.py").read_text(encoding="utf-8")
        sources.append(source)
        todo |= dlcourse_modules(source, "dlcourse") - seen
    assert {"__init__", "check", "data", "lesson06"} <= seen
    assert "validate" not in seen  # Validate (nbgrader's world) is not on the Colab path
    imported = set().union(*map(imports, sources))
    third_party = imported - set(sys.stdlib_module_names) - {"dlcourse", "google"}
    # IPython is the kernel itself.
    assert third_party <= set(colab.RUNTIME) | {"IPython"}, third_party - set(colab.RUNTIME)


# ------------------------------------------------------------------ Windows and macOS

POSIX_ONLY = {"fcntl", "resource", "pwd", "grp", "termios", "tty", "pty", "posix", "crypt",
              "spwd", "syslog", "readline", "curses"}


def test_student_path_uses_no_posix_only_module():
    """dlcourse (its lab included) imports nothing that Windows lacks, and names no POSIX
    folder."""
    student = list((ROOT / "dlcourse").glob("*.py"))
    for path in student:
        assert not imports(path.read_text(encoding="utf-8")) & POSIX_ONLY, path
    for path in (ROOT / "dlcourse").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"[\"'](/tmp|/proc|/usr|/dev|~/)", source), path
    assert imports("import fcntl\nfrom os import path") == {"fcntl", "os"}


def dlcourse_cmd(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcourse", *args], cwd=ROOT,
                          capture_output=True, env={**os.environ, **env})


def test_python_entry_point_usage_and_lab():
    usage = dlcourse_cmd()
    assert usage.returncode == 2
    assert "python -m dlcourse {lab [FOLDER] | validate NOTEBOOK...}" in usage.stderr.decode()
    missing = dlcourse_cmd("lab", "no-such-folder")
    assert (missing.returncode, missing.stderr.decode()) == (
        2, "폴더가 없습니다 (no such folder): no-such-folder\n")
    # The same JupyterLab command line as ./course lab; --version makes it answer and exit.
    version = dlcourse_cmd("lab", "--version")
    assert (version.returncode, version.stdout.decode().strip()) == (0, pins()["jupyterlab"])


@pytest.mark.slow
def test_python_entry_point_validates_on_a_cp949_console(tmp_path):
    """``python -m dlcourse validate`` on a Korean Windows console's encoding: the passing and
    the failing notebook are reported (nothing lost to UnicodeEncodeError), exit status 1."""
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(submission("01_neuron"), good)
    nbformat.write(submission("01_neuron", reference=False), bad)
    proc = dlcourse_cmd("validate", str(good), str(bad), PYTHONIOENCODING="cp949")
    out, err = proc.stdout.decode("cp949"), proc.stderr.decode("cp949", "replace")
    assert proc.returncode == 1, out + err
    assert "UnicodeEncodeError" not in err
    assert f"\n{good}: 통과 (OK) " in f"\n{out}", out
    assert re.search(rf"^{re.escape(str(bad))}: 검사 \d+개 실패 \(tests failed\)$", out, re.M), out


# ------------------------------------------------------------------ GPU


@pytest.mark.slow
def test_lesson06_trains_on_cuda_when_there_is_a_gpu(tmp_path):
    """Lesson 06 end to end (reference answers) with the device it picks itself: cuda."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip(f"no CUDA device (torch {torch.__version__}, "
                    f"built with CUDA {torch.version.cuda}): lesson 06 ran on CPU only")
    lesson = "06_grade_classifier"
    saved = os.environ.pop("DLCOURSE_DEVICE", None)
    try:
        nb = execute(submission(lesson), tmp_path, timeout=600, grading=False)
    finally:
        if saved is not None:
            os.environ["DLCOURSE_DEVICE"] = saved
    outputs = "".join(text(c) for c in nb.cells)
    assert "사용할 장치 (device): cuda" in outputs
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert all("통과 (OK)" in text(c) for c in tests), [text(c) for c in tests]
