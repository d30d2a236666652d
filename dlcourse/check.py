"""Checks for the notebooks' test cells.

A test cell opens a :class:`Check` and states each fact about the student's answer with one of
its methods::

    with Check("연습 1.1 sigmoid (2점)") as ck:
        ck.close("sigmoid([-2, 0, 3])", sigmoid(torch.tensor([-2.0, 0.0, 3.0])),
                 [0.1192, 0.5, 0.9526], atol=1e-4)
        ### BEGIN HIDDEN TESTS
        ck.record("float64 입력, 큰 |z|", sigmoid(z_hidden))
        ### END HIDDEN TESTS

In the student's kernel every visible fact is judged at once and a failure raises an
``AssertionError`` in Korean with the English key phrase. While nbgrader autogrades (and while
Validate runs), the cell also publishes what the student's code *produced* (never a verdict) as
a display output of type :data:`MIME`; the grader's own process compares it with what the
reference solution produced in a trusted run (:func:`dlcourse.submission.verdict`), using
:func:`judge`, the same function that judges here.
Nothing in the kernel decides a grade, so replacing ``torch.allclose`` or faking "통과" earns
nothing. A fact judged against a bound only (``at_least`` … ``accuracy``) can still be forged by a
kernel that replaces what is recorded; results of training are therefore recorded as the trained
network's parameters (:meth:`Check.net_accuracy`, :meth:`Check.net_loss`), which the grader
measures itself, and a loss the student designs freely as its raw values at points of the
reference run's choosing (:meth:`Check.loss_along_rays`), which the grader judges against each
other.

Importing this module inside IPython also installs :func:`explain_error`: a cell that uses a
name an earlier cell defines (run out of order, after a kernel restart, or below an exercise that
stopped at its stub) ends with the Korean :data:`RUN_ABOVE` guidance, not a bare ``NameError``,
and a failing check's traceback shows the cell and the student's own code, not this module's
frames (:func:`own_frames`). A cell outside a test cell (a figure, a "try it" cell) that calls an
exercise's unanswered stub opens its error with :data:`COMPLETE_FIRST`, naming the exercise
(:func:`dlcourse.exercises.exercise_of`), and draws none of the figures it opened; the error
itself (name and message, what Validate and the grader read) stays the stub's.

A test cell that fails the way a known wrong answer of its lesson fails
(``tests/mistakes/<lesson>.yaml``) adds that mistake's hint for students (:func:`add_hint`; the
lesson is read from the check's title, ``연습 7.4 …``): ``./course hints`` runs every known
mistake through the released (visible) checks and writes ``{fingerprint: hint}`` of what each
shows to ``dlcourse/hints/<lesson>.json``, the package data read here. A fingerprint is of the
error exactly as the student sees it (:func:`fingerprint`): a visible fact's label, expected and
actual values as the message rounds them; hidden facts never raise in the kernel, so they have
none.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import io
import json
import linecache
import os
import re
import sys
import warnings
from importlib import resources
from itertools import pairwise
from typing import Any

import numpy as np

from dlcourse.exercises import exercise_of, object_particle

MIME = "application/vnd.dlcourse.check+json"
KINDS = ("close", "equal", "shape", "at_least", "at_most", "increasing", "decreasing",
         "accuracy", "net_accuracy", "net_loss", "loss_along_rays")

#: :meth:`Check.loss_along_rays` also evaluates each ``s != 0`` at ``s * (1 + SLOPE_STEP)``: the
#: pair's difference of values must agree with the gradients recorded at both points.
SLOPE_STEP = 1e-3
#: The largest loss accepted at a perfect prediction (``s = 0``).
ZERO_LOSS = 1e-6

#: Added to the visible "통과 (OK)" line of a test cell: the grader runs the cell again with its
#: hidden facts (every graded test cell has some, see CONTRIBUTING.md).
HIDDEN_FOLLOW = "채점 때 다른 입력으로 숨은 검사가 더 있습니다 (hidden checks with other inputs follow at grading)"


#: The guidance added to every ``NameError`` in a lesson notebook.
RUN_ABOVE = ("위쪽 셀을 순서대로 먼저 실행하세요; 멈춘 연습 셀이 있으면 그 답안부터 완성하세요 "
             "(run the cells above first, in order)")


class CheckFailed(AssertionError):
    """A fact about the answer is not what the lesson asks for."""


#: Between a failing check's message and the hint of the known mistake it matches.
HINT_MARK = " — 흔한 실수 (common mistake): "
#: Between the hints of known mistakes that fail with the same message.
HINT_JOIN = " / 또는 (or) "


def fingerprint(error: str) -> str:
    """The key of a known mistake's hint: 16 hex digits of the SHA-256 of ``error``, an
    exception as Jupyter shows it (``"Name: message"``, no hint)."""
    return hashlib.sha256(error.encode("utf-8")).hexdigest()[:16]


@functools.cache
def lesson_hints() -> dict[str, dict[str, str]]:
    """``{lesson: {fingerprint: hint}}``: each ``dlcourse/hints/<lesson>.json`` (package data
    written by ``./course hints``), read once per process."""
    folder = resources.files("dlcourse") / "hints"
    entries = sorted(folder.iterdir(), key=lambda e: e.name) if folder.is_dir() else []
    return {entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))
            for entry in entries if entry.name.endswith(".json")}


@functools.cache
def common_mistakes() -> dict[str, str]:
    """``{fingerprint: hint}`` of every lesson (:func:`lesson_hints`). An error known in
    several lessons (a library's own message) shows the hints of all, joined by
    :data:`HINT_JOIN`: what a check that names no exercise's lesson shows."""
    found: dict[str, list[str]] = {}
    for table in lesson_hints().values():
        for key, tip in table.items():
            found.setdefault(key, []).append(tip)
    return {key: HINT_JOIN.join(dict.fromkeys(tips)) for key, tips in found.items()}


@functools.cache
def known_hints() -> frozenset[str]:
    """Every hint text :func:`add_hint` can append (a lesson's own, or several joined): what
    :func:`dlcourse.submission.cut_error_value` keeps whole."""
    return frozenset(common_mistakes().values()).union(
        *(table.values() for table in lesson_hints().values()))


#: The exercise number at the start of a check's title (``연습 7.4 dropout``): its lesson is
#: the one whose name starts with the number's first part (``07_``).
EXERCISE_TITLE = re.compile(r"연습\s+(\d+)\.")


def hints_for(title: str | None) -> dict[str, str]:
    """``{fingerprint: hint}`` for a check titled ``title``: its exercise's lesson's own hints
    (one lesson's mistake never explains another lesson's check), or every lesson's
    (:func:`common_mistakes`) for a title that names no exercise of a lesson with hints."""
    match = EXERCISE_TITLE.match(title or "")
    if match:
        prefix = f"{int(match.group(1)):02d}_"
        tables = [table for lesson, table in lesson_hints().items() if lesson.startswith(prefix)]
        if len(tables) == 1:
            return tables[0]
    return common_mistakes()


def add_hint(exc: BaseException, title: str | None = None) -> None:
    """Append :data:`HINT_MARK` and the hint of the known mistake whose :func:`fingerprint` is
    ``exc``'s (``"Name: message"``) to ``exc``'s message, among the hints of the lesson of the
    check titled ``title`` (:func:`hints_for`); only for an exception whose message is its one
    string argument, and at most once."""
    if len(exc.args) != 1 or not isinstance(exc.args[0], str) or HINT_MARK in exc.args[0]:
        return
    tip = hints_for(title).get(fingerprint(f"{type(exc).__name__}: {exc}"))
    if tip and str(exc) == exc.args[0]:
        exc.args = (f"{exc.args[0]}{HINT_MARK}{tip}",)


def own_frames(tb):
    """``tb`` without the frames of this module: a failing check's traceback shows the cell and
    the student's own functions it called, not how :class:`Check` raised."""
    kept, node = [], tb
    while node is not None:
        if node.tb_frame.f_code.co_filename != __file__:
            kept.append(node)
        node = node.tb_next
    for outer, inner in zip(kept, [*kept[1:], None], strict=True):
        outer.tb_next = inner
    return kept[0] if kept else tb


#: The line that opens the error of a cell that called an unanswered exercise's stub.
COMPLETE_FIRST = ("연습 {exercise}{particle} 먼저 완성하세요 (complete Exercise {exercise} first): "
                  "이 셀이 부른 {name}에 아직 답이 없습니다 (still the stub)")
#: Added to :data:`COMPLETE_FIRST` when the cell had opened figures (closed, never shown).
NOT_DRAWN = ", 그래서 이 셀의 그림은 그리지 않았습니다 (figure not drawn)"

#: The attribute :meth:`Check.__exit__` sets on an exception that ended a test cell's check.
IN_CHECK = "_dlcourse_in_check"


def stub_exercise(shell, value: BaseException, tb) -> tuple[str, str] | None:
    """``(exercise, name)`` when ``value`` (a ``NotImplementedError``, ``tb`` its traceback)
    was raised by a function or method a cell of ``shell`` defined and an answer cell of a
    released lesson defines (:func:`dlcourse.exercises.exercise_of`), outside a test cell's
    check; else ``None``."""
    if getattr(value, IN_CHECK, False) or tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    if tb.tb_frame.f_globals is not shell.user_global_ns:  # a library's own NotImplementedError
        return None
    exercise = exercise_of(code.co_qualname, "".join(linecache.getlines(code.co_filename)))
    return (exercise, code.co_qualname) if exercise else None


def _pyplot():
    return sys.modules.get("matplotlib.pyplot")  # never imported here: only if the cell did


#: Figure numbers open when the running cell started (:func:`note_open_figures`).
_open_before: set[int] = set()


def note_open_figures(*_info) -> None:
    """IPython ``pre_run_cell`` callback: remember the figures already open, so that a cell
    stopped at a stub closes only the figures it opened itself."""
    _open_before.clear()
    if plt := _pyplot():
        _open_before.update(plt.get_fignums())


def explain_error(shell, etype, value, tb, tb_offset=None) -> None:
    """IPython custom exception handler (``InteractiveShell.set_custom_exc``): the usual
    traceback (an error output, so Jupyter and nbgrader see the cell fail) without this
    module's frames (:func:`own_frames`); a ``NameError`` also says :data:`RUN_ABOVE`. A
    ``NotImplementedError`` of an exercise's stub outside a test cell (:func:`stub_exercise`)
    closes the figures the cell opened (no empty axes) and opens the traceback with
    :data:`COMPLETE_FIRST` (and :data:`NOT_DRAWN` if it closed any); its name and message stay the stub's. Any other
    ``NotImplementedError`` shows as IPython shows it."""
    if issubclass(etype, NotImplementedError):
        found = stub_exercise(shell, value, tb)
        if found is None:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
            return
        exercise, name = found
        opened = set(plt.get_fignums()) - _open_before if (plt := _pyplot()) else set()
        for number in opened:
            plt.close(number)
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
        first = COMPLETE_FIRST.format(exercise=exercise, name=name,
                                      particle=object_particle(exercise))
        shell._showtraceback(etype, value, [first + (NOT_DRAWN if opened else ""), *stb])
        return
    if issubclass(etype, NameError) and RUN_ABOVE not in str(value):
        value.args = (f"{value} — {RUN_ABOVE}",)
    shell.showtraceback((etype, value, own_frames(tb)), tb_offset=tb_offset)


def install_hints(shell=None) -> None:
    """Install :func:`explain_error` in ``shell`` (default: the running IPython, if any) and
    :func:`note_open_figures` before every cell (once)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython comes with Jupyter
            return
        shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((NameError, CheckFailed, NotImplementedError), explain_error)
        if note_open_figures not in shell.events.callbacks["pre_run_cell"]:
            shell.events.register("pre_run_cell", note_open_figures)


install_hints()


# --------------------------------------------------------------------------- values


def to_numpy(value: Any) -> np.ndarray:
    """A detached CPU copy of ``value`` as a NumPy array (tensors, arrays, numbers, strings,
    nested lists/tuples of these, ``torch.Size``). Anything else raises ``TypeError``."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is always installed with the course
        torch = None
    if torch is not None and isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()
        return t.numpy().copy()
    if torch is not None and isinstance(value, torch.Size):
        return np.asarray(list(value), dtype=np.int64)
    if isinstance(value, np.ndarray):
        arr = value.copy()
    elif isinstance(value, (list, tuple)):
        try:
            arr = np.asarray([to_numpy(v) for v in value])
        except ValueError:
            raise TypeError("모양이 고르지 않은 값입니다 (ragged list)") from None
    elif isinstance(value, (bool, int, float, str, np.generic)):
        arr = np.asarray(value)
    else:
        raise TypeError(
            f"기록할 수 없는 값입니다 (unsupported value type): {type(value).__name__}"
        )
    if arr.dtype == object:
        raise TypeError("모양이 고르지 않은 값입니다 (ragged or object array)")
    return arr


def encode(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode(text: str) -> np.ndarray:
    """Inverse of :func:`encode`; never unpickles, so untrusted payloads are safe to read."""
    return np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)


def _describe(arr: np.ndarray, limit: int = 6) -> str:
    flat = arr.reshape(-1)
    body = np.array2string(flat[:limit], precision=4, separator=", ")
    more = f" … ({flat.size}개)" if flat.size > limit else ""
    return f"{body}{more}"


# --------------------------------------------------------------------------- networks


def net_parameters(net: Any) -> list[np.ndarray]:
    """The parameters of ``net`` (an ``nn.Module`` or a list of tensors), in
    ``net.parameters()`` order, as float64 arrays: ``weight (out, in), bias (out,)`` of each
    ``nn.Linear`` in turn. Anything else raises ``TypeError``."""
    params = net.parameters() if hasattr(net, "parameters") else net
    arrays = [to_numpy(p).astype(np.float64) for p in params]
    ok = len(arrays) >= 2 and len(arrays) % 2 == 0
    for i in range(0, len(arrays) if ok else 0, 2):
        w, b = arrays[i], arrays[i + 1]
        ok = ok and w.ndim == 2 and b.shape == (w.shape[0],)
        ok = ok and (i == 0 or w.shape[1] == arrays[i - 2].shape[0])
    if not ok:
        shapes = [tuple(a.shape) for a in arrays]
        raise TypeError(f"Linear 층으로 된 신경망이 아닙니다 (not a stack of nn.Linear layers): "
                        f"매개변수 모양 {shapes}")
    return arrays


def net_outputs(flat: np.ndarray, shapes: list, inputs: np.ndarray) -> np.ndarray:
    """What the network of :func:`net_parameters` computes for ``inputs (N, in)``, in float64:
    each ``nn.Linear`` (``x @ weight.T + bias``) in turn with ReLU between them, none after the
    last. ``flat``: the parameters flattened and concatenated; ``shapes``: their shapes.
    Raises ``ValueError`` when ``flat`` does not hold exactly these shapes."""
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    if flat.ndim != 1 or flat.size != sum(sizes) or flat.dtype.kind != "f":
        raise ValueError(f"매개변수 개수가 다릅니다 (wrong number of parameters): 기대 "
                         f"{sum(sizes)}, 실제 {flat.size}")
    parts = np.split(flat.astype(np.float64), np.cumsum(sizes)[:-1])
    params = [p.reshape(s) for p, s in zip(parts, shapes, strict=True)]
    h = inputs.astype(np.float64)
    for i in range(0, len(params), 2):
        h = h @ params[i].T + params[i + 1]
        if i + 2 < len(params):
            h = np.maximum(h, 0.0)
    return h


def _log_softmax(z: np.ndarray) -> np.ndarray:
    top = z.max(axis=1, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))


