"""Numbers the lessons' prose quotes are the numbers the lessons print (issue 16): each lesson
whose prose quotes a computed number runs once (instructor notebook, CPU, as a student runs it)
and the printed outputs must contain the quoted values. The figures it draws on the way must not
miss a glyph (matplotlib logs "does not have a glyph" for a tofu box)."""

import functools
import re

import nbformat
import pytest

from autograder import SOLUTIONS
from autograder.pipeline.reference import execute

#: lesson -> (quoted in the prose, printed by an example cell)
QUOTED = {
    "02_forward": [("17명 **모두**를 A라고 예측", "all 17 students: AAAAAAAAAAAAAAAAA")],
    "03_loss": [
        ("오차의 평균은 −11.5점", "오차의 평균 (mean of signed errors): -11.53"),
        ("평균은 16.9점", "오차 절댓값의 평균 (mean of |errors|): 16.94"),
        ("손실은 0.2896이고, 세 방법이 같은 값", "BCE 손으로 (by hand):                 0.2896"),
        ("세 방법이 같은 값", "F.binary_cross_entropy(p, y):         0.2896"),
        ("세 방법이 같은 값", "2-클래스 NLL (F.nll_loss):            0.2896"),
        ("손실을 0.883씩", "['0.883', '0.883'] | p(A): ['0.41', '0.41'] | 실제 A인가: [1.0, 1.0]"),
        ("합계의 35.9%를 차지", "두 명의 몫 (their share of the summed loss): 35.9%"),
        ("손실이 4.48로", "점수 그대로 (raw scores 0–100)  = 4.4805"),
    ],
    "05_optimizer": [
        ("(손실 1.068)", "SGD lr = 0.01: loss after 150 epochs 1.068"),
        ("손실 0.049에 닿고", "SGD lr = 0.1, standardised: loss after 150 epochs 0.049"),
        ("모두(5/5) 맞힙니다", "test students right 5/5"),
        ("약 790", "ratio 791"),
        ("약 17입니다", "ratio 17\n"),
    ],
    "06_grade_classifier": [("반올림 오차 안에서) 같은 값", "F.cross_entropy(log_p) - F.nll_loss(log_p) = ")],
    "07_generalization": [
        ("훈련 데이터 1,079장", "훈련 1079장: "),
        ("검증 359장에", "검증 359장: "),
        ("매개변수는 8,970개", "매개변수 수 (parameters): 8970"),
        ("훈련 손실은 0.0001까지 내려가고 훈련 100장을 모두 맞히지만",
         "훈련 손실 0.0001, 훈련 정확도 1.00"),
        ("검증 손실은 에포크 19의 0.459에서", "검증 손실: 가장 낮은 값 0.459 (에포크 19), 마지막 0.958;"),
        ("검증 정확도는 0.85 근처", "검증 정확도 마지막 0.852"),
        ("규제한 두 모델도 훈련 100장을 다 맞히지만, 마지막 검증 손실은 규제 없음 0.958, 가중치 감쇠 0.471",
         "가중치 감쇠: 훈련 정확도 1.00, 검증 손실 마지막 0.471, 검증 정확도 마지막 0.872"),
        ("드롭아웃 0.470이고 검증 정확도도 0.852에서 0.872, 0.869로",
         "드롭아웃: 훈련 정확도 1.00, 검증 손실 마지막 0.470, 검증 정확도 마지막 0.869"),
        ("29 에포크만 학습하고", "조기 종료: 29 에포크에서 멈춤, 가장 좋은 에포크 19, 검증 손실 0.459"),
        ("테스트 숫자의 88.3%를", "테스트 정확도 0.883"),
    ],
}


@functools.cache
def executed(lesson: str) -> tuple[str, str, nbformat.NotebookNode]:
    """(markdown prose, printed stream text, executed notebook) of one run as a student runs it."""
    path = SOLUTIONS / lesson / f"{lesson}.ipynb"
    source = nbformat.read(path, as_version=4)
    prose = "\n".join(c.source for c in source.cells if c.cell_type == "markdown")
    nb = execute(source, path.parent, timeout=180, grading=False)
    printed = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                        for o in c.outputs if o.output_type == "stream")
    return prose, printed, nb


@pytest.mark.slow
@pytest.mark.parametrize("lesson", sorted(QUOTED))
def test_quoted_numbers_are_printed(lesson):
    prose, printed, nb = executed(lesson)
    tofu = [o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "stream" and o.name == "stderr" and "glyph" in o.text]
    assert not tofu, f"figures with missing glyphs (tofu): {tofu}"
    for quote, output in QUOTED[lesson]:
        assert quote in prose, f"the prose no longer says {quote!r}"
        assert output in printed, f"{lesson} does not print {output!r} (quoted: {quote!r})"


@pytest.mark.slow
def test_lesson06_prints_the_time_per_step_of_every_class_size():
    """The figure's title says an epoch's time grows with its ⌈N / 256⌉ steps, and the notebook
    prints the ms per step of its four class sizes for the student to compare (that they agree
    is a timing, measured by ``bench/classifier.py``)."""
    prose, printed, _ = executed("06_grade_classifier")
    assert "\\lceil N / 256 \\rceil" in prose, "the prose no longer claims ⌈N / 256⌉ steps"
    line = re.search(r"^ms per step on cpu: (.*)$", printed, re.M)
    assert line, "06 does not print 'ms per step on cpu: N=…: …'"
    per_step = dict(re.findall(r"N=(\d+): ([\d.]+)", line[1]))
    assert len(per_step) == 4 and all(float(ms) > 0 for ms in per_step.values()), line[0]
