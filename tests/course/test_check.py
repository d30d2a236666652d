"""The check machinery: judging, payloads, and the grader's verdict on forged payloads."""

import base64
import io
import pickle
import re

import nbformat
import numpy as np
import pytest
import torch

from dlcourse.check import MIME, Check, CheckFailed, decode, encode, judge, to_numpy
from dlcourse.submission import verdict


def spec(expected, **kw):
    return {"expected": np.asarray(expected), "rtol": 1e-5, "atol": 1e-8, **kw}


def test_close_accepts_and_rejects_with_korean_messages():
    assert judge("close", np.array([1.0, 2.0]), spec([1.0, 2.0])) is None
    assert "모양(shape)" in judge("close", np.ones((1, 2)), spec([1.0, 1.0]))
    assert "값(value)이 다릅니다 (not close)" in judge("close", np.array([1.0, 2.1]), spec([1, 2.0]))
    assert "NaN" in judge("close", np.array([np.nan]), spec([0.5]))
    assert "자료형(dtype)" in judge("close", np.float32([1]), spec(np.float64([1]), dtype=True))


def test_hidden_messages_do_not_reveal_expected_values():
    msg = judge("close", np.array([1.0, 2.5]), spec([1.0, 2.123456]), reveal=False)
    assert "2.123" not in msg and "기대" not in msg.split("(not close)")[1]
    assert "(숨김)" in judge("close", np.ones(3), spec(np.ones((7, 9))), reveal=False)


def test_equal_bounds_sequences_accuracy():
    assert judge("equal", np.array([0, 1]), spec([0, 1])) is None
    assert "not equal" in judge("equal", np.array([0, 2]), spec([0, 1]))
    assert judge("at_least", np.array(0.8), {"bound": 0.8}) is None
    assert "bound" in judge("at_least", np.array(0.79), {"bound": 0.8})
    assert "bound not met" in judge("at_most", np.array(np.nan), {"bound": 1.0})
    assert judge("increasing", np.array([1, 2, 3.0]), {}) is None
    assert "increasing" in judge("increasing", np.array([1, 1, 3.0]), {})
    scores = np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0], [2.0, 0, 0], [0, 2.0, 0]])
    labels = np.array([0, 1, 2, 0, 2])
    assert judge("accuracy", scores, {"expected": labels, "bound": 0.8}) is None
    assert "4/5" in judge("accuracy", scores, {"expected": labels, "bound": 1.0})


def test_payload_round_trip_and_no_pickle():
    arr = np.arange(6, dtype=np.float64).reshape(2, 3)
    assert np.array_equal(decode(encode(arr)), arr)
    buf = io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        decode(base64.b64encode(buf.getvalue()).decode())
    with pytest.raises(ValueError):
        decode(base64.b64encode(pickle.dumps({"x": 1})).decode())


def test_to_numpy_handles_course_values():
    assert to_numpy(torch.ones(2, requires_grad=True)).shape == (2,)
    assert to_numpy(torch.Size([3, 4])).tolist() == [3, 4]
    assert to_numpy([torch.zeros(2), torch.ones(2)]).shape == (2, 2)
    with pytest.raises(TypeError, match="unsupported"):
        to_numpy(object())


def test_check_block_prints_ok_and_raises_in_korean(capsys):
    with Check("연습 0.1 예시") as ck:
        ck.close("값", torch.tensor([0.5]), [0.5])
    out = capsys.readouterr().out
    assert out == ("통과 (OK): 연습 0.1 예시 — 채점 때 다른 입력으로 숨은 검사가 더 있습니다 "
                   "(hidden checks with other inputs follow at grading)\n")
    with Check("연습 0.1 예시", hidden=False) as ck:
        ck.close("값", torch.tensor([0.5]), [0.5])
    assert capsys.readouterr().out == "통과 (OK): 연습 0.1 예시\n"
    with pytest.raises(CheckFailed, match=r"\[연습 0.1 예시\] 값: 값\(value\)이 다릅니다"):
        with Check("연습 0.1 예시") as ck:
            ck.close("값", torch.tensor([0.4]), [0.5])