def measure(kind: str, out: np.ndarray, targets: np.ndarray, spec: dict, *,
            logits: bool) -> str | None:
    """Judge a network fact on the outputs ``out (N, C)``: ``net_accuracy`` (argmax against
    class indices ``targets (N,)``, at least ``spec["bound"]``) or ``net_loss`` (at most
    ``spec["bound"]``; ``spec["loss"]`` ``"nll"``: the mean negative log-likelihood, after a
    log-softmax when ``logits``, else of ``out`` as it is, as ``F.nll_loss``; ``"mse"``: mean
    squared error). ``None`` when it holds, else the message, as :func:`judge`."""
    if kind == "net_accuracy":
        correct = int(np.sum(out.argmax(axis=1) == targets))
        need = int(np.ceil(float(spec["bound"]) * targets.shape[0] - 1e-9))
        if correct >= need:
            return None
        return (f"정확도(accuracy)가 낮습니다: {correct}/{targets.shape[0]} 맞음, "
                f"{need}개 이상 필요")
    with np.errstate(all="ignore"):
        if spec.get("loss") == "mse":
            value = float(np.mean((out.reshape(targets.shape) - targets) ** 2))
        else:  # "nll"; a log-softmax leaves log-probabilities as they are
            logp = _log_softmax(out) if logits else out
            value = float(-np.mean(logp[np.arange(targets.shape[0]), targets.astype(int)]))
    if np.isfinite(value) and value <= float(spec["bound"]):
        return None
    return (f"기준을 넘지 못했습니다 (bound not met): {spec.get('loss', 'nll')} 손실 "
            f"{value:.4g} ≤ {float(spec['bound']):g} 이어야 합니다")


