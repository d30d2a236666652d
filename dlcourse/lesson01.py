"""Pictures for lesson 01 (a neuron is logistic regression).

Nothing here computes a neuron: every function that needs probabilities takes a ``prob_fn``
(for example ``lambda G: neuron_forward(G, w, b)`` with the student's own function). Figure text is Korean with the English key phrase, in NanumGothic (:mod:`dlcourse.plotting`;
importing this module selects it).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Circle, FancyArrowPatch

from . import grading
from .plotting import use_korean_font

use_korean_font()

ProbFn = Callable[[torch.Tensor], torch.Tensor]


def draw_neuron(ax=None, n_inputs: int = 3):
    """A schematic artificial neuron: inputs x_1..x_n, weights w_i on the arrows, a bias b,
    the weighted sum z and the sigmoid, and the output probability p. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.6))
    ys = np.linspace(2.6, 0.6, n_inputs)
    cx, cy, r = 4.6, 1.6, 0.55
    for i, y in enumerate(ys, start=1):
        ax.add_patch(Circle((1.0, y), 0.3, fc="#dbe9f6", ec="#2b6cb0"))
        ax.text(1.0, y, f"$x_{i}$", ha="center", va="center", fontsize=13)
        end = (cx - r * 1.05, cy + (y - cy) * 0.35)
        ax.add_patch(FancyArrowPatch((1.32, y), end, arrowstyle="-|>", mutation_scale=14,
                                     color="#555"))
        ax.text(2.1, y + (end[1] - y) * 0.3 + 0.08, f"$w_{i}$", fontsize=12, color="#2b6cb0",
                ha="center", va="bottom")
    ax.text(cx, cy + 1.15, "편향 (bias) b", ha="center", fontsize=11, color="#555")
    ax.add_patch(FancyArrowPatch((cx, cy + 1.08), (cx, cy + r + 0.02), arrowstyle="-|>",
                                 mutation_scale=12, color="#555"))
    ax.add_patch(Circle((cx, cy), r, fc="#fdebd3", ec="#c05621", lw=2))
    ax.text(cx, cy, r"$\Sigma \;\rightarrow\; \sigma$", ha="center", va="center", fontsize=14)
    ax.add_patch(FancyArrowPatch((cx + r + 0.02, cy), (7.0, cy), arrowstyle="-|>",
                                 mutation_scale=16, color="#c05621", lw=2))
    ax.text(7.1, cy, r"$p = \sigma(z)$", va="center", fontsize=13)
    ax.text(cx + 1.25, cy - 0.55, r"$z = \sum_i w_i x_i + b$", ha="center", fontsize=11)
    label = dict(ha="center", va="top", fontsize=9, color="#555")
    ax.text(1.0, 0.05, "입력\n(수상돌기)", **label)
    ax.text(2.4, 0.05, "가중치\n(시냅스)", **label)
    ax.text(cx, 0.05, "가중합 + 활성화\n(세포체)", **label)
    ax.text(7.6, 0.05, "출력\n(축삭)", **label)
    ax.set_xlim(0.4, 8.6)
    ax.set_ylim(-0.6, 3.0)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def plot_sigmoid(z: torch.Tensor, p: torch.Tensor, ax=None, threshold: float = 0.5):
    """The curve ``p`` against ``z`` (both ``(M,)`` tensors, ``z`` increasing), with the
    threshold line and the point ``z = 0, p = 0.5`` marked. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    z_np, p_np = z.detach().cpu().numpy(), p.detach().cpu().numpy()
    ax.plot(z_np, p_np, lw=2.5, color="#2b6cb0", label=r"$\sigma(z)$")
    ax.axhline(threshold, ls="--", color="#c05621", lw=1, label=f"임계값 (threshold) {threshold:g}")
    ax.axhline(0, color="#999", lw=0.8)
    ax.axhline(1, color="#999", lw=0.8)
    ax.axvline(0, color="#999", lw=0.8)
    ax.fill_between(z_np, 0, 1, where=p_np >= threshold, color="#c05621", alpha=0.08,
                    label="1로 판정 (predict 1)")
    ax.set_xlabel("z = w . x + b")
    ax.set_ylabel("p = sigmoid(z)")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="upper left", fontsize=9)
    return ax


def plot_probability_map(prob_fn: ProbFn, X: torch.Tensor, y: torch.Tensor, ax=None, *,
                         xlim=(0.0, 1.05), ylim=(0.0, 1.05), xlabel: str = "x1",
                         ylabel: str = "x2", class_names=("0", "1"), title: str | None = None,
                         resolution: int = 120):
    """Shade ``p = prob_fn(G)`` over a grid ``G: (M, 2)`` of the plane (float32), draw the
    decision boundary ``p = 0.5`` and scatter the points ``X: (N, 2)`` coloured by ``y: (N,)``
    (0 or 1). ``prob_fn`` must return ``(M,)`` probabilities. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.2))
    gx = torch.linspace(xlim[0], xlim[1], resolution)
    gy = torch.linspace(ylim[0], ylim[1], resolution)
    mx, my = torch.meshgrid(gx, gy, indexing="xy")
    grid = torch.stack([mx.reshape(-1), my.reshape(-1)], dim=1)
    with torch.no_grad():
        p = prob_fn(grid).detach().cpu().reshape(resolution, resolution).numpy()
    ax.contourf(mx.numpy(), my.numpy(), p, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                alpha=0.35, vmin=0, vmax=1)
    if p.min() < 0.5 < p.max():
        ax.contour(mx.numpy(), my.numpy(), p, levels=[0.5], colors="k", linewidths=2)
    Xn, yn = X.detach().cpu().numpy(), y.detach().cpu().numpy()
    for label, marker, color in ((0, "o", "#2b6cb0"), (1, "^", "#c05621")):
        pts = Xn[yn == label]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, s=70, c=color, edgecolors="k",
                   label=class_names[label], zorder=3)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(loc="lower left", fontsize=9)
    return ax


