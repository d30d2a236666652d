"""Each graded cell's status, stored in the gradebook's own database beside nbgrader's tables.

nbgrader keeps a number per test cell; this table says what the number means: ``graded``,
``timed out``, ``crashed``, ``not run``, ``missing`` or why a file could not be read. It lives in the
same SQLite or PostgreSQL database (``db_url``), so it travels and is backed up with the grades.
"""

from __future__ import annotations

import time

from sqlalchemy import (
    Column,
    Float,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError

metadata = MetaData()
cell_status = Table(
    "dlcourse_cell_status", metadata,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("notebook", String(128), primary_key=True),
    Column("cell", String(128), primary_key=True),  # "" is the notebook itself
    Column("status", String(32), nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("seconds", Float),
    Column("updated", Float, nullable=False),
)

_engines: dict[str, object] = {}


def engine(db_url: str):
    """The engine of ``db_url``, its status table created on first use. Grading workers reach a
    fresh gradebook at the same moment: the one that loses the race to create the table (SQLite:
    "already exists", PostgreSQL: a duplicate key in its catalog) finds it made by the other."""
    if db_url not in _engines:
        eng = create_engine(db_url)
        try:
            metadata.create_all(eng)
        except DBAPIError:
            if not inspect(eng).has_table(cell_status.name):
                raise
        _engines[db_url] = eng
    return _engines[db_url]


def save(db_url, assignment, student, notebook, nb_status, nb_message, seconds, cells):
    """Replace the statuses of one notebook in one transaction. ``cells``: (cell, status, msg)."""
    now = time.time()
    rows = [dict(assignment=assignment, student=student, notebook=notebook, cell="",
                 status=nb_status, message=nb_message or "", seconds=seconds, updated=now)]
    rows += [dict(assignment=assignment, student=student, notebook=notebook, cell=c,
                  status=s, message=m or "", seconds=None, updated=now) for c, s, m in cells]
    key = (cell_status.c.assignment == assignment) & (cell_status.c.student == student) & (
        cell_status.c.notebook == notebook)
    with engine(db_url).begin() as conn:
        conn.execute(delete(cell_status).where(key))
        conn.execute(insert(cell_status), rows)


def load(db_url) -> dict[tuple[str, str, str, str], dict]:
    """``{(assignment, student, notebook, cell): row}`` for the whole gradebook."""
    with engine(db_url).connect() as conn:
        return {(r.assignment, r.student, r.notebook, r.cell): r._asdict()
                for r in conn.execute(select(cell_status))}
