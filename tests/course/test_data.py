import hashlib

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits

from dlcourse.data import DATA_DIR, FEATURES, GRADES, LABEL, load_grades, to_tensors
from dlcourse.lesson07 import PIXEL_MAX, digits

CHECKSUMS = {
    "grades_train.csv": "b01d2b527dc148ac5db3e3ee0dceae1c2a60c61d9bb7b957b8cbc5fe5017f262",
    "grades_test.csv": "48881372235e4518172436f4b92c0fa5ae6aead0edde438bbf97abe0e5b204be",
}


@pytest.mark.parametrize("name", sorted(CHECKSUMS))
def test_checksum(name):
    assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == CHECKSUMS[name]


@pytest.mark.parametrize("split,rows", [("train", 17), ("test", 5)])
def test_tables_match_the_lecture(split, rows):
    df = load_grades(split)
    assert list(df.columns) == ["ID", *FEATURES, LABEL]
    assert len(df) == rows
    assert df["ID"].is_unique
    assert df[FEATURES].apply(lambda s: s.between(0, 100).all()).all()
    assert set(df[LABEL]) <= set(GRADES)


def test_first_and_last_rows_are_the_lectures():
    train, test = load_grades("train"), load_grades("test")
    assert train.iloc[0].tolist() == [1120, 80, 89, 97, 92, 88, "A"]
    assert train.iloc[-1].tolist() == [1937, 29, 81, 71, 62, 57, "C"]
    assert test.iloc[-1].tolist() == [1219, 100, 72, 79, 45, 50, "C"]


def test_to_tensors_maps_grades_to_indices():
    x, y = to_tensors(load_grades("test"))
    assert x.shape == (5, 5) and x.dtype == torch.float32
    assert y.tolist() == [0, 1, 1, 2, 2]
    assert x[0].tolist() == [81, 72, 100, 89, 95]


def test_unknown_split_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown split"):
        load_grades("validation")


def test_files_are_utf8_csv_with_korean_headers():
    text = (DATA_DIR / "grades_train.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "ID,중간,기말,과제1,과제2,프로젝트,학점"
    assert isinstance(pd.read_csv(DATA_DIR / "grades_train.csv"), pd.DataFrame)


def test_lesson07_digits_are_scikit_learns():
    """dlcourse.lesson07.digits() reads scikit-learn's bundled file without importing sklearn:
    the same 1,797 images (pixels / 16) and digits, in the same order, as load_digits()."""
    X, y = digits()
    data = load_digits()
    assert (X.shape, X.dtype, y.shape, y.dtype) == ((1797, 64), torch.float32, (1797,), torch.int64)
    assert np.array_equal(X.numpy(), (data.data / PIXEL_MAX).astype(np.float32))
    assert np.array_equal(y.numpy(), data.target)
    assert y.bincount().tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
