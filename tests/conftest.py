"""Shared test settings.

Tests that need a system service (bubblewrap, Chromium, PostgreSQL) skip with the reason on a
machine without it; CI sets DLCOURSE_REQUIRE_SERVICES=1, which turns those skips into failures.
"""

import os
import shutil

import pytest

from autograder import lessons

LESSONS = lessons()
REQUIRE_SERVICES = os.environ.get("DLCOURSE_REQUIRE_SERVICES") == "1"
# The tests run notebooks side by side (xdist workers, grading pools, JupyterLab): with one
# thread each, torch's OpenMP threads do not spin against one another on a small machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def need(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) unless ``condition``."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def bwrap():
    need(shutil.which("bwrap") is not None,
         "bubblewrap is not installed (apt-get install bubblewrap): grading runs kernels in it")


def pytest_collection_modifyitems(config, items):
    if not LESSONS:
        raise pytest.UsageError("no lessons found under solutions/")
