"""Helpers for lesson 05 (가중치 갱신, the optimizer step): loss curves and the path of the two
weights of a one-input linear model on its loss surface. Nothing here updates a weight; that is
the lesson's work.

Figure text is Korean with the English key phrase, in NanumGothic (:mod:`dlcourse.plotting`;
importing this module selects it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .plotting import use_korean_font

use_korean_font()


def plot_loss_curves(curves: Mapping[str, Sequence[float]], *, ax=None, logy: bool = True,
                     title: str | None = None, ylim: tuple[float, float] | None = None):
    """One line per entry of ``curves``: ``{label: losses}``, ``losses`` a sequence of floats
    (one per epoch, length ``E``; lengths may differ). Non-finite losses (a diverged run) are
    left out of the line. ``logy`` draws the loss on a log scale. Returns the ``Axes``."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for label, losses in curves.items():
        values = np.asarray([float(v) for v in losses], dtype=np.float64)
        epochs = np.arange(len(values))
        keep = np.isfinite(values)
        ax.plot(epochs[keep], values[keep], lw=2, label=label)
    if logy:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("에포크 (epoch)")
    ax.set_ylabel("손실 (loss)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    return ax


def mse_surface(x, y, w_range: tuple[float, float], b_range: tuple[float, float],
                n: int = 121):
    """The mean squared error of the model ``y_hat = w * x + b`` on a grid of ``(w, b)``.

    ``x``, ``y``: ``(N, 1)`` or ``(N,)`` tensors or arrays. Returns ``(W, B, L)``, three
    ``(n, n)`` float64 arrays (``W`` varies along columns, ``B`` along rows)."""
    xs = np.asarray(x, dtype=np.float64).reshape(-1)
    ys = np.asarray(y, dtype=np.float64).reshape(-1)
    W, B = np.meshgrid(np.linspace(*w_range, n), np.linspace(*b_range, n))
    pred = W[..., None] * xs + B[..., None]  # (n, n, N)
    L = ((pred - ys) ** 2).mean(axis=-1)
    return W, B, L


def plot_weight_paths(x, y, paths: Mapping[str, Sequence[Sequence[float]]], *,
                      w_range: tuple[float, float] = (-0.5, 4.0),
                      b_range: tuple[float, float] = (-2.5, 2.0), ax=None,
                      title: str | None = None):
    """Contours of the MSE of ``y_hat = w * x + b`` (see :func:`mse_surface`) and, for each entry
    of ``paths`` (``{label: points}``, ``points`` of shape ``(T, 2)``: the ``(w, b)`` after 0,
    1, …, T-1 steps), the path the two weights took. The start is a circle, the end a star.
    Returns the ``Axes``."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.8))
    W, B, L = mse_surface(x, y, w_range, b_range)
    levels = np.geomspace(max(L.min(), 1e-3), L.max(), 18)
    cs = ax.contour(W, B, L, levels=levels, cmap="viridis", linewidths=0.8)
    ax.clabel(cs, cs.levels[::3], fontsize=7, fmt="%.2g")
    for label, points in paths.items():
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        line, = ax.plot(pts[:, 0], pts[:, 1], ".-", lw=1.4, ms=3, label=label)
        ax.plot(*pts[0], "o", color=line.get_color(), ms=7)
        ax.plot(*pts[-1], "*", color=line.get_color(), ms=12)
    i, j = np.unravel_index(np.argmin(L), L.shape)
    ax.plot(W[i, j], B[i, j], "x", color="black", ms=9, label="최솟값 (격자)")
    ax.set_xlim(*w_range)
    ax.set_ylim(*b_range)
    ax.set_xlabel("가중치 w")
    ax.set_ylabel("편향 b")
    ax.set_aspect("equal")  # so that "perpendicular to the contours" looks perpendicular
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return ax
