"""Shared test settings.

Tests that need a system service (bubblewrap, Chromium, PostgreSQL) skip with the reason on a
machine without it; CI sets DLCOURSE_REQUIRE_SERVICES=1, which turns those skips into failures.
"""

import os
import pickle
import shutil
import subprocess
import tempfile
import traceback
from pathlib import Path

import pytest
from filelock import FileLock

from autograder import lessons
from dlcourse.lab import free_port

LESSONS = lessons()
REQUIRE_SERVICES = os.environ.get("DLCOURSE_REQUIRE_SERVICES") == "1"
#: What ipykernel prints when a kernel starts over TCP without CurveZMQ keys.
TCP_WARNING = "Kernel is running over TCP without encryption"
# The tests run notebooks side by side (xdist workers, grading pools, JupyterLab): with one
# thread each, torch's OpenMP threads do not spin against one another on a small machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def session_folder(tmp_path_factory, name: str) -> Path:
    """A folder ``name`` that every pytest-xdist worker of this test session shares (created):
    beside the workers' own basetemps, or in the basetemp without xdist. Work done once per
    session goes there, under a ``filelock.FileLock``."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def once_per_session(tmp_path_factory, name: str, make):
    """``make(folder)``'s result, made once per test session in :func:`session_folder` ``name``
    by whichever pytest-xdist worker asks first and read back (pickled) by the others, so a
    module's expensive grading is not repeated when its tests are split between workers. The
    tests must only read what it made. When ``make`` raised, every later caller fails with its
    traceback instead of making it again."""
    folder = session_folder(tmp_path_factory, name)
    done, failed = folder / "made.pickle", folder / "failed.txt"
    with FileLock(str(folder) + ".lock"):
        if not done.exists() and not failed.exists():
            try:
                done.write_bytes(pickle.dumps(make(folder)))
            except BaseException:
                failed.write_text(traceback.format_exc(), encoding="utf-8")
                raise
    if failed.exists():
        pytest.fail(f"{name}: made by another worker, which failed:\n"
                    + failed.read_text(encoding="utf-8"))
    return pickle.loads(done.read_bytes())


def need(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) unless ``condition``."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def bwrap():
    from .support.integrity_helpers import require_bwrap

    require_bwrap()


def pytest_collection_modifyitems(config, items):
    if not LESSONS:
        raise pytest.UsageError("no lessons found under solutions/")


#: Debian's Chromium, driven by Playwright (never a downloaded browser).
CHROMIUM = Path(os.environ.get("DLCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    need(CHROMIUM.exists(),
         f"Chromium is not installed at {CHROMIUM} (apt-get install chromium): "
         "the browser test drives it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres():
    bin_dir = _pg_bin()
    need(bin_dir is not None, "PostgreSQL is not installed (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="dlcourse-pg-"))  # pytest's tmp is private to root
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                                 "--auth=trust", "-E", "UTF8"]), check=True, capture_output=True)
    opts = f"-k {sock} -p {port} -c listen_addresses='' -c max_connections=50"
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-w",
                                 "-l", str(base / "log"), "start"]), check=True,
                   capture_output=True)
    try:
        subprocess.run(_as_postgres([str(bin_dir / "createdb"), "-h", str(sock), "-p", str(port),
                                     "-U", "postgres", "gradebook"]), check=True)
        yield f"postgresql+psycopg2://postgres@/gradebook?host={sock}&port={port}"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                                     "immediate", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
