"""The import graph of the course's packages (issue 23): every import runs down the house,
never back up, and the student side (``dlcourse``) imports nothing of the instructor's.

Read from the source with :mod:`ast` (function-level imports included), so no module is
imported and no kernel starts.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The layers of ``autograder``, lowest first: a module may import its own layer and the ones
#: below it. The old addresses kept as re-export shims for one release sit at the top.
LAYERS = [
    ["autograder", "autograder.paths", "autograder.csvfile"],
    ["autograder.sandbox"],
    ["autograder.pipeline"],
    ["autograder.lms"],
    ["autograder.grade"],
    ["autograder.authoring"],
    ["autograder.cli", "autograder.__main__", "autograder.preprocessors", "autograder.export"],
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))
            if "releases" not in p.parts}


def imports(path: Path, known: set[str]) -> set[str]:
    """The modules that ``path`` imports: the names of ``known`` where it imports one, and
    their packages (importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    parents = {".".join(m.split(".")[:k]) for m in found for k in range(1, m.count(".") + 1)}
    return (found | (parents & known)) - {name}


def layer(module: str) -> int:
    """The layer of ``module``: that of the longest name in :data:`LAYERS` it is or lies in
    (``autograder`` itself only for the package's ``__init__``)."""
    best = max(((len(p), i) for i, names in enumerate(LAYERS) for p in names
                if module == p or (p != "autograder" and module.startswith(p + "."))),
               default=None)
    if best is None:
        pytest.fail(f"{module} is in no layer: add its package to LAYERS in {__file__}")
    return best[1]


AUTOGRADER = modules("autograder")
GRAPH = {m: {i for i in imports(p, set(AUTOGRADER)) if i in AUTOGRADER}
         for m, p in AUTOGRADER.items()}


def test_every_import_runs_down_the_layers():
    up = sorted(f"{m} (layer {layer(m)}) imports {i} (layer {layer(i)})"
                for m, targets in GRAPH.items() for i in targets if layer(i) > layer(m))
    assert up == []


def test_no_import_cycle_between_modules():
    """Depth-first search for a cycle (export <-> lms.deadlines was one)."""
    done, cycles = set(), []

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append(" -> ".join(path[path.index(module):] + [module]))
            return
        if module in done:
            return
        for target in sorted(GRAPH[module]):
            # a package's __init__ importing its own submodules is no cycle back up
            if not (module.startswith(target + ".") and target in path):
                visit(target, [*path, module])
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, [])
    assert cycles == []


def test_the_student_side_imports_no_autograder():
    dlcourse = modules("dlcourse")
    found = sorted(f"{m} imports {i}" for m, p in dlcourse.items()
                   for i in imports(p, set(dlcourse))
                   if i == "autograder" or i.startswith("autograder."))
    assert found == []


def test_the_graph_is_read():
    """The checks above could pass on an empty graph: these edges exist today."""
    assert "autograder.sandbox.backends" in GRAPH["autograder.pipeline.preprocessors"]
    assert "autograder.pipeline.deadlines" in GRAPH["autograder.pipeline.export"]
    assert "autograder.pipeline.export" in GRAPH["autograder.lms"]
    assert "autograder.grade.pool" in GRAPH["autograder.grade.command"]


#: Strings that equal a status but name something else: the folder of the import's refusals
#: and the key of a refused file in an exchange record.
NOT_STATUSES = {("autograder.lms", "refused"), ("autograder.grade.exchange", "refused")}


def test_every_status_is_spelled_once():
    """A status is written as ``Status.X`` (``dlcourse/status.py``), never as its text: every
    string constant of the code (docstrings and f-string parts aside, which only mention one)
    that equals a status's value is reported."""
    from dlcourse.status import Status

    values = {s.value for s in Status}
    found = []
    for package in ("autograder", "dlcourse"):
        for name, path in modules(package).items():
            if name == "dlcourse.status":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            prose = {id(n.value) for n in ast.walk(tree)
                     if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
            prose |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                      for v in n.values}
            found += [f"{name}:{n.lineno} {n.value!r}" for n in ast.walk(tree)
                      if isinstance(n, ast.Constant) and id(n) not in prose
                      and n.value in values and (name, n.value) not in NOT_STATUSES]
    assert found == []


def test_course_paths_come_from_nbgrader():
    """``<step>/<student>/<lesson>`` is built by :func:`autograder.paths.course_folder`
    (nbgrader's ``CourseDirectory.format_path``), never by hand: no ``… / "submitted" / x``
    (or autograded, feedback) in the code; the step's folder alone may be named."""
    from autograder.paths import course_folder

    assert course_folder("/course", "kim", "01_neuron") == Path("/course/submitted/kim/01_neuron")
    assert course_folder("c", "kim", "01_neuron", "feedback") == (
        Path.cwd() / "c" / "feedback" / "kim" / "01_neuron")
    steps = {"submitted", "autograded", "feedback"}
    found = [f"{name}:{n.lineno}" for name, path in modules("autograder").items()
             for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)
             and isinstance(n.left, ast.BinOp) and isinstance(n.left.right, ast.Constant)
             and n.left.right.value in steps]
    assert found == []
