"""What the grading environment refuses although a student's Python runs it (dlcourse.grading_env):
syntax newer than the grader's Python 3.11, judged on Python 3.12 and 3.13 as Validate judges
it there and checked against Python 3.11's own parser; modules the grader's pins do not provide.
The same fixtures graded for real: tests/pipeline/test_no_surprises.py (``newer-*``, ``lacks-module``)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.authoring import grading_modules
from dlcourse import grading_env
from tests.environment.test_platforms import interpreter

ROOT = Path(__file__).resolve().parents[2]

#: ``name: (cell source, [(line, kind)] a Python 3.13 student's Validate reports)``; 3.12 reports
#: the same but for the 3.13-only construct, which 3.12 itself refuses.
SOURCES = {
    "fstring quotes": ('info = {"t": 0.5}\nprint(f"{info["t"]}")\n', [(2, "fstring quotes")]),
    "fstring nested quotes": ('print(f"{f"{f"{1}"}"}")\n', [(1, "fstring quotes")]),
    "fstring backslash": ("xs = ['a', 'b']\nprint(f\"{'\\n'.join(xs)}\")\n",
                          [(2, "fstring backslash")]),
    "fstring comment": ('x = 1\nprint(f"""{x  # the value\n}""")\n', [(2, "fstring comment")]),
    "fstring line break": ('x = 1\nprint(f"{x\n+ 1}")\n', [(2, "fstring line break")]),
    "type statement": ("type Pair = tuple[float, float]\n", [(1, "type statement")]),
    "generic function": ("def first[T](xs: list[T]) -> T:\n    return xs[0]\n",
                         [(1, "type parameters")]),
    "generic class": ("class Box[T]:\n    item: T\n", [(1, "type parameters")]),
    "type parameter default": ("def same[T = int](x: T) -> T:\n    return x\n",
                               [(1, "type parameter default")]),
    # What Python 3.11 already accepts.
    "except star": ("try:\n    pass\nexcept* ValueError:\n    pass\n", []),
    "fstring other quotes": ("d = {'t': 1}\nprint(f\"{d['t']} {f'{1}'}\")\n", []),
    "fstring hash in a string": ("print(f\"{'#'}\")\n", []),
    "fstring escapes outside braces": ('x = 1\nprint(f"a\\n{x!r:>{x}}\\t{{b}}")\n', []),
    "triple-quoted fstring over lines": ('x = 1\nprint(f"""{x\n+ 1}""")\n', []),
    "type as a name": ("type = 3\nprint(type)\n", []),
    "match": ("match 1:\n    case 1:\n        pass\n", []),
    # A plain syntax error is the kernel's to report, on every Python.
    "plain syntax error": ("def f(:\n    pass\n", []),
}

JUDGE = """\
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("grading_env", sys.argv[1])
env = importlib.util.module_from_spec(spec)
spec.loader.exec_module(env)
print(json.dumps({k: env.newer_syntax(src) for k, src in json.load(sys.stdin).items()}))
"""


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_newer_syntax_as_a_newer_python_sees_it(version):
    """On Python 3.12 and 3.13 (standard library only, as on a student's machine before
    anything is installed), the module names each construct 3.11 refuses, and nothing else."""
    exe = interpreter(version)
    if exe is None:
        pytest.skip(f"no Python {version} interpreter on this machine")
    proc = subprocess.run([exe, "-c", JUDGE, str(ROOT / "dlcourse" / "grading_env.py")],
                          input=json.dumps({k: s for k, (s, _) in SOURCES.items()}),
                          capture_output=True, text=True, check=True)
    got = {k: [tuple(x) for x in v] for k, v in json.loads(proc.stdout).items()}
    want = {k: [] if version == "3.12" and kinds == [(1, "type parameter default")] else kinds
            for k, (_, kinds) in SOURCES.items()}
    assert got == want


@pytest.mark.parametrize("name", SOURCES)
def test_the_graders_own_parser_agrees(name):
    """Python 3.11 (the grader's interpreter, running these tests) refuses exactly the sources a
    newer Python reports, and the grader's message names the same construct on the same line."""
    assert sys.version_info[:2] == grading_env.GRADER_PYTHON
    source, kinds = SOURCES[name]
    try:
        compile(source, "<cell>", "exec")
    except SyntaxError:
        refused = True
    else:
        refused = False
    assert refused == (bool(kinds) or name == "plain syntax error")
    # Python 3.11 places an error inside a triple-quoted f-string on the line it ends on.
    line = kinds[0][0] + (name == "fstring comment") if kinds else None
    want = grading_env.syntax_message(kinds[0][1], line) if kinds else None
    assert grading_env.syntax_hint(source) == want


