"""One vocabulary (docs/glossary.md): no lesson's prose or example cell uses a variant the glossary
lists as avoided, and no particle is cut off after bold text, math or code ("**XOR** 은",
"$X$ 의"), in the instructor notebooks and in the student copies generated from them. A test
cell's words a student reads (its docstring and its checks' labels: every string in it) use no
avoided variant either.

Answer and setup cells are left to their own checks. Words in double quotes are quotations (of the
source lecture) and may use the lecture's own terms."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from autograder import RELEASE, SOLUTIONS

from .conftest import LESSONS

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "glossary.md"

#: Particles and endings that attach to the word before them in Korean spelling.
PARTICLES = ("을 를 이 가 은 는 의 와 과 로 으로 에 에서 에게 에는 에서는 에서도 도 만 만큼 만큼씩 "
             "입니다 이고 이며 이므로 이면 이다 인 이나 부터 까지 처럼 보다 로는 으로는 와는 과는 "
             "였습니다 이라는 라는 이어야 여야 이어도 면 나 일 명 명의 명씩 번 개").split()
#: A particle standing alone after the end of bold text, math, code, a Latin word or a number.
DETACHED = re.compile(r"(?<=[A-Za-z0-9_)\]}*$`'%²]) ("
                      + "|".join(sorted(PARTICLES, key=len, reverse=True)) + r")(?![가-힣])")
#: Display math, code, inline math and bold: the insides are not Korean prose.
SPANS = re.compile(r"\$\$.*?\$\$|```.*?```|`[^`\n]*`|\$[^$\n]+\$|\*\*[^*\n]+?\*\*", re.S)
QUOTED = re.compile(r'"[^"\n]*"')


def avoided() -> list[str]:
    """The last column of the glossary table, one entry per comma-separated word."""
    words = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) == 4 and cols[0] not in ("한국어", "---"):
            words += [w.strip() for w in cols[3].split(",") if w.strip()]
    return words


def detached_particles(text: str) -> list[str]:
    spans = [m.span() for m in SPANS.finditer(text)]
    return [text[max(0, m.start() - 15):m.end()] for m in DETACHED.finditer(text)
            if not any(a < m.start() < b - 1 for a, b in spans)]


def problems(nb) -> list[str]:
    """'cell N: ...' for every avoided word and detached particle in the prose and example cells."""
    words, out = avoided(), []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            strings = [n.value for n in ast.walk(ast.parse(cell.source))
                       if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            out += [f"cell {i}: {w!r} in {t!r}" for t in strings for w in words if w in t]
            continue
        if cell.cell_type == "code" and cell.metadata.get("nbgrader"):
            continue  # answer and setup code; a written answer (markdown) is prose
        text = QUOTED.sub('""', cell.source)
        out += [f"cell {i}: {w!r}" for w in words if w in text]
        if cell.cell_type == "markdown":
            out += [f"cell {i}: detached particle in {s!r}" for s in detached_particles(cell.source)]
    return out


def test_glossary_lists_the_discouraged_variants():
    words = avoided()
    for w in ("에폭", "파라미터", "크로스 엔트로피", "오차 함수", "숨은 층", "씨앗", "정보 누출",
              "시험 학생", "다음 강의"):
        assert w in words, w


@pytest.mark.parametrize("text, found", [
    ("머신러닝에서 배운 **로지스틱 회귀** 와 똑같은", ["'cell 0: detached particle"]),
    ("입력 행렬 $X$ 의 모양", ["'cell 0: detached particle"]),
    ("`nn.Module` 로 만들고", ["'cell 0: detached particle"]),
    ("한 에폭이 끝나면", ["'cell 0: '에폭'"]),
    ("다음 강의에서", ["'cell 0: '다음 강의'"]),
    ("시험 학생 5명", ["'cell 0: '시험 학생'"]),
    ('원 강의는 "크로스 엔트로피"라고 부릅니다', []),
    ("**로지스틱 회귀**(Logistic Regression)와 $X$의 모양은 `nn.Module`로, 이 PyTorch 버전", []),
    ("**보기만** 합니다. 값 $p$ 값", []),
])
def test_the_check_finds_what_it_should(text, found):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    got = problems(nb)
    assert [g[:len(f) - 1] for g, f in zip(got, found, strict=False)] == [f[1:] for f in found]
    assert len(got) == len(found), got


@pytest.mark.parametrize("source, found", [
    ('"""연습 5.3 검사 (2점): 에폭별 손실"""\nck.equal(f"{n} 에포크", 1, 1)', ["'에폭'"]),
    ('ck.equal("시험 학생 5명 (test students)", 1, 1)', ["'시험 학생'"]),
    ('ck.equal("테스트 학생 5명, 20 에포크의 손실", 1, 1)  # 에폭 in a comment is no label', []),
])
def test_the_check_reads_the_labels_of_test_cells(source, found):
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade": True, "locked": True}})
    got = problems(nbformat.v4.new_notebook(cells=[cell]))
    assert [g.split(" in ")[0] for g in got] == [f"cell 0: {f}" for f in found], got


@pytest.mark.parametrize("folder", [SOLUTIONS, RELEASE], ids=["solutions", "notebooks"])
@pytest.mark.parametrize("lesson", LESSONS)
def test_lessons_use_one_vocabulary(folder, lesson):
    nb = nbformat.read(folder / lesson / f"{lesson}.ipynb", as_version=4)
    assert not problems(nb), "\n".join(problems(nb))


@pytest.mark.parametrize("lesson", LESSONS)
def test_try_it_has_one_form(lesson):
    """Every "try it" cell says it the same way: 직접 해 보기 (try it), in prose and in a comment."""
    nb = nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", as_version=4)
    other = [f"cell {i}: {m[0]!r}" for i, c in enumerate(nb.cells)
             for m in re.finditer(r".{0,12}try it", c.source, re.I) if not m[0].endswith("직접 해 보기 (try it")]
    assert not other, "\n".join(other)
