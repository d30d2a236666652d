"""Lesson 02's figures name the inputs as the data does (중간, 기말, 과제1, …), not in English."""

import torch

from dlcourse.data import FEATURES
from dlcourse.lesson02 import plot_activations


def test_the_input_bars_are_labelled_with_the_tables_column_names():
    fig = plot_activations(torch.ones(5), torch.ones(16), torch.ones(9), torch.ones(3) / 3)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == FEATURES