def judge_loss_along_rays(actual: np.ndarray, rays: list, steps: list) -> str | None:
    """Judge what :meth:`Check.loss_along_rays` recorded: ``actual (n, 3)`` float rows
    ``[loss, d loss / d s, ndim of the result]`` at ``pred = target + steps[i] * d[rays[i]]``.
    The loss must be 0-dim and finite, the same at the same point (a function of its input), at
    most :data:`ZERO_LOSS` at ``s = 0``, never negative, strictly larger as ``|s|`` grows along
    each ray in each direction, differentiable by autograd with ``sign(s) * slope > 0`` at every
    ``s != 0`` (at ``s = 0`` a slope may be NaN, as the square root of an MSE has), and the
    slopes of each pair ``s, s * (1 + SLOPE_STEP)`` must match the values (trapezoid rule, 5 %).
    ``None`` when all hold, else the first failing property in Korean with the English key."""
    n = len(steps)
    if actual.shape != (n, 3) or actual.dtype.kind != "f":
        return f"기록 모양(shape)이 다릅니다 (wrong record): 기대 ({n}, 3), 실제 {tuple(actual.shape)}"
    value, slope, ndim = actual[:, 0], actual[:, 1], actual[:, 2]
    ray, s = np.asarray(rays, dtype=np.int64), np.asarray(steps, dtype=np.float64)

    def at(i: int) -> str:
        return f"pred = target + s·d{ray[i]}, s = {s[i]:g}"

    if (bad := np.flatnonzero(ndim != 0)).size:
        return (f"결과가 0차원 텐서가 아닙니다 (not a 0-dim tensor): {at(bad[0])}에서 "
                f"{int(ndim[bad[0]]) if np.isfinite(ndim[bad[0]]) else '?'}차원")
    if (bad := np.flatnonzero(~np.isfinite(value))).size:
        return f"손실이 NaN/inf입니다 (non-finite loss): {at(bad[0])}"
    points: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(ray.tolist(), s.tolist(), strict=True)):
        points.setdefault(key, []).append(i)
    for idx in points.values():
        if np.ptp(value[idx]) > 1e-12 * max(1.0, float(np.max(np.abs(value[idx])))):
            return (f"같은 입력에 다른 값이 나옵니다 (not a function of its inputs): {at(idx[0])}에서 "
                    f"{_describe(value[idx])}")
    if (bad := np.flatnonzero((s == 0) & (value > ZERO_LOSS))).size:
        return (f"완벽한 예측에서 0이 아닙니다 (not 0 at a perfect prediction): "
                f"{value[bad[0]]:.4g} ≤ {ZERO_LOSS:g} 이어야 합니다")
    if (bad := np.flatnonzero(value < 0)).size:
        return f"음수가 나옵니다 (negative loss): {at(bad[0])}에서 {value[bad[0]]:.4g}"
    sides = []
    for r in np.unique(ray):
        for side in (1.0, -1.0):
            idx = [points[k][0] for k in sorted(k for k in points if k[0] == r and side * k[1] >= 0)]
            idx.sort(key=lambda i: abs(s[i]))
            sides.append(idx)
            for a, b in pairwise(idx):
                if not value[b] > value[a]:
                    return (f"멀어질수록 커지지 않습니다 (not larger for worse predictions): "
                            f"{at(a)} → {value[a]:.6g}, s = {s[b]:g} → {value[b]:.6g}")
    if (bad := np.flatnonzero((s != 0) & ~np.isfinite(slope))).size:  # at 0: RMSE's is NaN
        return (f"autograd로 미분할 수 없습니다 (autograd cannot differentiate it): {at(bad[0])}; "
                f"결과가 pred에서 torch 연산으로 만든 텐서여야 합니다 (no .item(), float(), NumPy)")
    if (bad := np.flatnonzero((s != 0) & (np.sign(s) * slope <= 0))).size:
        return (f"기울기(gradient)가 target에서 멀어지는 쪽이 아닙니다 (gradient does not point "
                f"away from target): {at(bad[0])}에서 d loss/ds = {slope[bad[0]]:.4g}")
    for idx in sides:
        for a, b in pairwise(idx):
            if s[a] == 0 or abs(s[b] / s[a] - (1 + SLOPE_STEP)) > 1e-9:
                continue
            rise, trapezoid = value[b] - value[a], (s[b] - s[a]) * (slope[a] + slope[b]) / 2
            if abs(rise - trapezoid) > 0.05 * abs(trapezoid) + 1e-12:
                return (f"기울기(gradient)가 손실 값과 맞지 않습니다 (gradient does not match the "
                        f"loss values): {at(a)}에서 값의 차이 {rise:.4g}, 기울기로는 {trapezoid:.4g}")
    return None


