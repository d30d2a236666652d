"""The three steps of one judgement (:mod:`dlcourse.submission`) on small notebooks built here:
:func:`read_notebook`, :func:`rebuild` and :func:`verdict`, with exact results and no kernel."""

import json

import nbformat
import numpy as np
import pytest
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dlcourse.check import MIME, encode
from dlcourse.submission import (
    MAX_CODE_BYTES,
    MAX_FILE_BYTES,
    READ_PROBLEMS,
    cell_label,
    read_notebook,
    rebuild,
    verdict,
)
from dlcourse.validate import releases

# ----------------------------------------------------------------------------- read_notebook


def write(tmp_path, content: bytes | str, name="hw.ipynb"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def problem(nb) -> tuple[str, str]:
    return nb.metadata["dlcourse"]["status"], nb.metadata["dlcourse"]["message"]


@pytest.mark.parametrize(("content", "status", "message"), [
    (b"", "empty", READ_PROBLEMS["empty"]),
    (b"  \n\t", "empty", READ_PROBLEMS["empty"]),
    ("안녕".encode("cp949"), "not utf-8", READ_PROBLEMS["not utf-8"]),
    (b'{"cells": [', "invalid json", "노트북 JSON이 깨졌습니다 (invalid JSON): Expecting value: "
                                     "line 1 column 12 (char 11)"),
    (b"[1, 2]", "not a notebook", "노트북 형식이 아닙니다 (not a notebook): top level is not a "
                                  "notebook object"),
    (b'{"cells": {}}', "not a notebook", "노트북 형식이 아닙니다 (not a notebook): top level is "
                                         "not a notebook object"),
    (b'{"cells": [], "nbformat": 3}', "old nbformat",
     "오래된 노트북 형식입니다 (old nbformat 3); Jupyter에서 다시 저장하세요"),
    (b'{"cells": []}', "old nbformat",
     "오래된 노트북 형식입니다 (old nbformat None); Jupyter에서 다시 저장하세요"),
])
def test_read_notebook_turns_a_bad_file_into_an_empty_notebook_with_its_status(
        tmp_path, content, status, message):
    nb = read_notebook(write(tmp_path, content))
    assert (problem(nb), nb.cells) == ((status, message), [])


def test_read_notebook_refuses_a_file_over_the_limit_before_reading_it(tmp_path):
    path = tmp_path / "huge.ipynb"
    with path.open("wb") as fh:  # sparse: the size is all read_notebook looks at
        fh.truncate(MAX_FILE_BYTES + 1)
    assert problem(read_notebook(path)) == (
        "too large", "파일이 너무 큽니다 (file too large): 97.7 MB, 한도 97.7 MB (limit)")


def test_read_notebook_drops_outputs_before_the_code_limit(tmp_path):
    """21 MB of saved output: read (outputs and attachments dropped, a note says so); 21 MB of
    code: refused with its size."""
    nb = new_notebook(cells=[new_code_cell("print(1)"), new_markdown_cell("![x](attachment:x)")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="x" * (21 * 2**20))]
    nb.cells[0].execution_count = 3
    nb.cells[1].attachments = {"x": {"image/png": "AAAA"}}
    got = read_notebook(write(tmp_path, nbformat.writes(nb)))
    assert [(c.source, c.get("outputs"), c.get("execution_count"), "attachments" in c)
            for c in got.cells] == [("print(1)", [], None, False),
                                    ("![x](#attachment-not-kept)", None, None, False)]
    assert got.metadata["dlcourse"] == {"notes": [
        "저장된 출력(outputs) 때문에 파일이 21.0 MB입니다: 출력은 채점에 쓰지 않고 지웠습니다 "
        "(saved outputs dropped)",
        "셀에 붙인 그림은 채점 노트북에 싣지 않았습니다 (cell attachments not kept): x"]}
    big = new_notebook(cells=[new_code_cell("#" * (MAX_CODE_BYTES + 10))])
    assert problem(read_notebook(write(tmp_path, nbformat.writes(big), "big.ipynb"))) == (
        "too large", "파일이 너무 큽니다 (file too large): 출력을 뺀 코드와 글이 20.0 MB, 한도 "
                     "20.0 MB (code and text over the limit)")


def test_read_notebook_keeps_the_graders_metadata_only_when_trusted(tmp_path):
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    nb.metadata["dlcourse"] = {"status": "graded", "notes": ["forged"]}
    path = write(tmp_path, "\ufeff" + nbformat.writes(nb))  # a byte-order mark is accepted
    assert "dlcourse" not in read_notebook(path).metadata
    assert read_notebook(path, trusted=True).metadata["dlcourse"] == {
        "status": "graded", "notes": ["forged"]}


# ----------------------------------------------------------------------------- rebuild


def nbgrader(cell, **meta):
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False,
                                 "locked": False, **meta}
    return cell


