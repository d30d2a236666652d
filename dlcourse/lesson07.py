"""Helpers for lesson 07 (generalisation): the handwritten digits as tensors and two pictures.

The data is scikit-learn's bundled copy of the UCI "Optical Recognition of Handwritten Digits"
test set (what ``sklearn.datasets.load_digits`` returns: 1,797 images of 8 × 8 pixels, each
pixel a count 0–16, classes 0–9), read from the installed scikit-learn: no download. Nothing here trains a model
or answers an exercise; the lesson's own code does that. Figure text is Korean with the English
key phrase, in NanumGothic (:mod:`dlcourse.plotting`; importing this module selects it).
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from .plotting import use_korean_font

use_korean_font()

#: scikit-learn's bundled file: one row per image, its 64 pixels then its digit, comma-separated.
DIGITS_FILE = ("datasets", "data", "digits.csv.gz")
#: The largest pixel value of the digits (each pixel counts 0–16 dark cells of a 4 × 4 block).
PIXEL_MAX = 16.0


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits: ``X (1797, 64)`` float32, the 8 × 8 pixels row by row divided by
    :data:`PIXEL_MAX` (so in [0, 1]), and ``y (1797,)`` int64, the digit 0–9 each image shows.
    The same tensors every call: ``load_digits()``'s ``data / 16`` and ``target``, in its order.

    The file is read where scikit-learn is installed, without importing it: importing
    ``sklearn`` imports SciPy, which takes about as long as ``import torch`` (measured here:
    2.5–3.0 s against 2.6–3.3 s on a loaded machine), a second fixed cost every Run All would pay.
    ``tests/test_data.py`` checks the tensors against ``load_digits()``. Raises
    ``ModuleNotFoundError`` when scikit-learn is not installed."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn이 없습니다 (scikit-learn is not installed): "
                                  "pip install -r requirements/base.txt", name="sklearn")
    path = Path(spec.submodule_search_locations[0]).joinpath(*DIGITS_FILE)
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    X = torch.tensor(table[:, :-1] / PIXEL_MAX, dtype=torch.float32)
    return X, torch.tensor(table[:, -1], dtype=torch.long)


def plot_digits(X: torch.Tensor, y: torch.Tensor, predicted: torch.Tensor | None = None,
                columns: int = 10):
    """Draw the images ``X (N, 64)`` (pixels in [0, 1]) side by side in rows of ``columns``, in
    one picture, each labelled with its digit ``y (N,)`` (with ``predicted (N,)``, when given, as
    "정답→예측" in red where it is wrong). Returns the figure."""
    n = len(X)
    rows = -(-n // columns)
    sheet = np.zeros((rows * 10, columns * 10))  # 8 × 8 images with a 2-pixel gap
    for i in range(n):
        r, c = divmod(i, columns)
        sheet[r * 10 + 2:r * 10 + 10, c * 10 + 1:c * 10 + 9] = (
            X[i].detach().cpu().reshape(8, 8).numpy())
    fig, ax = plt.subplots(figsize=(columns * 0.8, rows * 0.85))
    ax.imshow(sheet, cmap="gray_r", vmin=0, vmax=1)
    for i in range(n):
        r, c = divmod(i, columns)
        text, color = f"{int(y[i])}", "black"
        if predicted is not None:
            text += f"→{int(predicted[i])}"
            color = "black" if int(predicted[i]) == int(y[i]) else "red"
        ax.text(c * 10 + 5, r * 10 + 1, text, ha="center", va="center", fontsize=8, color=color)
    ax.axis("off")
    fig.tight_layout()
    return fig


def plot_histories(histories: dict[str, dict[str, list[float]]], title: str = "",
                   mark: dict[str, int] | None = None):
    """Training against validation curves of one or more runs, in two panels (loss, accuracy).

    ``histories``: ``{run name: history}``, each history holding ``train_loss``, ``val_loss``,
    ``train_acc`` and ``val_acc`` (lists of equal length, one value per epoch, epoch 1 first);
    training is dashed, validation solid, one colour per run. ``mark``: ``{run name: epoch}``
    (1-based) draws a dotted vertical line there (for example the best epoch). Returns the
    figure."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4))
    for k, (name, h) in enumerate(histories.items()):
        color = f"C{k}"
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        ax1.plot(epochs, h["train_loss"], "--", color=color, label=f"{name} 훈련")
        ax1.plot(epochs, h["val_loss"], "-", color=color, label=f"{name} 검증")
        ax2.plot(epochs, h["train_acc"], "--", color=color)
        ax2.plot(epochs, h["val_acc"], "-", color=color)
        if mark and name in mark:
            for ax in (ax1, ax2):
                ax.axvline(mark[name], color=color, linestyle=":")
    ax1.set_xlabel("에포크 (epoch)")
    ax1.set_ylabel("NLL 손실")
    ax1.set_yscale("log")
    ax1.legend(fontsize=8)
    ax2.set_xlabel("에포크 (epoch)")
    ax2.set_ylabel("정확도 (accuracy)")
    ax2.set_ylim(0, 1.02)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
