"""Check your notebooks before you hand them in: ``python -m dlcourse.validate NOTEBOOK...``.

Runs nbgrader's validation (the same as JupyterLab's Validate button: restart, run all cells,
run the visible tests) and, unlike ``nbgrader validate``, exits with status 1 when any test
fails, so it can gate a script or CI job.
"""

from __future__ import annotations

import argparse
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _summary(cell: dict) -> str:
    title = cell["source"].strip().splitlines()[0].strip('"') if cell["source"].strip() else "?"
    error = ANSI.sub("", cell.get("raw_error", "")).strip().splitlines()
    return f"  실패 (failed): {title}\n    {error[-1] if error else ''}"


def validate(paths: list[str], timeout: int = 120) -> int:
    import zmq
    from nbgrader.validator import Validator
    from traitlets.config import Config

    config = Config()
    config.Execute.timeout = timeout
    if zmq.has("curve"):  # encrypted kernel messages, and no "running over TCP" warning
        config.KernelManager.transport_encryption = "auto"
    validator = Validator(config=config)
    validator.log.setLevel("ERROR")
    failed = 0
    for path in paths:
        results = validator.validate(path)
        problems = results.get("failed", []) + results.get("type_changed", [])
        if results.get("changed"):
            print(f"{path}: 잠긴 셀이 바뀌었습니다 (locked cells changed): "
                  "채점 때는 원래 셀로 되돌립니다")
        if problems:
            failed += 1
            print(f"{path}: 검사 {len(problems)}개 실패 (tests failed)")
            for cell in results.get("failed", []):
                print(_summary(cell))
        else:
            print(f"{path}: 통과 (OK) — 보이는 검사(visible tests)를 모두 통과했습니다")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlcourse.validate", description=__doc__)
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    return validate(ap.parse_args(argv).notebooks, ap.parse_args(argv).timeout)


if __name__ == "__main__":
    sys.exit(main())