# --------------------------------------------------------------------------- judging


def judge(kind: str, actual: np.ndarray, spec: dict, reveal: bool = True) -> str | None:
    """Judge ``actual`` against ``spec`` (``expected``, ``rtol``, ``atol``, ``bound``,
    ``dtype``). Returns ``None`` when it holds, else a message in Korean with the English key
    phrase; ``reveal=False`` leaves expected values out of the message (hidden checks)."""
    expected = spec.get("expected")
    if kind in ("close", "equal"):
        if actual.shape != expected.shape:
            exp_shape = tuple(expected.shape) if reveal else "(숨김)"
            return f"모양(shape)이 다릅니다: 기대 {exp_shape}, 실제 {tuple(actual.shape)}"
        if spec.get("dtype") and actual.dtype != expected.dtype:
            return f"자료형(dtype)이 다릅니다: 기대 {expected.dtype}, 실제 {actual.dtype}"
        if kind == "equal":
            if actual.dtype.kind != expected.dtype.kind and not (
                actual.dtype.kind in "biu" and expected.dtype.kind in "biu"
            ):
                return f"자료형(dtype)이 다릅니다: 기대 {expected.dtype}, 실제 {actual.dtype}"
            if np.array_equal(actual, expected):
                return None
            wrong = int(np.sum(actual != expected))
            detail = f"; 기대 {_describe(expected)}, 실제 {_describe(actual)}" if reveal else ""
            return f"값(value)이 다릅니다 (not equal): {wrong}개 원소가 틀림{detail}"
        if actual.dtype.kind not in "biuf" or expected.dtype.kind not in "biuf":
            return f"숫자가 아닙니다 (not numeric): 자료형 {actual.dtype}"
        a, e = actual.astype(np.float64), expected.astype(np.float64)
        if np.isnan(a).any() and not np.isnan(e).any():
            return f"NaN이 나왔습니다 (NaN in output): {_describe(actual)}"
        if np.allclose(a, e, rtol=spec["rtol"], atol=spec["atol"]):
            return None
        with np.errstate(invalid="ignore"):
            diff = float(np.nanmax(np.abs(a - e))) if a.size else 0.0
        detail = f"; 기대 {_describe(expected)}, 실제 {_describe(actual)}" if reveal else ""
        return (
            f"값(value)이 다릅니다 (not close): 최대 차이 {diff:.3g} "
            f"(허용 rtol={spec['rtol']:g}, atol={spec['atol']:g}){detail}"
        )
    if kind in ("at_least", "at_most"):
        if actual.shape != () or actual.dtype.kind not in "biuf":
            return f"스칼라 숫자가 아닙니다 (not a scalar number): 모양 {tuple(actual.shape)}"
        value, bound = float(actual), float(spec["bound"])
        ok = value >= bound if kind == "at_least" else value <= bound
        if ok and np.isfinite(value):
            return None
        sign = "≥" if kind == "at_least" else "≤"
        return f"기준을 넘지 못했습니다 (bound not met): {value:.4g} {sign} {bound:g} 이어야 합니다"
    if kind in ("increasing", "decreasing"):
        if actual.ndim != 1 or actual.size < 2 or actual.dtype.kind not in "biuf":
            return f"1차원 수열이 아닙니다 (not a 1-D sequence): 모양 {tuple(actual.shape)}"
        steps = np.diff(actual.astype(np.float64))
        ok = np.all(steps > 0) if kind == "increasing" else np.all(steps < 0)
        if ok and np.isfinite(actual.astype(np.float64)).all():
            return None
        word = "증가 (increasing)" if kind == "increasing" else "감소 (decreasing)"
        return f"순서가 맞지 않습니다: 값이 계속 {word}해야 합니다, 실제 {_describe(actual)}"
    if kind == "accuracy":
        labels = expected
        if actual.ndim != 2 or actual.shape[0] != labels.shape[0] or actual.dtype.kind != "f":
            return (
                f"점수 행렬 모양(shape)이 다릅니다: 기대 ({labels.shape[0]}, 클래스 수), "
                f"실제 {tuple(actual.shape)}"
            )
        if not np.isfinite(actual).all():
            return "점수에 NaN/inf가 있습니다 (non-finite scores)"
        correct = int(np.sum(actual.argmax(axis=1) == labels))
        need = int(np.ceil(float(spec["bound"]) * labels.shape[0] - 1e-9))
        if correct >= need:
            return None
        return f"정확도(accuracy)가 낮습니다: {correct}/{labels.shape[0]} 맞음, {need}개 이상 필요"
    if kind in ("net_accuracy", "net_loss"):
        if actual.ndim != 1 or actual.dtype.kind != "f":
            return f"신경망 매개변수가 아닙니다 (not network parameters): 모양 {tuple(actual.shape)}"
        if not np.isfinite(actual).all():
            return "매개변수에 NaN/inf가 있습니다 (non-finite parameters)"
        try:
            out = net_outputs(actual, spec["shapes"], spec["inputs"])
        except ValueError as err:
            return str(err)
        return measure(kind, out, expected, spec, logits=True)
    if kind == "loss_along_rays":
        return judge_loss_along_rays(actual, spec["rays"], spec["steps"])
    if kind == "shape":
        want = tuple(int(n) for n in expected.reshape(-1))
        got = tuple(int(n) for n in actual.reshape(-1))
        if actual.ndim == 1 and actual.dtype.kind in "iu" and got == want:
            return None
        return f"모양(shape)이 다릅니다: 기대 {want if reveal else '(숨김)'}, 실제 {got}"
    raise ValueError(f"unknown check kind {kind!r}")


