"""The lecture's grade tables (``data/``), loaded with pandas.

The tables are package data, ``dlcourse/tables/`` (:data:`DATA_DIR`, read with
``importlib.resources``), so an installed course (a wheel, e.g. in Colab) has them as well as a
checkout; they are byte-for-byte copies of ``data/``, their documented source (a test compares).

Columns: ``ID`` (student number), five scores out of 100 (:data:`FEATURES`) and the letter grade
``학점`` (A, B or C). Class indices follow :data:`GRADES`: A=0, B=1, C=2.
"""

from importlib.resources import files
from importlib.resources.abc import Traversable

import pandas as pd
import torch

#: The folder of the grade tables inside the installed package (a ``Traversable``).
DATA_DIR: Traversable = files(__package__) / "tables"
FEATURES = ["중간", "기말", "과제1", "과제2", "프로젝트"]
LABEL = "학점"
GRADES = ["A", "B", "C"]
SPLITS = {"train": "grades_train.csv", "test": "grades_test.csv"}


def load_grades(split: str = "train") -> pd.DataFrame:
    """The ``train`` (17 rows) or ``test`` (5 rows) table, Korean headers kept."""
    if split not in SPLITS:
        raise ValueError(f"split은 {sorted(SPLITS)} 중 하나여야 합니다 (unknown split): {split!r}")
    with (DATA_DIR / SPLITS[split]).open("rb") as f:
        return pd.read_csv(f, encoding="utf-8", dtype={"ID": int, LABEL: str})


def to_tensors(df: pd.DataFrame, dtype: torch.dtype = torch.float32):
    """Raw scores and class indices: ``x: (N, 5) float``, ``y: (N,) long`` (A=0, B=1, C=2)."""
    x = torch.tensor(df[FEATURES].to_numpy(), dtype=dtype)
    y = torch.tensor(df[LABEL].map(GRADES.index).to_numpy(), dtype=torch.long)
    return x, y