def test_name_errors_explain_to_run_the_cells_above_first(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from dlcourse.check import RUN_ABOVE, install_hints

    shell = InteractiveShell.instance()
    try:
        install_hints(shell)
        shell.user_ns["Check"] = Check
        for cell in ("model(X)", "with Check('연습 0.1'):\n    undefined_answer()"):
            result = shell.run_cell(cell, store_history=False)
            err = result.error_in_exec
            assert isinstance(err, NameError)
            assert str(err).count(RUN_ABOVE) == 1 and "run the cells above first" in str(err)
            assert RUN_ABOVE in capsys.readouterr().out  # the traceback the student reads
        result = shell.run_cell("1 / 0", store_history=False)
        assert RUN_ABOVE not in str(result.error_in_exec)  # other errors stay as they are
    finally:
        InteractiveShell.clear_instance()


def _release_answer(lesson: str, grade_id: str) -> str:
    nb = nbformat.read(f"dlcourse/releases/{lesson}.ipynb", as_version=4)
    return next(c.source for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_a_cell_that_calls_a_stub_names_the_exercise_to_complete_first(capsys):
    """Outside a test cell, an answer's stub (the release's own cell) says which exercise to
    complete first and closes the figures the cell opened; the error's name and message stay
    the stub's. A test cell that hits a stub,
    and a NotImplementedError of the student's own, read exactly as without the handler."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell

    from dlcourse.check import install_hints

    def out() -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)

    shell = InteractiveShell.instance()
    try:
        install_hints(shell)
        shell.user_ns.update(Check=Check, torch=torch, plt=plt, nn=torch.nn)
        shell.run_cell(_release_answer("01_neuron", "ex_predict"), store_history=False)
        shell.run_cell("kept = plt.figure()", store_history=False)
        out()
        result = shell.run_cell("fig, ax = plt.subplots()\n"
                                "ax.plot(predict(torch.ones(2, 2), torch.ones(2), 0.0))",
                                store_history=False)
        err = result.error_in_exec
        assert isinstance(err, NotImplementedError)
        assert err.args == ("아직 구현하지 않았습니다 (not implemented yet)",)
        shown = out()
        assert shown.startswith("연습 1.3을 먼저 완성하세요 (complete Exercise 1.3 first): "
                                "이 셀이 부른 predict에 아직 답이 없습니다 (still the stub), "
                                "그래서 이 셀의 그림은 그리지 않았습니다 (figure not drawn)\n"), shown
        assert plt.get_fignums() == [shell.user_ns["kept"].number]  # the cell's own closed

        cells = ["with Check('연습 1.3') as ck:\n"
                 "    ck.equal('p', predict(torch.ones(2, 2), torch.ones(2), 0.0), [1, 1])",
                 "def helper():\n    raise NotImplementedError('mine')\n\nhelper()"]
        with_handler = []
        for source in cells:
            shell.run_cell(source, store_history=False)
            with_handler.append(out())
        shell.set_custom_exc((), None)  # IPython's own display
        for source, shown in zip(cells, with_handler, strict=True):
            shell.run_cell(source, store_history=False)
            assert shown == out() and "먼저 완성하세요" not in shown, shown
    finally:
        InteractiveShell.clear_instance()
        plt.close("all")


def test_warnings_go_to_stdout_not_stderr(capsys):
    import warnings

    with Check("연습 0.1"):
        warnings.warn("torch says something", UserWarning, stacklevel=1)
    out = capsys.readouterr()
    assert "경고(warning)" in out.out and out.err == ""


def test_no_warnings_turns_overflow_into_a_failure():
    with pytest.raises(CheckFailed, match="overflow"):
        with Check("연습 0.1") as ck:
            ck.no_warnings("naive", lambda z: 1 / (1 + np.exp(-z)), np.array([-1000.0]))


def test_shape_fact_reports_the_tensors_own_shape():
    with pytest.raises(CheckFailed, match=r"\[연습 1\.2\] p: 모양\(shape\)이 다릅니다: "
                                          r"기대 \(2,\), 실제 \(1, 1\)$"):
        with Check("연습 1.2") as ck:
            ck.shape("p", torch.zeros(1, 1), (2,))
    with Check("연습 1.2") as ck:
        assert ck.shape("p", torch.zeros(2), torch.Size([2])).tolist() == [2]
        assert ck.shape("loss", torch.tensor(0.5), ()).tolist() == []
        ck.shape("python float", 0.5, ())
    assert [r["kind"] for r in ck.records] == ["shape"] * 3
    with pytest.raises(CheckFailed, match=r"기대 \(\), 실제 \(3,\)$"):
        with Check("연습 3.5") as ck:
            ck.shape("loss", [1.0, 2.0, 3.0], ())


def test_shape_judge_is_the_graders():
    want = {"expected": np.array([4, 3])}
    assert judge("shape", np.array([4, 3]), want) is None
    assert judge("shape", np.array([3, 4]), want) == "모양(shape)이 다릅니다: 기대 (4, 3), 실제 (3, 4)"
    assert judge("shape", np.array([4, 3]), want, reveal=False) is None
    assert judge("shape", np.array([2]), want, reveal=False) == (
        "모양(shape)이 다릅니다: 기대 (숨김), 실제 (2,)")
    # a forged record that is not a 1-D integer shape never passes
    assert judge("shape", np.array([4.0, 3.0]), want) is not None
    assert judge("shape", np.array([[4, 3]]), want) is not None
    reference = [rec("s", np.array([4, 3]), kind="shape", expected=encode(np.array([4, 3])))]
    assert verdict(published([rec("s", np.array([4, 3]), kind="shape")]), reference)[0]
    ok, _, msg = verdict(published([rec("s", np.array([1, 1]), kind="shape")]), reference)
    assert not ok and msg == "s: 모양(shape)이 다릅니다: 기대 (4, 3), 실제 (1, 1)"


# ------------------------------------------------------------------ the grader's verdict


def published(records, extra_outputs=()):
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [*extra_outputs, nbformat.v4.new_output(
        "display_data", data={MIME: {"title": "t", "records": records}})]
    return cell


def rec(label, actual, **kw):
    return {"label": label, "kind": kw.pop("kind", "close"), "actual": encode(np.asarray(actual)),
            "rtol": 1e-5, "atol": 1e-8, **kw}


REFERENCE = [rec("visible", [1.0, 2.0], expected=encode(np.array([1.0, 2.0]))),
             rec("hidden", [0.25, 0.75], dtype=True)]


def test_verdict_passes_the_same_values():
    ok, state, msg = verdict(published([rec("visible", [1.0, 2.0]), rec("hidden", [0.25, 0.75])]),
                             REFERENCE)
    assert ok and state == "graded" and "통과 (OK)" in msg


def test_verdict_ignores_what_the_student_claims_is_expected():
    forged = [rec("visible", [9.0, 9.0], expected=encode(np.array([9.0, 9.0])), atol=1e9),
              rec("hidden", [0.25, 0.75], kind="equal")]
    ok, _, msg = verdict(published(forged), REFERENCE)
    assert not ok and "visible" in msg


def test_verdict_rejects_missing_duplicated_and_fake_output():
    fake_ok = nbformat.v4.new_output("stream", name="stdout", text="통과 (OK)\n")
    ok, _, msg = verdict(published([rec("visible", [1.0, 2.0])], [fake_ok]), REFERENCE)
    assert not ok and "missing" in msg
    dup = [rec("visible", [1.0, 2.0]), rec("hidden", [0.25, 0.75]), rec("hidden", [0.0, 0.0])]
    ok, _, msg = verdict(published(dup), REFERENCE)
    assert not ok and "duplicated" in msg
    ok, _, msg = verdict(published([rec("visible", [1.0, 2.0]), rec("hidden", [0.2, 0.7])]),
                         REFERENCE)
    assert not ok and msg.startswith("숨은 검사(hidden test) hidden") and "0.75" not in msg


def test_verdict_without_payload_reports_the_kernel_error():
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("error", ename="NotImplementedError",
                                           evalue="아직 구현하지 않았습니다", traceback=[])]
    ok, _, msg = verdict(cell, REFERENCE)
    assert not ok and msg == "NotImplementedError: 아직 구현하지 않았습니다"


def _net_records(net, inputs, labels, kind="net_accuracy", **kw):
    """What a test cell publishes for one network fact (the kernel's Check, judging off, as a
    forging kernel would)."""
    ck = Check("t", hidden=False)
    ck._judge_now = lambda *args: None
    getattr(ck, kind)("n", list(net.parameters()), inputs, labels, **kw)
    return ck.records


def test_network_facts_are_measured_by_the_grader_on_its_own_data():
    y = torch.randint(0, 3, (30,), generator=torch.Generator().manual_seed(0))
    X = torch.eye(3)[y].repeat(1, 2)[:, :5]  # rows that one-hot encode their label
    good = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.LogSoftmax(dim=1))
    with torch.no_grad():  # a network that classifies X perfectly
        good[0].weight.copy_(torch.eye(3, 5) * 10)
        good[0].bias.zero_()
    reference = _net_records(good, X, y, at_least=1.0)
    assert verdict(published(_net_records(good, X, y, at_least=1.0)), reference)[0]
    # an untrained network that sends its own inputs and labels (its own predictions), and a
    # bound it cannot miss, is still measured on the reference's inputs, labels and bound
    bad = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.LogSoftmax(dim=1))
    with torch.no_grad():
        bad[0].weight.copy_(-torch.eye(3, 5))
        bad[0].bias.zero_()
        own = bad(X).argmax(dim=1)
    forged = _net_records(bad, X, own, at_least=0.0)
    ok, _, msg = verdict(published(forged), reference)
    assert not ok and msg == "n: 정확도(accuracy)가 낮습니다: 0/30 맞음, 30개 이상 필요"
    loss_ref = _net_records(good, X, y, kind="net_loss", at_most=0.01)
    assert verdict(published(_net_records(good, X, y, kind="net_loss", at_most=0.01)), loss_ref)[0]
    ok, _, msg = verdict(published(_net_records(bad, X, own, kind="net_loss", at_most=1e30)),
                         loss_ref)
    assert not ok and "bound not met" in msg and "≤ 0.01" in msg
    # parameters of another size or not finite never pass
    other = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Linear(4, 3))
    ok, _, msg = verdict(published(_net_records(other, X, y, at_least=1.0)), reference)
    assert not ok and "wrong number of parameters" in msg
    nan = [{**forged[0], "actual": encode(np.full(18, np.nan))}]
    assert "non-finite" in verdict(published(nan), reference)[2]


def test_network_facts_judge_in_the_kernel_as_the_grader_does():
    lin = torch.nn.Linear(1, 1)
    with torch.no_grad():
        lin.weight.fill_(2.0)
        lin.bias.fill_(0.0)
    X = torch.linspace(0, 1, 5).unsqueeze(1)
    with Check("mse", hidden=False) as ck:
        ck.net_loss("fit", lin, X, 2 * X, 1e-12, loss="mse")
    with pytest.raises(CheckFailed, match=r"mse 손실 0.2 ≤ 0.1"):
        with Check("mse", hidden=False) as ck:
            ck.net_loss("fit", lin, X, 2 * X + torch.tensor([[0.0], [0.0], [1.0], [0.0], [0.0]]),
                        0.1, loss="mse")
    # the network's own forward pass is judged too, here: its outputs taken as log-probabilities
    # (F.nll_loss), where the grader measures the lecture's network (log-softmax first)
    probs = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Softmax(dim=1))
    with torch.no_grad():
        probs[0].weight.copy_(torch.tensor([[10.0], [-10.0]]))
        probs[0].bias.zero_()
    labels = torch.zeros(5, dtype=torch.long)
    Xp = X + 1
    with Check("own", hidden=False) as ck:
        ck.net_accuracy("acc", probs, Xp, labels, 1.0)
        ck.net_loss("nll", probs, Xp, labels, 1e-6)  # -mean(p) < 0 as F.nll_loss has it
    log_twice = torch.nn.Sequential(probs, torch.nn.LogSoftmax(dim=1))
    with pytest.raises(CheckFailed, match=r"the network's own outputs\): 기준을 넘지 못했습니다"):
        with Check("own", hidden=False) as ck:
            ck.net_loss("nll", log_twice, Xp, labels, 0.2)
    assert judge("net_loss", np.concatenate([p.detach().reshape(-1).numpy() for p in probs.parameters()]),
                 {"expected": labels.numpy(), "inputs": Xp.numpy(), "shapes": [[2, 1], [2]],
                  "bound": 0.2, "loss": "nll"}) is None  # the grader: the same weights pass
    with pytest.raises(CheckFailed, match="not a stack of nn.Linear layers"):
        with Check("conv", hidden=False) as ck:
            ck.net_accuracy("c", torch.nn.Conv1d(1, 1, 3), X, torch.zeros(5), 0.5)


#: Losses a student may design (exercise 3.5): each must pass every property.
HONEST_LOSSES = {
    "huber": lambda p, t: torch.where((p - t).abs() < 1, 0.5 * (p - t) ** 2,
                                      (p - t).abs() - 0.5).mean(),
    "mae": lambda p, t: (p - t).abs().mean(),
    "mae-sum": lambda p, t: (p - t).abs().sum(),
    "mse-plus-mae": lambda p, t: ((p - t) ** 2).mean() + 0.1 * (p - t).abs().mean(),
    "log-cosh": lambda p, t: torch.log(torch.cosh(p - t)).mean(),
    "rmse": lambda p, t: torch.sqrt(((p - t) ** 2).mean()),
    "max-abs": lambda p, t: (p - t).abs().max(),
}
#: Losses that break one property, and the property the verdict names.
WRONG_LOSSES = {
    "offset": (lambda p, t: (p - t).abs().mean() + 1, "not 0 at a perfect prediction"),
    "one-sided": (lambda p, t: torch.relu(p - t).mean(), "not larger for worse predictions"),
    "noise": (lambda p, t: ((p - t) ** 2).mean() * (1 + 0.01 * torch.rand(())),
              "not a function of its inputs"),
    "item": (lambda p, t: (p - t).abs().mean().item(), "autograd cannot differentiate it"),
    "detached": (lambda p, t: (p - t).abs().mean().detach(), "autograd cannot differentiate it"),
    "per-element": (lambda p, t: (p - t) ** 2, "not a 0-dim tensor"),
    "negative": (lambda p, t: ((p - t) ** 2).mean() - 0.5 * (p - t).abs().mean(),
                 "negative loss"),
    "wrong-gradient": (lambda p, t: (p - t).abs().mean() + ((p - t) ** 2).mean().detach(),
                       "gradient does not match the loss values"),
}


def _ray_records(fn, seed=306, steps=(-2.5, -1.0, -0.3, 0.0, 0.3, 1.0, 2.5), judging=False):
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(3, 5, generator=g, dtype=torch.float64) * 50
    ck = Check("t", hidden=False)
    if not judging:
        ck._judge_now = lambda *args: None
    rays = torch.randn(4, 3, 5, generator=g, dtype=torch.float64)
    rays[0] = rays[0].abs()  # every element too large, or too small: catches one-sided losses
    ck.loss_along_rays("rays", fn, target, rays, list(steps), seed=seed)
    return ck.records


@pytest.mark.parametrize("name", sorted(HONEST_LOSSES))
def test_loss_along_rays_passes_honest_losses(name):
    records = _ray_records(HONEST_LOSSES[name], judging=True)  # the kernel's judgement too
    assert verdict(published(records), _ray_records(HONEST_LOSSES["huber"])) == (
        True, "graded", "통과 (OK): 검사 1개")


@pytest.mark.parametrize("name", sorted(WRONG_LOSSES))
def test_loss_along_rays_names_the_broken_property(name):
    fn, phrase = WRONG_LOSSES[name]
    ok, _, msg = verdict(published(_ray_records(fn)), _ray_records(HONEST_LOSSES["huber"]))
    assert not ok and msg.startswith("숨은 검사(hidden test) rays: ") and f"({phrase})" in msg, msg
    with pytest.raises(CheckFailed, match=rf"\({phrase}\)"):
        _ray_records(fn, judging=True)


def test_loss_along_rays_takes_the_points_from_the_reference_run():
    """A kernel that records the values of a bad loss, with points of its own choosing (no
    repeats, no s = 0), is judged at the reference run's points; so are values in another order."""
    reference = _ray_records(HONEST_LOSSES["huber"])
    offset = WRONG_LOSSES["offset"][0]
    own = _ray_records(offset, steps=(0.3, 1.0, 2.5), seed=1)
    assert own[0]["steps"] != reference[0]["steps"]
    forged = [{**reference[0], "actual": encode(
        np.resize(decode(own[0]["actual"]), decode(reference[0]["actual"]).shape))}]
    ok, _, msg = verdict(published(forged), reference)
    assert not ok and "hidden test" in msg, msg
    rising = np.arange(decode(reference[0]["actual"]).shape[0], dtype=np.float64)
    fake = np.stack([rising, np.ones_like(rising), np.zeros_like(rising)], axis=1)
    ok, _, msg = verdict(published([{**reference[0], "actual": encode(fake)}]), reference)
    assert not ok and "(not a function of its inputs)" in msg, msg
    assert "wrong record" in verdict(published([{**reference[0], "actual": encode(fake[:-1])}]),
                                     reference)[2]


def test_a_failing_check_shows_the_cell_not_the_check_machinery(capsys):
    """The traceback of a failing fact names the student's cell and their own function, never a
    frame of dlcourse/check.py."""
    from IPython.core.interactiveshell import InteractiveShell

    from dlcourse.check import install_hints

    shell = InteractiveShell.instance()
    try:
        install_hints(shell)
        shell.user_ns.update(Check=Check, torch=torch)
        shell.run_cell("def mine(z):\n    return z * 2", store_history=False)
        result = shell.run_cell("with Check('연습 0.1') as ck:\n"
                                "    ck.close('값', mine(torch.tensor([1.0])), [1.0])",
                                store_history=False)
        assert isinstance(result.error_in_exec, CheckFailed)
        out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
        assert "CheckFailed" in out and "ck.close" in out, out
        assert "dlcourse/check.py" not in out and "_judge_now" not in out, out
    finally:
        InteractiveShell.clear_instance()


def test_a_known_mistake_adds_its_hint_once(monkeypatch):
    import dlcourse.check
    from dlcourse.check import HINT_MARK, fingerprint

    shown = "CheckFailed: [연습 0.1] 값: 값(value)이 다릅니다 (not close): 최대 차이 1 (허용 rtol=1e-05, atol=1e-08); 기대 [1.], 실제 [2.]"  # noqa: E501
    tip = "두 배 하지 마세요 (no doubling)"
    monkeypatch.setattr(dlcourse.check, "common_mistakes", lambda: {fingerprint(shown): tip})
    with pytest.raises(CheckFailed) as err:
        with Check("연습 0.1") as ck:
            ck.close("값", torch.tensor([2.0]), [1.0])
    assert f"CheckFailed: {err.value}" == f"{shown}{HINT_MARK}{tip}"
    dlcourse.check.add_hint(err.value)
    assert str(err.value).count(HINT_MARK) == 1
    with pytest.raises(CheckFailed) as other:  # another wrong value: no hint
        with Check("연습 0.1") as ck:
            ck.close("값", torch.tensor([3.0]), [1.0])
    assert HINT_MARK not in str(other.value)


def test_two_lessons_answering_one_name_are_told_apart_by_the_docstring(monkeypatch):
    """Where two released lessons answer the same name, the cell that defined it picks the one
    whose docstring it repeats; with no docstring to decide, no exercise is named."""
    from dlcourse import exercises

    given = (exercises.Answer("02_forward", "2.5", "5 → 16 → 9 → 3"),
             exercises.Answer("08_more", "8.1", "5 → 32 → 3"))
    monkeypatch.setattr(exercises, "answers", lambda: {"GradeNet": given})
    assert exercises.exercise_of("GradeNet.__init__", 'class GradeNet:\n    """5 → 32 → 3"""\n') == "8.1"
    assert exercises.exercise_of("GradeNet", 'class GradeNet:\n    """5 → 16 → 9 → 3"""\n') == "2.5"
    assert exercises.exercise_of("GradeNet", "class GradeNet:\n    pass\n") is None