def widgets_available() -> bool:
    """True when an interactive slider can work: not grading, ``ipywidgets`` importable and
    running inside a Jupyter kernel (a browser or editor front end may be attached)."""
    if grading():
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def explorer_title(prob_fn: ProbFn, X: torch.Tensor, y: torch.Tensor, w1: float, w2: float,
                   b: float) -> str:
    """The slider figure's title: the weights and how many of the ``N`` rows of ``X (N, 2)`` the
    neuron gets right (``prob_fn(X) >= 0.5`` predicts 1; ``y (N,)`` holds 0/1 labels), e.g.
    ``'w = (5.0, 7.5), b = -10.5: 17명 중 16명 맞힘'``."""
    with torch.no_grad():
        right = int(((prob_fn(X) >= 0.5).long() == y.long()).sum())
    return f"w = ({w1:.1f}, {w2:.1f}), b = {b:.1f}: {len(y)}명 중 {right}명 맞힘"


def boundary_explorer(make_prob_fn: Callable[[float, float, float], ProbFn], X: torch.Tensor,
                      y: torch.Tensor, w1: float, w2: float, b: float, **plot_kw) -> bool:
    """Sliders for ``w1, w2, b`` redrawing :func:`plot_probability_map` with
    ``make_prob_fn(w1, w2, b)``, titled with how many of ``y`` it gets right
    (:func:`explorer_title`); does nothing (returns ``False``) where widgets cannot work
    (see :func:`widgets_available`), so a static figure must always be drawn as well."""
    if not widgets_available():
        return False
    import ipywidgets as widgets

    def draw(w1, w2, b):
        _, ax = plt.subplots(figsize=(5, 4.2))
        prob_fn = make_prob_fn(w1, w2, b)
        plot_probability_map(prob_fn, X, y, ax=ax, title=explorer_title(prob_fn, X, y, w1, w2, b),
                             **plot_kw)
        plt.show()

    slider = dict(continuous_update=False, step=0.5)
    widgets.interact(draw,
                     w1=widgets.FloatSlider(value=w1, min=-20, max=20, **slider),
                     w2=widgets.FloatSlider(value=w2, min=-20, max=20, **slider),
                     b=widgets.FloatSlider(value=b, min=-40, max=40, **slider))
    return True
