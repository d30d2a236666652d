"""The student's commands, the same on Windows, macOS and Linux (no shell script needed).

    python -m dlcourse lab [FOLDER] [JUPYTERLAB OPTIONS...]   JupyterLab with the Validate button
    python -m dlcourse validate NOTEBOOK... [--timeout S]     the Validate button's check; exit 1 on failure

``lab`` opens ``FOLDER``, by default ``notebooks/`` when the current folder has one (the course's
checkout or bundle), else the current folder. The pip-installed console script ``dlcourse`` is the
same program (``dlcourse lab``, ``dlcourse validate ...``).
"""

from __future__ import annotations

import sys
from pathlib import Path

USAGE = "사용법 (usage): python -m dlcourse {lab [FOLDER] | validate NOTEBOOK...}"


def default_folder(cwd: Path) -> Path:
    """``cwd/notebooks`` if it is a folder, else ``cwd``."""
    return cwd / "notebooks" if (cwd / "notebooks").is_dir() else cwd


def lab(argv: list[str]) -> int:
    """JupyterLab on a folder (``argv[0]`` unless it is an option); the rest goes to JupyterLab.
    Raises ``SystemExit(2)`` when the folder does not exist."""
    folder = default_folder(Path.cwd())
    if argv and not argv[0].startswith("-"):
        folder, argv = Path(argv[0]), argv[1:]
    if not folder.is_dir():
        print(f"폴더가 없습니다 (no such folder): {folder}", file=sys.stderr)
        return 2
    from .lab import run_lab

    return run_lab(folder, extra_args=argv)


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``lab`` / ``validate``; returns the exit status (2 for a usage error)."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("lab", "validate"):
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] == "lab":
        return lab(argv[1:])
    from dlcourse.validate import main as validate_main

    return validate_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
