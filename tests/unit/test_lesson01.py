"""Lesson 01's slider challenge gives feedback: the figure's title counts the students the line
gets right (issue 25 item 6: 16 of 17 is reachable, and the title said only w and b)."""

import torch

from dlcourse.data import GRADES, load_grades, to_tensors
from dlcourse.lesson01 import explorer_title


def test_the_slider_title_counts_the_students_the_line_gets_right():
    x, y = to_tensors(load_grades("train"))
    X2, is_a = x[:, :2] / 100, (y == GRADES.index("A")).long()

    def neuron(w1, w2, b):
        return lambda G: torch.sigmoid(G @ torch.tensor([w1, w2]) + b)

    assert explorer_title(neuron(10.0, 10.0, -17.25), X2, is_a, 10.0, 10.0, -17.25) == (
        "w = (10.0, 10.0), b = -17.2: 17명 중 15명 맞힘")
    assert explorer_title(neuron(5.0, 7.5, -10.5), X2, is_a, 5.0, 7.5, -10.5).endswith(
        "17명 중 16명 맞힘")
