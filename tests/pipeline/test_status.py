"""The per-cell status table (``autograder.pipeline.status``) when grading workers first reach a gradebook.

Workers of ``./course grade`` that finish their first notebooks at the same moment all find the
status table missing and create it; the one that loses that race must still record its
statuses (it used to fail with "table already exists", which zeroed that student's notebook as a
grader error).
"""

import os
import time
from multiprocessing import get_context

import pytest
from sqlalchemy import create_engine, text

from autograder.pipeline import status

TRIALS = 10


def _save_at(url: str, start: float) -> str:
    """Record one notebook's statuses at ``start`` (a spawned process: no engine cached)."""
    while time.time() < start:
        pass
    try:
        status.save(url, "01_neuron", f"s{os.getpid()}", "01_neuron", "graded", "", 1.0,
                    [("check_a", "graded", "통과 (OK)")])
        return "ok"
    except Exception as err:
        return f"{type(err).__name__}: {err}"[:300]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_workers_create_the_status_table_at_once(backend, tmp_path, request):
    if backend == "postgres":
        base = request.getfixturevalue("postgres")
        urls = [f"{base}&application_name=race{i}" for i in range(TRIALS)]
    else:
        urls = [f"sqlite:///{tmp_path / f'gradebook{i}.db'}?timeout=300" for i in range(TRIALS)]
    with get_context("spawn").Pool(2) as pool:
        pool.map(time.sleep, [0, 0])  # both workers started
        for url in urls:
            eng = create_engine(url)
            with eng.begin() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {status.cell_status.name}"))
            eng.dispose()
            start = time.time() + 0.3
            got = pool.starmap(_save_at, [(url, start), (url, start)])
            assert got == ["ok", "ok"], got
            rows = status.load(url)
            assert len(rows) == 4, (url, rows)  # two notebooks, each a notebook and a cell row