def answer(gid, source, cell_id=None):
    return nbgrader(new_code_cell(source, id=cell_id or gid), grade_id=gid, solution=True)


def test_cell(gid, source):
    return nbgrader(new_code_cell(source, id=gid), grade_id=gid, grade=True, locked=True,
                    points=1)


test_cell.__test__ = False  # a cell builder, not a test

HIDDEN = "### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\n"


def template():
    """An instructor notebook: prose, two answer cells, each followed by its test cell (the
    first with hidden tests)."""
    nb = new_notebook(cells=[
        new_markdown_cell("# 1강", id="intro"),
        answer("ans-f", "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
        test_cell("test-f", "assert f(1) == 2\n" + HIDDEN),
        answer("ans-g", "def g(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION"),
        test_cell("test-g", "assert g(1) == 2"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def released(**sources):
    """What the student hands in: the release (test cells without hidden tests) with the
    answer cells' sources replaced by ``sources`` (keyed by grade id, ``-`` for ``_``)."""
    nb = template()
    for cell in nb.cells:
        cell.source = cell.source.replace(HIDDEN, "")
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "").replace("-", "_")
        if gid in sources:
            cell.source = sources[gid]
    return nb


F, G = "def f(x):\n    return 2 * x", "def g(x):\n    return x + 1"


def rebuilt(cells):
    """(the rebuilt notebook's cells as (id, type, origin, source), its notes)."""
    student = released(ans_f=F, ans_g=G)
    student.cells = cells(student.cells)
    nb = rebuild(template(), student)
    return ([(c.id, c.cell_type, c.metadata.get("dlcourse", {}).get("origin"), c.source)
             for c in nb.cells], nb.metadata["dlcourse"].get("notes", []))


#: The rebuilt notebook of an untouched submission.
INTACT = [
    ("intro", "markdown", "student", "# 1강"),
    ("ans-f", "code", "student", F),
    ("test-f", "code", None, "assert f(1) == 2\n" + HIDDEN),
    ("ans-g", "code", "student", G),
    ("test-g", "code", None, "assert g(1) == 2"),
]


def test_rebuild_of_an_untouched_submission_is_the_template_with_its_answers():
    assert rebuilt(lambda cells: cells) == (INTACT, [])
    nb = rebuild(template(), released(ans_f=F, ans_g=G))
    assert nb.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3"}
    assert nb.cells[1].metadata["nbgrader"]["grade_id"] == "ans-f"


def test_rebuild_keeps_every_part_of_a_split_answer_cell():
    def split(cells):
        head = cells[1]
        head.source = "def f(x):\n    return helper(x)"
        return [*cells[:2], new_code_cell("def helper(x):\n    return 2 * x", id="part2"),
                *cells[2:]]

    assert rebuilt(split) == ([
        INTACT[0],
        ("ans-f", "code", "student", "def f(x):\n    return helper(x)"),
        ("part2", "code", "student", "def helper(x):\n    return 2 * x"),
        *INTACT[2:],
    ], [])


def test_rebuild_finds_an_answer_cell_that_lost_its_metadata_by_its_place():
    def lost(cells):
        cells[1] = new_code_cell("import math\n", id="mine")
        return [*cells[:2], new_code_cell(F, id="pasted-over"), *cells[2:]]

    assert rebuilt(lost) == ([
        INTACT[0],
        ("mine", "code", "student", "import math\n"),
        ("ans-f", "code", "student", F),
        *INTACT[2:],
    ], ["메타데이터가 없는 셀을 제자리의 답안으로 채점했습니다 (answer cell matched by its place): "
        "ans-f"])


def test_rebuild_leaves_a_pasted_copy_of_an_answer_cell_where_it_is():
    def pasted(cells):
        copy = nbformat.from_dict(json.loads(json.dumps(cells[1])))
        copy.source = "def f(x):\n    return 0"
        return [*cells[:3], copy, *cells[3:]]

    assert rebuilt(pasted) == ([
        *INTACT[:3],
        ("ans-f-3", "code", "student", "def f(x):\n    return 0"),
        *INTACT[3:],
    ], [])


def test_rebuild_puts_reordered_cells_back_in_place():
    assert rebuilt(lambda c: [c[0], c[3], c[4], c[1], c[2]]) == (INTACT, [
        "순서가 바뀐 셀을 원래 자리로 옮겨 실행했습니다 (reordered cells put back in place)"])


def test_rebuild_restores_a_retyped_answer_cell_to_code():
    def retyped(cells):
        md = new_markdown_cell(F, id="ans-f")
        md.metadata = cells[1].metadata
        return [cells[0], md, *cells[2:]]

    assert rebuilt(retyped) == (INTACT, [
        "답안 셀을 코드 셀로 되돌렸습니다 (answer cell restored to code): ans-f"])


def test_rebuild_restores_a_written_answer_turned_into_code_to_markdown():
    """Lesson 01's written answer (a markdown answer cell) handed in as a code cell: it is
    graded as markdown, its text kept, and the note says markdown, not code."""
    release = releases()["01_neuron"]
    student = nbformat.from_dict(json.loads(json.dumps(release)))
    at = next(i for i, c in enumerate(student.cells) if c.cell_type == "markdown"
              and c.metadata.get("nbgrader", {}).get("solution"))
    written = student.cells[at]
    student.cells[at] = new_code_cell("x = 1  # 제 답은 ...", id=written.id,
                                      metadata=written.metadata)
    nb = rebuild(release, student)
    cell = next(c for c in nb.cells if c.id == written.id)
    assert (cell.cell_type, cell.source) == ("markdown", "x = 1  # 제 답은 ...")
    assert nb.metadata["dlcourse"]["notes"] == [
        "서술형 답 셀을 마크다운 셀로 되돌렸습니다 (written answer cell restored to markdown): "
        + cell_label(written)]


def test_rebuild_restores_deleted_and_tampered_locked_cells_and_ignores_copies():
    def tampered(cells):
        cells[4].source = "assert True"
        return [cells[0], cells[1], cells[3], cells[4], cells[4]]  # test-f gone, test-g twice

    assert rebuilt(tampered) == (INTACT, [
        "잠긴 셀(locked cell)은 배포된 과제의 내용으로 실행했습니다; 제출한 사본과 다릅니다 "
        "(locked cell restored): test-g",
        "지워진 잠긴 셀(locked cell)을 되살렸습니다 (deleted cell restored): test-f",
        "복사한 잠긴 셀(locked cell)은 무시했습니다 (duplicated locked cell ignored): test-g",
    ])


def test_rebuild_matches_a_locked_cell_that_lost_its_metadata_by_its_source():
    def stripped(cells):
        cells[2] = new_code_cell("assert f(1) == 2\n", id="new-id")
        return cells

    assert rebuilt(stripped) == (INTACT, [])


def test_rebuild_gives_every_cell_a_unique_id():
    """Two student cells with one id, and a cell with the id of a template cell (placed after
    that cell, as a cell matched to it): each id that repeats gets its position appended."""
    def dup(cells):
        return [cells[0], new_code_cell("a = 1", id="x"), new_code_cell("b = 2", id="x"),
                new_code_cell("c = 3", id="intro"), *cells[1:]]

    assert rebuilt(dup) == ([
        INTACT[0],
        ("intro-1", "code", "student", "c = 3"),
        ("x", "code", "student", "a = 1"),
        ("x-3", "code", "student", "b = 2"),
        *INTACT[1:],
    ], [])


def test_rebuild_names_a_missing_answer_and_a_foreign_kernel():
    student = released(ans_f=F, ans_g=G)
    student.cells = [c for c in student.cells if c.id != "ans-g"]
    student.metadata["kernelspec"] = {"name": "evil-kernel"}
    student.metadata["dlcourse"] = {"notes": ["from read_notebook"]}
    nb = rebuild(template(), student)
    assert [(c.id, c.source) for c in nb.cells][3] == ("ans-g", "")
    assert nb.metadata["dlcourse"]["notes"] == [
        "from read_notebook",
        "답안 셀이 없습니다 (answer cell missing): ans-g",
        "노트북의 커널(kernel) 설정 'evil-kernel' 대신 python3로 실행했습니다 (kernelspec ignored)",
    ]


# ----------------------------------------------------------------------------- verdict


def executed(records, error=None, status=None):
    """A test cell as it comes out of the kernel: one check payload with ``records``
    (``[(label, value or its encoding)]``; ``None``: no payload), optionally an error output
    and a stop status."""
    cell = test_cell("t", "...")
    if records is not None:
        payload = {"title": "t", "records": [
            {"label": label, "kind": "close", "actual": value if isinstance(value, str)
             else encode(np.asarray(value))} for label, value in records]}
        cell.outputs.append(nbformat.v4.new_output("display_data", data={MIME: payload}))
    if error:
        cell.outputs.append(nbformat.v4.new_output("error", ename=error[0], evalue=error[1],
                                                   traceback=[]))
    if status:
        cell.metadata["dlcourse"] = {"status": status, "message": "멈춤 (stopped)"}
    return cell


def visible(label, expected):
    return {"label": label, "kind": "close", "expected": encode(np.asarray(expected))}


def hidden(label, actual):
    return {"label": label, "kind": "close", "actual": encode(np.asarray(actual))}


@pytest.mark.parametrize(("cell", "reference", "result"), [
    (executed([("f(1)", [2.0]), ("f(2)", 4.0)]), [visible("f(1)", [2.0]), hidden("f(2)", 4.0)],
     (True, "graded", "통과 (OK): 검사 2개")),
    (executed([("f(1)", [2.5])]), [visible("f(1)", [2.0])],
     (False, "graded", "f(1): 값(value)이 다릅니다 (not close): 최대 차이 0.5 (허용 rtol=1e-05, "
                       "atol=1e-08); 기대 [2.], 실제 [2.5]")),
    (executed([("f(2)", 5.0)]), [hidden("f(2)", 4.0)],
     (False, "graded", "숨은 검사(hidden test) f(2): 값(value)이 다릅니다 (not close): 최대 차이 1 "
                       "(허용 rtol=1e-05, atol=1e-08)")),
    (executed([("f(1)", [2.0])]), [visible("f(1)", [2.0]), hidden("f(2)", 4.0)],
     (False, "graded", "f(2): 검사 기록이 없습니다 (missing)")),
    (executed([("f(1)", [2.0]), ("f(1)", [2.0])]), [visible("f(1)", [2.0])],
     (False, "graded", "f(1): 검사 기록이 여러 번 나왔습니다 (duplicated)")),
    (executed([("f(1)", "not base64!")]), [visible("f(1)", [2.0])],
     (False, "graded", "f(1): 기록을 읽을 수 없습니다 (unreadable record)")),
    (executed([("f(1)", [2.0])], error=("ValueError", "boom")),
     [visible("f(1)", [2.0]), hidden("f(2)", 4.0)], (False, "graded", "ValueError: boom")),
    (executed(None, error=("NameError", "name 'f' is not defined")), [visible("f(1)", [2.0])],
     (False, "graded", "NameError: name 'f' is not defined")),
    (executed(None), [visible("f(1)", [2.0])],
     (False, "graded", "검사 결과가 없습니다 (no check result): 셀이 끝까지 실행되지 않았습니다")),
    (executed([("f(1)", [2.0])], status="timed out"), [visible("f(1)", [2.0])],
     (False, "timed out", "멈춤 (stopped)")),
])
def test_verdict(cell, reference, result):
    assert verdict(cell, reference) == result


def test_verdict_trusts_the_reference_not_what_the_cell_claims_to_expect():
    """A payload's own ``expected`` (forged by the student's code) is never read."""
    cell = executed([("f(1)", [9.0])])
    cell.outputs[0].data[MIME]["records"][0]["expected"] = encode(np.asarray([9.0]))
    assert verdict(cell, [hidden("f(1)", [2.0])]) == (
        False, "graded", "숨은 검사(hidden test) f(1): 값(value)이 다릅니다 (not close): 최대 차이 7 "
                         "(허용 rtol=1e-05, atol=1e-08)")


def test_read_notebook_drops_attachments_and_their_references(tmp_path):
    """A picture pasted into a markdown cell (a cell attachment) is never graded: the
    attachment is dropped, its reference points nowhere (nbconvert renders the page instead of
    stopping on a missing attachment), and a note names it."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("메모 ![image.png](attachment:image.png) [x](attachment:b.png)")])
    nb.cells[0].attachments = {"image.png": {"image/png": "iVBORw0KGgo="}}
    path = tmp_path / "pasted.ipynb"
    nbformat.write(nb, path)
    got = read_notebook(path)
    assert "attachments" not in got.cells[0]
    assert got.cells[0].source == ("메모 ![image.png](#attachment-not-kept) "
                                   "[x](#attachment-not-kept)")
    assert got.metadata["dlcourse"]["notes"] == [
        "셀에 붙인 그림은 채점 노트북에 싣지 않았습니다 (cell attachments not kept): image.png, b.png"]
    assert "#attachment-not-kept" in HTMLExporter().from_notebook_node(got)[0]


def test_hidden_lines_spread_out_with_separators_are_found():
    """A hidden line written out with a separator between its characters (the red team's
    ``"|".join(...)`` in an error message) is concealed like the line itself; an honest error
    message is not."""
    from autograder.pipeline.concealment import reveals

    lines = ["zh = torch.randn(4, 7, generator=g, dtype=torch.float64) * 6"]
    assert reveals("|".join(lines[0]), lines)
    assert reveals(" ".join(lines[0][::-1]), lines)
    assert not reveals("RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x3 and 2x1)",
                       lines)


def test_a_long_error_reads_the_same_in_validate_and_after_hidden_tests():
    """The grader cuts an error's value after hidden tests (:func:`after_hidden`); Validate
    reads the uncut output. Both verdicts give the same message, cut once (the CI failure of
    lesson 05's same-trajectory check, whose message was 302 characters)."""
    from autograder.pipeline.concealment import after_hidden
    from dlcourse.submission import ERROR_CHARS

    value = "[연습 5.4] 손 SGD의 손실 = torch.optim.SGD의 손실: " + "기대 [4.9092, 2.5383] " * 20
    assert len(value) > ERROR_CHARS
    reference = [visible("f(1)", [2.0])]
    seen = executed(None, error=("CheckFailed", value))
    graded = executed(None, error=("CheckFailed", value))
    after_hidden(graded, ["zh = torch.randn(4, 7, generator=g, dtype=torch.float64) * 6"])
    message = f"CheckFailed: {value[:ERROR_CHARS]} …"
    assert verdict(seen, reference) == verdict(graded, reference) == (False, "graded", message)
