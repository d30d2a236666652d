"""Write ``dlcourse/grading_modules.txt``: the top-level modules the grading environment's packages
provide (``python -m autograder.authoring.grading_modules``; run it after changing a pin).

The grading environment is the course package with ``requirements/base.txt`` and
``requirements/grader.txt`` and everything they require, as installed in this environment
(``./course``'s ``.venv``); the modules are read from the installed distributions' metadata
(``importlib.metadata.packages_distributions``: ``top_level.txt`` or the files of ``RECORD``).
Validate (:mod:`dlcourse.grading_env`) names every module a student imports that is neither in
this list nor in the standard library. ``tests/pipeline/test_grading_env.py`` keeps the file in agreement.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dlcourse.grading_env import MODULES_FILE

from .. import ROOT

#: The requirement files of the grading environment (pyproject.toml: the base and ``[grader]``).
GRADER_REQUIREMENTS = ("requirements/base.txt", "requirements/grader.txt")
#: The course's own packages: ``dlcourse`` (pyproject.toml's ``packages.find``) and the checkout's
#: ``autograder``, both imported through ``./course``'s editable install.
OWN_PACKAGES = ("autograder", "dlcourse")
IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


def _requirements(lines, extras=("",)) -> list[Requirement]:
    out = []
    for line in lines:
        line = line.split("#")[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras):
            out.append(req)
    return out


def distributions() -> set[str]:
    """Canonical names of the installed distributions the grader's requirements need
    (transitively, extras followed); raises ``PackageNotFoundError`` for one not installed."""
    todo = _requirements(line for f in GRADER_REQUIREMENTS
                         for line in (ROOT / f).read_text(encoding="utf-8").splitlines())
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        requires = metadata.distribution(name).requires or []
        todo += _requirements(requires, extras=("", *req.extras))
    return {k.split("[")[0] for k in seen}


def modules() -> list[str]:
    """Sorted top-level module names the grading environment's packages provide (standard
    library names left out: :data:`sys.stdlib_module_names` covers them)."""
    wanted = distributions()
    found = set(OWN_PACKAGES)
    for module, dists in metadata.packages_distributions().items():
        if IDENTIFIER.match(module) and any(canonicalize_name(d) in wanted for d in dists):
            found.add(module)
    return sorted(found - set(sys.stdlib_module_names))


def text() -> str:
    return "".join(f"{m}\n" for m in modules())


def main() -> None:
    MODULES_FILE.write_text(text(), encoding="utf-8")
    print(f"{MODULES_FILE.relative_to(ROOT)}: {len(modules())} modules")


if __name__ == "__main__":
    main()
