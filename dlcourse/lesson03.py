"""Pictures for lesson 03 (손실 함수, loss): how a loss grows as the prediction leaves the label.

Figure text is Korean with the English key phrase, in NanumGothic (:mod:`dlcourse.plotting`;
importing this module selects it).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import matplotlib.pyplot as plt
import torch

from .plotting import use_korean_font

use_korean_font()

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def plot_regression_losses(losses: dict[str, LossFn], span: float = 3.0, label: float = 0.0,
                           ax=None):
    """Draw ``loss(pred, target)`` for every ``name: loss`` in ``losses`` while the prediction
    moves from ``label - span`` to ``label + span``.

    Each loss is called with ``pred: (1,) float64`` and ``target: (1,) float64`` and must return
    a 0-dim tensor (or a number). Returns the matplotlib ``Axes``.
    """
    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    preds = torch.linspace(label - span, label + span, 121, dtype=torch.float64)
    target = torch.tensor([label], dtype=torch.float64)
    for name, fn in losses.items():
        values = [float(fn(p.reshape(1), target)) for p in preds]
        ax.plot(preds.numpy(), values, label=name)
    ax.axvline(label, color="gray", lw=0.8, ls="--")
    ax.set_xlabel(f"예측 (레이블 = {label:g})")
    ax.set_ylabel("손실 (loss)")
    ax.set_title("숫자 예측의 손실 (regression losses)")
    ax.legend()
    return ax


def plot_cross_entropy(num_classes: int = 3, ax=None):
    """Draw the cross-entropy ``-ln p`` against ``p``, the probability the model gives to the
    right class, and mark ``p = 1/num_classes`` (a model that guesses uniformly: loss ``ln C``).
    Returns the matplotlib ``Axes``."""
    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    p = torch.linspace(0.01, 1.0, 200, dtype=torch.float64)
    ax.plot(p.numpy(), (-torch.log(p)).numpy(), label="교차 엔트로피 = -ln p")
    p0, l0 = 1.0 / num_classes, math.log(num_classes)
    ax.plot([p0], [l0], "o", color="C3")
    ax.annotate(f"균등한 추측 p = 1/{num_classes}\n손실 = ln {num_classes} = {l0:.3f}",
                (p0, l0), xytext=(p0 + 0.12, l0 + 1.2), arrowprops={"arrowstyle": "->"})
    ax.set_xlabel("정답 클래스에 준 확률 p")
    ax.set_ylabel("손실 (loss)")
    ax.set_title("교차 엔트로피 (cross-entropy)")
    ax.legend()
    return ax


__all__ = ["plot_regression_losses", "plot_cross_entropy"]