# --------------------------------------------------------------------------- the test cell


class Check:
    """One test cell's checks; use as ``with Check("연습 1.1 ...") as ck:``.

    ``hidden``: the cell has hidden facts at grading (every graded test cell does, a rule
    ``tests/course/test_release.py`` enforces), so its "통과 (OK)" line ends with
    :data:`HIDDEN_FOLLOW`; ``hidden=False`` for checks outside graded test cells.

    Each method returns the converted value, judges it where the expectation is visible, and
    keeps it for the grader. Warnings raised inside the block are shown on stdout, so a
    library's warning never turns a right answer into a failure (nbgrader fails any test cell
    that writes to stderr).
    """

    def __init__(self, title: str, *, hidden: bool = True):
        self.title = title
        self.hidden = hidden
        self.records: list[dict] = []
        self._warnings = None

    # -- context -----------------------------------------------------------------------
    def __enter__(self) -> Check:
        self._catcher = warnings.catch_warnings(record=True)
        self._warnings = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._catcher.__exit__(None, None, None)
        if isinstance(exc, Exception):
            add_hint(exc, self.title)
            setattr(exc, IN_CHECK, True)  # a test cell's error reads as it always has
        for w in self._warnings or []:
            print(f"참고: 경고(warning) {w.category.__name__}: {w.message}")
        if os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate"):
            # Also when a fact failed: the facts recorded before it are judged on their own,
            # so a failing hidden fact never hides how the visible ones did.
            self._publish()
        if exc_type is not None:
            return False
        print(f"통과 (OK): {self.title}" + (f" — {HIDDEN_FOLLOW}" if self.hidden else ""))
        return False

    def _publish(self) -> None:
        from IPython.display import display

        display({MIME: {"title": self.title, "records": self.records}}, raw=True)

    # -- facts -------------------------------------------------------------------------
    def _keep(self, label: str, kind: str, actual: np.ndarray, **spec) -> None:
        rec = {"label": label, "kind": kind, "actual": encode(actual)}
        for key in ("expected", "inputs"):
            if spec.get(key) is not None:
                spec[key] = encode(spec[key])
        rec.update({k: v for k, v in spec.items() if v is not None})
        self.records.append(rec)

    def _judge_now(self, label: str, kind: str, actual: np.ndarray, spec: dict) -> None:
        problem = judge(kind, actual, spec, reveal=True)
        if problem:
            raise CheckFailed(f"[{self.title}] {label}: {problem}")

    def _convert(self, label: str, value: Any) -> np.ndarray:
        try:
            return to_numpy(value)
        except TypeError as err:
            raise CheckFailed(f"[{self.title}] {label}: {err}") from None

    def close(self, label, actual, expected, *, rtol=1e-5, atol=1e-8, dtype=False):
        """``actual`` has ``expected``'s shape (and dtype if ``dtype=True``) and values within
        ``rtol``/``atol`` (as ``numpy.allclose``)."""
        a, e = self._convert(label, actual), to_numpy(expected)
        spec = {"expected": e, "rtol": rtol, "atol": atol, "dtype": dtype}
        self._judge_now(label, "close", a, spec)
        self._keep(label, "close", a, **spec)
        return a

    def equal(self, label, actual, expected, *, dtype=False):
        """``actual`` equals ``expected`` exactly (shapes, integers, booleans, strings)."""
        a, e = self._convert(label, actual), to_numpy(expected)
        spec = {"expected": e, "dtype": dtype}
        self._judge_now(label, "equal", a, spec)
        self._keep(label, "equal", a, **spec)
        return a

    def record(self, label, actual, *, rtol=1e-5, atol=1e-8, dtype=True, exact=False):
        """A hidden fact: ``actual`` is compared, in the grader, with what the reference
        solution produced for the same call (same shape, dtype unless ``dtype=False``,
        values within tolerance, or exactly equal with ``exact=True``)."""
        a = self._convert(label, actual)
        kind = "equal" if exact or a.dtype.kind in "biuU" else "close"
        self._keep(label, kind, a, rtol=rtol, atol=atol, dtype=dtype)
        return a

    def shape(self, label, actual, expected):
        """``actual`` (a tensor, array or number) has the shape ``expected`` (a tuple or
        ``torch.Size``); the message names both shapes, e.g. "기대 (4,), 실제 (4, 1)"."""
        a = np.asarray(self._convert(label, actual).shape, dtype=np.int64)
        e = np.asarray(tuple(int(n) for n in expected), dtype=np.int64)
        spec = {"expected": e}
        self._judge_now(label, "shape", a, spec)
        self._keep(label, "shape", a, **spec)
        return a

    def at_least(self, label, actual, bound):
        """A scalar ``actual >= bound`` (for example an accuracy)."""
        a = self._convert(label, actual)
        self._judge_now(label, "at_least", a, {"bound": bound})
        self._keep(label, "at_least", a, bound=bound)
        return a

    def at_most(self, label, actual, bound):
        """A scalar ``actual <= bound`` (for example a loss after training)."""
        a = self._convert(label, actual)
        self._judge_now(label, "at_most", a, {"bound": bound})
        self._keep(label, "at_most", a, bound=bound)
        return a

    def increasing(self, label, actual):
        """A 1-D sequence that strictly increases (for example losses of worse guesses)."""
        a = self._convert(label, actual)
        self._judge_now(label, "increasing", a, {})
        self._keep(label, "increasing", a)
        return a

    def decreasing(self, label, actual):
        """A 1-D sequence that strictly decreases."""
        a = self._convert(label, actual)
        self._judge_now(label, "decreasing", a, {})
        self._keep(label, "decreasing", a)
        return a

    def accuracy(self, label, scores, labels, at_least):
        """``scores: (N, C)`` (logits or log-probabilities) pick the right class in ``labels:
        (N,)`` for at least the fraction ``at_least`` of rows; the grader takes the argmax
        itself from the raw scores."""
        a, y = self._convert(label, scores), to_numpy(labels)
        spec = {"expected": y, "bound": at_least}
        self._judge_now(label, "accuracy", a, spec)
        self._keep(label, "accuracy", a, **spec)
        return a

    def _net(self, label, kind, net, inputs, targets, spec):
        try:
            params = net_parameters(net)
        except TypeError as err:
            raise CheckFailed(f"[{self.title}] {label}: {err}") from None
        flat = np.concatenate([p.reshape(-1) for p in params])
        spec = {"expected": to_numpy(targets), "inputs": to_numpy(inputs),
                "shapes": [list(p.shape) for p in params], **spec}
        if callable(net):  # the network's own forward pass must pass too (here only)
            import torch

            with torch.no_grad():
                own = self._convert(label, net(inputs)).astype(np.float64)
            if own.ndim != 2 or own.shape[0] != spec["expected"].shape[0]:
                raise CheckFailed(f"[{self.title}] {label}: 출력 모양(shape)이 다릅니다: "
                                  f"기대 (N, 출력 수), 실제 {tuple(own.shape)}")
            problem = measure(kind, own, spec["expected"], spec, logits=False)
            if problem:
                raise CheckFailed(f"[{self.title}] {label}: 신경망의 출력으로 (the network's "
                                  f"own outputs): {problem}")
        self._judge_now(label, kind, flat, spec)
        self._keep(label, kind, flat, **spec)
        return flat

    def net_accuracy(self, label, net, inputs, labels, at_least):
        """The network ``net`` (``nn.Linear`` layers with ReLU between, as
        :func:`net_outputs`; a final log-softmax does not change the argmax) picks the right
        class of ``labels (N,)`` for ``inputs (N, in)`` for at least the fraction ``at_least``.
        The grader measures the recorded parameters itself, on the inputs and labels of its own
        reference run, so replacing what the kernel computes earns nothing. Here, in the
        kernel, the outputs of ``net``'s own forward pass must pass as well (a network that
        differs from the lecture's is judged as it computes)."""
        return self._net(label, "net_accuracy", net, inputs, labels, {"bound": at_least})

    def net_loss(self, label, net, inputs, targets, at_most, *, loss="nll"):
        """The network ``net`` (as :meth:`net_accuracy`) has a loss of at most ``at_most`` on
        ``inputs (N, in)``: ``loss="nll"`` (log-softmax of the outputs, then the mean negative
        log-likelihood of class indices ``targets (N,)``, as ``F.nll_loss``) or ``"mse"`` (mean
        squared error against ``targets`` of the outputs' size, as ``F.mse_loss``). Measured by
        the grader on its own reference run's data, like :meth:`net_accuracy`; in the kernel,
        ``net``'s own outputs must pass too (``"nll"`` as ``F.nll_loss(net(inputs), targets)``,
        without a log-softmax)."""
        if loss not in ("nll", "mse"):
            raise ValueError(f"loss must be 'nll' or 'mse', not {loss!r}")
        return self._net(label, "net_loss", net, inputs, targets, {"bound": at_most, "loss": loss})

    def loss_along_rays(self, label, fn, target, directions, steps, *, seed, repeats=4):
        """A loss ``fn(pred, target)`` the student designs freely, judged by its properties
        (:func:`judge_loss_along_rays`) on its raw values only, so that a kernel can pass only
        by recording the values of a valid loss. ``target``: a tensor; ``directions (R,
        *target.shape)``: the rays ``d``; ``steps``: the ``s`` of ``pred = target + s·d``
        (include 0 and both signs). Each ``s != 0`` is also evaluated at ``s * (1 +``
        :data:`SLOPE_STEP` ``)``; ``repeats`` points are evaluated twice; the order is shuffled
        (``numpy.random.default_rng(seed)``). Each row records the loss, its derivative in ``s``
        (autograd's gradient · d; NaN when the result has no gradient) and the result's ndim.
        The grader takes which ray and which ``s`` each row is from its own reference run, never
        from the kernel."""
        import torch

        t = torch.as_tensor(target).detach()
        dirs = torch.as_tensor(directions, dtype=t.dtype)
        if dirs.ndim != t.ndim + 1 or dirs.shape[1:] != t.shape:
            raise ValueError(f"directions must be (R, *{tuple(t.shape)}), not {tuple(dirs.shape)}")
        base = [(r, float(s)) for r in range(dirs.shape[0]) for s in steps]
        base += [(r, s * (1 + SLOPE_STEP)) for r, s in base if s != 0]
        rng = np.random.default_rng(seed)
        points = base + [base[i] for i in rng.choice(len(base), size=repeats, replace=False)]
        points = [points[i] for i in rng.permutation(len(points))]
        rows = []
        for r, s in points:
            pred = (t + s * dirs[r]).requires_grad_()
            out = fn(pred, t)
            if not isinstance(out, torch.Tensor):
                arr = self._convert(label, out)
                rows.append([float(arr) if arr.ndim == 0 else np.nan, np.nan, arr.ndim])
            elif out.ndim != 0:
                rows.append([np.nan, np.nan, out.ndim])
            else:
                grad = None
                if out.requires_grad:
                    (grad,) = torch.autograd.grad(out, pred, allow_unused=True)
                slope = np.nan if grad is None else float((grad * dirs[r]).sum())
                rows.append([float(out.detach()), slope, 0])
        a = np.asarray(rows, dtype=np.float64).reshape(len(points), 3)
        spec = {"rays": [r for r, _ in points], "steps": [s for _, s in points]}
        self._judge_now(label, "loss_along_rays", a, spec)
        self._keep(label, "loss_along_rays", a, **spec)
        return a

    @contextlib.contextmanager
    def without_autograd(self, label):
        """A block that must compute without autograd (gradients by hand): it runs under
        ``torch.no_grad()``, and every tensor autograd saves for a backward pass meanwhile is
        counted (``torch.autograd.graph.saved_tensors_hooks``); ``label`` is the visible fact
        that the count is 0. Re-enabling autograd inside (``torch.enable_grad()``,
        ``torch.set_grad_enabled(True)``, ``torch.autograd.grad``, ``.backward()``,
        ``torch.autograd.functional``, a ``grad_fn`` called by hand) builds a graph, which saves
        tensors; turning the count off (``disable_saved_tensors_hooks``) raises."""
        import torch

        saved = []
        with torch.no_grad(), torch.autograd.graph.saved_tensors_hooks(
                lambda t: saved.append(1) or t, lambda t: t):
            yield
        self.equal(label, len(saved), 0)

    def no_warnings(self, label, fn, *args, **kwargs):
        """Call ``fn(*args, **kwargs)`` with warnings and NumPy floating-point errors raised as
        errors, and return its result (for example a sigmoid must not overflow)."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise"):
                try:
                    return fn(*args, **kwargs)
                except (Warning, FloatingPointError) as err:
                    raise CheckFailed(
                        f"[{self.title}] {label}: 경고(warning)나 부동소수점 오류가 났습니다 "
                        f"(overflow/invalid): {type(err).__name__}: {err}"
                    ) from None
