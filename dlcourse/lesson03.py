"""Pictures for lesson 03 (오차 함수, loss): how a loss grows as the prediction leaves the label.

Plot labels are in English because the course does not ship a Korean font for matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import matplotlib.pyplot as plt
import torch

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
    ax.set_xlabel(f"prediction (label = {label:g})")
    ax.set_ylabel("loss")
    ax.set_title("Regression losses")
    ax.legend()
    return ax


def plot_cross_entropy(num_classes: int = 3, ax=None):
    """Draw the cross-entropy ``-ln p`` against ``p``, the probability the model gives to the
    right class, and mark ``p = 1/num_classes`` (a model that guesses uniformly: loss ``ln C``).
    Returns the matplotlib ``Axes``."""
    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    p = torch.linspace(0.01, 1.0, 200, dtype=torch.float64)
    ax.plot(p.numpy(), (-torch.log(p)).numpy(), label="cross-entropy = -ln p")
    p0, l0 = 1.0 / num_classes, math.log(num_classes)
    ax.plot([p0], [l0], "o", color="C3")
    ax.annotate(f"uniform guess p = 1/{num_classes}\nloss = ln {num_classes} = {l0:.3f}",
                (p0, l0), xytext=(p0 + 0.12, l0 + 1.2), arrowprops={"arrowstyle": "->"})
    ax.set_xlabel("probability given to the right class")
    ax.set_ylabel("loss")
    ax.set_title("Cross-entropy")
    ax.legend()
    return ax


__all__ = ["plot_regression_losses", "plot_cross_entropy"]
