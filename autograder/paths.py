"""Confine every path built from submitted data (student ids, notebook and file names, the
course's rename record) to the folder it belongs to.

One rule for all callers (``./course grade``, the distributed coordinator and workers, the LMS
import): an id matches :data:`STUDENT_ID`; a file name is one path component; the resolved path
stays inside its folder; no symbolic link is followed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

#: Student ids (and lesson names) a path may be built from: what a folder name in
#: ``submitted/`` can safely be (nbgrader uses the id as a folder name): up to 128 letters (any
#: script), digits and ``. _ @ + -``, starting with a letter, digit or ``_``; never ``..``.
STUDENT_ID = re.compile(r"^\w[\w.@+-]{0,127}$")


def course_folder(root, student: str, lesson: str, step: str = "submitted") -> Path:
    """``student``'s folder of ``lesson`` in nbgrader step ``step`` (``submitted``,
    ``autograded``, ``feedback``) of the course at ``root``, absolute: nbgrader's own layout
    (:meth:`nbgrader.coursedir.CourseDirectory.format_path`, ``<step>/<student>/<lesson>``; the
    course keeps nbgrader's names of these three steps). Not confined: check the ids first
    (:func:`check_id`, :func:`confined_path`) where they come from submitted data."""
    course = CourseDirectory(root=os.path.abspath(root))
    return Path(course.format_path(step, student, lesson))


class UnsafePath(ValueError):
    """A name from submitted data that would leave its folder, or a symbolic link."""


def check_id(value: str) -> str:
    """``value`` when it matches :data:`STUDENT_ID`; raises :class:`UnsafePath` otherwise."""
    if not isinstance(value, str) or not STUDENT_ID.match(value) or ".." in value:
        raise UnsafePath(f"잘못된 이름입니다 (invalid id): {value!r}")
    return value


def confined(folder: Path, name: str) -> Path:
    """``folder / name`` when ``name`` is a single file name (no separator, not ``.``/``..``,
    no NUL) whose path is no symbolic link and resolves inside ``folder``. Raises
    :class:`UnsafePath` otherwise. The file need not exist."""
    if (not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name
            or "\0" in name or Path(name).name != name):
        raise UnsafePath(f"폴더 밖을 가리키는 이름입니다 (path outside its folder): {name!r}")
    path = Path(folder) / name
    if path.is_symlink():
        raise UnsafePath(f"심볼릭 링크는 받지 않습니다 (symlink refused): {name!r}")
    if not path.resolve().is_relative_to(Path(folder).resolve()):
        raise UnsafePath(f"폴더 밖을 가리키는 이름입니다 (path outside its folder): {name!r}")
    return path


def confined_path(base: Path, *parts: str) -> Path:
    """``base/parts…``, each part checked by :func:`confined` against the folder before it (so
    no part is a separator, ``..`` or a symbolic link, and the result stays inside ``base``).
    Raises :class:`UnsafePath`."""
    path = Path(base)
    for part in parts:
        path = confined(path, part)
    return path


def symlinks(folder: Path) -> list[str]:
    """Paths (relative to ``folder``, sorted) of the symbolic links in ``folder`` and below,
    never followed; ``folder`` itself counts when it is one."""
    folder = Path(folder)
    if folder.is_symlink():
        return ["."]
    found = []
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            if (Path(top) / name).is_symlink():
                found.append(str((Path(top) / name).relative_to(folder)))
    return sorted(found)


def rename_record(root: Path, student: str, lesson: str) -> Path:
    """The course's own record of a renamed notebook: ``<root>/.dlcourse/renamed/<student>/
    <lesson>.txt`` holds the file name the student handed in. It lives outside ``submitted/``, so
    no upload can write it; a ``.dlcourse-renamed`` (:data:`~autograder.pipeline.preprocessors.RENAMED`)
    in an upload is ignored and named (:func:`autograder.grade.pool.inspect_submission`). Raises
    :class:`UnsafePath` for an unsafe id."""
    return root / ".dlcourse" / "renamed" / check_id(student) / f"{check_id(lesson)}.txt"
