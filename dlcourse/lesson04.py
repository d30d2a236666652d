"""Helpers for lesson 04 (오차 역전파, backpropagation): a computational-graph picture and a
per-parameter gradient report. Nothing here computes a gradient by hand; that is the lesson's work.

Figure text is Korean with the English key phrase, in NanumGothic (:mod:`dlcourse.plotting`;
importing this module selects it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .plotting import use_korean_font

use_korean_font()

FORWARD_COLOR = "black"
BACKWARD_COLOR = "tab:red"


def _text(value, fmt: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return format(float(value), fmt)


def draw_graph(nodes: Mapping[str, Mapping], edges: Sequence[tuple[str, str]], *, ax=None,
               title: str | None = None, fmt: str = ".3f", box=(1.5, 0.75)):
    """Draw a computational graph: forward values in black, gradients in red.

    ``nodes``: ``{name: {"xy": (x, y), "label": str, "value": float | str | None,
    "grad": float | str | None, "grad_above": bool}}``; ``label`` is the text in the box
    (mathtext allowed, default the name), ``value`` is printed under it in black (the forward
    value) and ``grad`` under the box in red (the backward value ∂L/∂node; above the box when
    ``grad_above`` is true). ``edges``: ``[(src, dst), ...]``, drawn as a black
    forward arrow src → dst and a dashed red backward arrow dst → src.
    Numbers are formatted with ``fmt``; strings are printed as they are.
    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    if ax is None:
        xs = [n["xy"][0] for n in nodes.values()]
        ys = [n["xy"][1] for n in nodes.values()]
        width = max(xs) - min(xs) + 2 * box[0]
        height = max(ys) - min(ys) + 2.6 * box[1]
        _, ax = plt.subplots(figsize=(min(1.1 * width + 1, 14), 1.1 * height + 0.6))
    w, h = box
    patches = {}
    for name, node in nodes.items():
        x, y = node["xy"]
        patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                               facecolor="#eef3fb", edgecolor="0.3", linewidth=1.2, zorder=2)
        ax.add_patch(patch)
        patches[name] = patch
        label = node.get("label", name)
        value = _text(node.get("value"), fmt)
        if value:
            ax.text(x, y + 0.14 * h, label, ha="center", va="center", fontsize=11, zorder=3)
            ax.text(x, y - 0.22 * h, value, ha="center", va="center", fontsize=10,
                    color=FORWARD_COLOR, zorder=3)
        else:
            ax.text(x, y, label, ha="center", va="center", fontsize=11, zorder=3)
        grad = _text(node.get("grad"), fmt)
        if grad:
            gy = y + h / 2 + 0.22 if node.get("grad_above") else y - h / 2 - 0.22
            ax.text(x, gy, grad, ha="center", va="center", fontsize=10,
                    color=BACKWARD_COLOR, zorder=3)
    for src, dst in edges:
        a, b = patches[src], patches[dst]
        xa, ya = nodes[src]["xy"]
        xb, yb = nodes[dst]["xy"]
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya), arrowprops=dict(
            arrowstyle="-|>", color=FORWARD_COLOR, lw=1.3, patchA=a, patchB=b,
            shrinkA=2, shrinkB=2), zorder=1)
        ax.annotate("", xy=(xa, ya), xytext=(xb, yb), arrowprops=dict(
            arrowstyle="-|>", color=BACKWARD_COLOR, lw=1.1, ls="--", patchA=b, patchB=a,
            shrinkA=2, shrinkB=2, connectionstyle="arc3,rad=0.35"), zorder=1)
    xs = [n["xy"][0] for n in nodes.values()]
    ys = [n["xy"][1] for n in nodes.values()]
    ax.set_xlim(min(xs) - w, max(xs) + w)
    ax.set_ylim(min(ys) - 1.3 * h - 0.3, max(ys) + 1.3 * h + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def _as_array(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def report_grads(mine: Mapping, reference: Mapping, *, rtol: float = 1e-5, atol: float = 1e-8,
                 title: str = "") -> float:
    """Compare two sets of gradients parameter by parameter, print a table, assert they agree.

    ``mine`` and ``reference``: ``{parameter name: gradient}`` (tensors, arrays or numbers of
    the parameter's shape), for example by hand versus ``p.grad`` after ``loss.backward()``.
    Prints, per name of ``reference``: the shape, the largest absolute difference and whether
    ``allclose(mine, reference, rtol, atol)`` holds. Raises ``AssertionError`` (Korean, with
    the English key phrase) when a name is missing, a shape differs or values are not close.
    Returns the largest absolute difference over all parameters.
    """
    if title:
        print(title)
    print(f"{'param':<8}{'shape':<14}{'max |diff|':>12}  allclose")
    problems, worst = [], 0.0
    for name, ref in reference.items():
        r = _as_array(ref)
        if name not in mine:
            print(f"{name:<8}{str(r.shape):<14}{'-':>12}  missing")
            problems.append(f"{name}: 없습니다 (missing)")
            continue
        m = _as_array(mine[name])
        if m.shape != r.shape:
            print(f"{name:<8}{str(m.shape):<14}{'-':>12}  shape {r.shape} expected")
            problems.append(f"{name}: 모양(shape)이 다릅니다 {m.shape} != {r.shape}")
            continue
        diff = float(np.max(np.abs(m - r))) if m.size else 0.0
        if not np.isfinite(diff):
            diff = float("inf")
        ok = bool(np.allclose(m, r, rtol=rtol, atol=atol))
        worst = max(worst, diff)
        print(f"{name:<8}{str(r.shape):<14}{diff:>12.3e}  {ok}")
        if not ok:
            problems.append(f"{name}: 최대 차이 {diff:.3g}")
    if problems:
        raise AssertionError(
            f"기울기가 다릅니다 (gradient mismatch, rtol={rtol:g}, atol={atol:g}): "
            + "; ".join(problems)
        )
    print(f"모두 일치 (all close): 최대 차이 {worst:.3e}")
    return worst
