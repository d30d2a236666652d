"""Pictures for lesson 02 (순전파, forward propagation): the network's layers and one student's
hidden activations.

Figure text is Korean with the English key phrase, in NanumGothic (:mod:`dlcourse.plotting`;
importing this module selects it).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.collections import LineCollection

from .data import FEATURES
from .plotting import use_korean_font

use_korean_font()


def draw_network(sizes=(5, 16, 9, 3), in_labels=FEATURES, out_labels=("A", "B", "C"),
                 ax=None):
    """Draw a fully connected network with ``sizes[k]`` neurons in column ``k``.

    Every pair of neighbouring columns is joined by all ``sizes[k] * sizes[k + 1]`` weights;
    under each gap the weight shape is written as ``nn.Linear`` stores it, ``(out, in)``, with
    the bias shape ``(out,)``. Returns the matplotlib ``Axes``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.2))
    tallest = max(sizes)
    # column k is centred on the middle of the tallest column
    ys = [[(tallest - 1) / 2 + (n - 1) / 2 - i for i in range(n)] for n in sizes]
    xs = [2.2 * k for k in range(len(sizes))]
    colours = ["#4C72B0"] + ["#DD8452"] * (len(sizes) - 2) + ["#55A868"]
    for k in range(len(sizes) - 1):
        segments = [[(xs[k], y0), (xs[k + 1], y1)] for y0 in ys[k] for y1 in ys[k + 1]]
        ax.add_collection(LineCollection(segments, colors="0.75", linewidths=0.4, zorder=1))
        ax.text((xs[k] + xs[k + 1]) / 2, -0.8,
                f"fc{k + 1}\nW{k + 1}: ({sizes[k + 1]}, {sizes[k]})\nb{k + 1}: ({sizes[k + 1]},)",
                ha="center", va="top", fontsize=9, family="monospace")
    for k, (x, col) in enumerate(zip(xs, ys, strict=True)):
        ax.scatter([x] * len(col), col, s=170, color=colours[k], edgecolor="k", zorder=2)
        if k == 0:
            name = f"input\n(N, {sizes[k]})"
        elif k == len(sizes) - 1:
            name = f"log_softmax\n(N, {sizes[k]})"
        else:
            name = f"hidden {k} + ReLU\n(N, {sizes[k]})"
        ax.text(x, tallest - 0.2, name, ha="center", va="bottom", fontsize=9)
    if in_labels is not None:
        for y, label in zip(ys[0], in_labels, strict=True):
            ax.text(xs[0] - 0.35, y, label, ha="right", va="center", fontsize=9)
    if out_labels is not None:
        for y, label in zip(ys[-1], out_labels, strict=True):
            ax.text(xs[-1] + 0.35, y, f"log P({label})", ha="left", va="center", fontsize=9)
    ax.set_xlim(xs[0] - 1.6, xs[-1] + 1.6)
    ax.set_ylim(-3.4, tallest + 1.6)
    ax.axis("off")
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    ax.set_title(f"{' -> '.join(map(str, sizes))} 신경망: 매개변수 {n_params}개")
    return ax


def plot_activations(x, h1, h2, probs, title="", in_labels=FEATURES,
                     out_labels=("A", "B", "C")):
    """Bar charts of one student's values layer by layer.

    x: (5,) scores, h1: (16,) and h2: (9,) hidden activations after ReLU, probs: (3,)
    probabilities of A, B, C (tensors or arrays, 1-D). Neurons that ReLU switched off (value 0)
    are marked with a grey x. Returns the matplotlib ``Figure``.
    """
    values = [torch.as_tensor(v).detach().cpu().reshape(-1).double() for v in (x, h1, h2, probs)]
    names = ["입력 x", "h1 = ReLU(fc1(x))", "h2 = ReLU(fc2(h1))", "softmax: 학점의 확률"]
    colours = ["#4C72B0", "#DD8452", "#DD8452", "#55A868"]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2),
                             gridspec_kw={"width_ratios": [5, 16, 9, 3.5]})
    for k, (ax, v, name, c) in enumerate(zip(axes, values, names, colours, strict=True)):
        pos = range(len(v))
        ax.bar(pos, v.numpy(), color=c, edgecolor="k", lw=0.5)
        if k in (1, 2):
            off = [i for i in pos if v[i] == 0]
            ax.scatter(off, [0] * len(off), marker="x", s=25, color="0.35", zorder=3)
            ax.set_xlabel(f"뉴런 ({len(v)}개 중 {int((v == 0).sum())}개가 0)")
        ax.set_title(name, fontsize=10)
        ax.set_xticks(list(pos))
        if k == 0 and in_labels is not None:
            ax.set_xticklabels(in_labels, rotation=45, fontsize=8)
        elif k == 3 and out_labels is not None:
            ax.set_xticklabels(out_labels)
            ax.set_ylim(0, 1)
        else:
            ax.set_xticklabels([str(i) for i in pos], fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_hidden_matrix(H, row_labels=None, title=r"$H_1 = \mathrm{ReLU}(X W_1^\top + b_1)$"):
    """Heat map of a layer's output for a whole batch: ``H: (N, out)``, one row per student,
    one column per neuron. Returns the matplotlib ``Axes``."""
    H = torch.as_tensor(H).detach().cpu().double()
    _, ax = plt.subplots(figsize=(7, 0.28 * H.shape[0] + 1.4))
    im = ax.imshow(H.numpy(), cmap="viridis", aspect="auto")
    ax.set_xlabel(f"뉴런 (열), 모두 {H.shape[1]}개")
    ax.set_ylabel("학생 (행)")
    ax.set_xticks(range(H.shape[1]))
    if row_labels is not None:
        ax.set_yticks(range(H.shape[0]))
        ax.set_yticklabels([str(r) for r in row_labels], fontsize=7)
    ax.set_title(f"{title}: {tuple(H.shape)}")
    plt.colorbar(im, ax=ax, fraction=0.03)
    return ax