def test_syntax_message_in_korean_with_the_english_phrase():
    assert grading_env.syntax_message("fstring quotes", 3) == (
        "3행: 채점하는 Python 3.11에서는 문법 오류(SyntaxError)입니다 (syntax the grader's "
        "Python 3.11 does not accept): f-string의 {} 안에서 바깥과 같은 따옴표를 다시 썼습니다 "
        "(same quotes inside an f-string, PEP 701, Python 3.12+); 안쪽은 다른 따옴표로 쓰세요: "
        "f\"{d['key']}\"")


def test_the_grader_python_is_the_one_course_builds():
    """GRADER_PYTHON is the interpreter ``./course`` builds the grader's .venv with, and the one
    running these tests."""
    course = (ROOT / "course").read_text(encoding="utf-8")
    default = re.search(r"PY=\$\{PYTHON:-python(\d+)\.(\d+)\}", course)
    assert tuple(map(int, default.groups())) == grading_env.GRADER_PYTHON
    assert sys.version_info[:2] == grading_env.GRADER_PYTHON


def test_module_list_agrees_with_the_pins():
    """dlcourse/grading_modules.txt is what ``python -m autograder.authoring.grading_modules`` writes from
    the installed pins of requirements/base.txt and grader.txt (no drift)."""
    if sys.platform != "linux":
        pytest.skip("the grading environment is Linux's (its pins' markers differ elsewhere)")
    assert grading_env.MODULES_FILE.read_text(encoding="utf-8") == grading_modules.text(), (
        "a pin changed: run .venv/bin/python -m autograder.authoring.grading_modules")
    listed = set(grading_env.MODULES_FILE.read_text(encoding="utf-8").split())
    assert {"torch", "numpy", "pandas", "matplotlib", "tqdm", "dlcourse", "jupytext"} <= listed
    # the instructor's other extras are not the grading environment
    assert not listed & {"celery", "redis", "psycopg2", "pytest", "playwright", "ruff"}


def test_missing_modules_names_every_import_the_grader_lacks():
    source = ("import numpy as np, rich.console\n"
              "from fastsigmoid.core import expit\n"
              "from . import local\n"
              "import importlib, json\n"
              "yaml = importlib.import_module('yaml')\n"
              "tasks = __import__('celery')\n"
              "def f():\n    import rich\n")
    assert grading_env.missing_modules(source) == [(1, "rich"), (2, "fastsigmoid"), (6, "celery")]
    assert grading_env.module_message("rich") == (
        "'rich' 모듈은 채점 환경에 없습니다 (module not in the grading environment): 채점은 강좌의 "
        "패키지(requirements/base.txt)만으로 하고 노트북 옆의 파일도 받지 않습니다; 이 모듈 없이 "
        "답안 셀 안에서 직접 쓰세요")


def test_validate_button_shows_what_fails_at_grading():
    """JupyterLab's Validate button lists what fails at grading as a failure, never success."""
    from dlcourse.validate import Report
    from dlcourse.validate_button import button_result

    said = f"셀 ex_predict: 1행: {grading_env.module_message('fastsigmoid')}"
    report = Report("01_neuron.ipynb", lesson="01_neuron", at_grading=[said])
    assert not report.passed
    assert button_result(report)["value"]["failed"] == [
        {"source": "채점 때 실패 (fails at grading)", "raw_error": said, "error": said.replace(
            "'", "&#x27;")}]


def test_validate_names_each_cell_and_line():
    """Validate's sentences for a notebook's own cells (magics transformed first); a module the
    notebook writes itself (``%%writefile``) is there at grading too; locked cells are not
    the student's."""
    import nbformat

    from dlcourse.validate import grading_problems

    def student(source, cid):
        cell = nbformat.v4.new_code_cell(source)
        cell.id, cell.metadata["dlcourse"] = cid, {"origin": "student"}
        return cell

    nb = nbformat.v4.new_notebook(cells=[
        student("%%writefile helper.py\ndef twice(x):\n    return 2 * x\n", "writes"),
        student("%%time\nimport helper, rich\n!pip install fastsigmoid\nimport fastsigmoid\n",
                "imports"),
        nbformat.v4.new_code_cell("import secretlib"),  # a template cell
    ])
    assert grading_problems(nb) == [
        f"셀 imports: 2행: {grading_env.module_message('rich')}",
        f"셀 imports: 4행: {grading_env.module_message('fastsigmoid')}",
    ]
