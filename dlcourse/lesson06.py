"""Helpers for lesson 06 (the grade classifier): a synthetic class, a confusion matrix and plots.

Nothing here trains a model or answers an exercise; the lesson's own code does that.
Figure text is Korean with the English key phrase, in NanumGothic (:mod:`dlcourse.plotting`;
importing this module selects it).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from . import SEED
from .data import FEATURES, GRADES, LABEL
from .plotting import use_korean_font

use_korean_font()


def synthetic_class(table: pd.DataFrame, n: int, seed: int = SEED,
                    noise: float = 4.0) -> pd.DataFrame:
    """A reproducible class of ``n`` made-up students drawn from ``table`` (e.g. the 17 training
    students): each one copies a randomly chosen real student's grade and scores, adds Gaussian
    noise (``noise`` points) to every score, rounds and clips to 0–100.

    Returns a table with ``ID`` (0..n-1), the :data:`FEATURES` columns (int) and ``학점``; the same
    ``seed`` always gives the same class. ``table`` is not modified.
    """
    if n < 1:
        raise ValueError(f"n은 1 이상이어야 합니다 (n must be positive): {n}")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(table), size=n)
    scores = table[FEATURES].to_numpy(dtype=np.float64)[pick]
    scores = np.clip(np.rint(scores + rng.normal(0.0, noise, size=scores.shape)), 0, 100)
    out = pd.DataFrame(scores.astype(np.int64), columns=FEATURES)
    out.insert(0, "ID", np.arange(n))
    out[LABEL] = table[LABEL].to_numpy()[pick]
    return out


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor,
                     n_classes: int = len(GRADES)) -> torch.Tensor:
    """``y_true, y_pred: (N,)`` class indices → ``(C, C)`` int64 counts on the CPU; row = true
    class, column = predicted class."""
    t, p = y_true.detach().cpu().long(), y_pred.detach().cpu().long()
    return torch.bincount(t * n_classes + p, minlength=n_classes**2).reshape(n_classes, n_classes)


def plot_confusion(cm: torch.Tensor, labels=GRADES, title: str = "혼동 행렬 (confusion matrix)"):
    """Draw a ``(C, C)`` confusion matrix (rows true, columns predicted) with its counts."""
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(cm, cmap="Blues", vmin=0)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            color = "white" if cm[i, j] > cm.max() / 2 else "black"
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=13)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("예측")
    ax.set_ylabel("정답")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_curves(history: dict[str, list[float]]):
    """Two panels over epochs: ``train_loss``/``test_loss`` and ``train_acc``/``test_acc`` (lists
    of equal length, one value per epoch)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    ax1.plot(epochs, history["train_loss"], label="훈련 (train)")
    ax1.plot(epochs, history["test_loss"], label="테스트 (test)")
    ax1.set_xlabel("에포크 (epoch)")
    ax1.set_ylabel("NLL 손실")
    ax1.legend()
    ax2.plot(epochs, history["train_acc"], label="훈련 (train)")
    ax2.plot(epochs, history["test_acc"], label="테스트 (test)")
    ax2.set_xlabel("에포크 (epoch)")
    ax2.set_ylabel("정확도 (accuracy)")
    ax2.set_ylim(-0.05, 1.05)
    ax2.legend()
    fig.tight_layout()
    return fig


def plot_epoch_times(sizes, seconds_by_device: dict[str, list[float]], batch: int):
    """Seconds one epoch of mini-batch training took against the class size ``N``.

    ``sizes``: the class sizes (length K); ``seconds_by_device``: ``{device name: K seconds}``;
    ``batch``: the mini-batch size, for the second axis (the number of steps ``ceil(N / batch)``).
    One line per device through its points. Returns the figure."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for name, seconds in seconds_by_device.items():
        ax.plot(sizes, seconds, "o-", label=name)
    ax.set_xlim(0, max(sizes) * 1.05)
    ax.set_ylim(0, None)
    ax.set_xlabel("반의 크기 N (학생 수)")
    ax.set_ylabel("한 에포크의 시간 (초)")
    ax.set_title(f"묶음 {batch}명: 걸음 수 ⌈N / {batch}⌉에 비례")
    ax.grid(alpha=0.3)
    ax.legend(title="장치 (device)")
    fig.tight_layout()
    return fig
