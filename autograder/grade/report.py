"""The instructor report: one self-contained HTML page (pictures embedded).

- score distribution per lesson;
- item analysis: for every check, the share of students who failed it and the concept it tests
  (the test cell's docstring), hardest first, so the lecturer sees what to re-teach;
- written answers that wait for a person (``needs manual grading``), per lesson and answer;
- statuses other than ``graded`` (timed out, crashed, missing, unreadable …);
- grading time per notebook and the slowest submissions.

Text a student controls (ids, messages naming their files or exceptions) reaches the page only
through pandas' ``DataFrame.to_html``, which HTML-escapes every cell (its default, ``escape=True``).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402
from nbgrader.utils import is_grade, is_solution  # noqa: E402

from dlcourse.status import Status  # noqa: E402

from ..pipeline import status  # noqa: E402
from ..pipeline.export import rows  # noqa: E402
from ..pipeline.feedback import REPORT_CSP, with_csp  # noqa: E402

#: The heading of the written answers no person has graded yet, with their count (one per
#: student and answer).
WAITING = "채점을 기다리는 서술형 답 (written answers waiting for manual grading)"


def concepts(root: Path) -> dict[tuple[str, str], str]:
    """``{(lesson, test cell): the first line of its docstring}``."""
    out = {}
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if is_grade(cell) and not is_solution(cell):
                first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                out[(path.stem, cell.metadata.nbgrader["grade_id"])] = first.strip('"')
    return out


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def tables(root: Path, db_url: str) -> dict[str, pd.DataFrame]:
    with Gradebook(db_url) as gb:
        data = pd.DataFrame(rows(gb, root))
    if data.empty:
        return {"cells": data, "totals": data, "items": data, "waiting": data, "times": data}
    cells = data[data.cell != "(total)"].copy()
    totals = data[data.cell == "(total)"].copy()
    names = concepts(root)
    cells["concept"] = [names.get((a, c), c) for a, c in zip(cells.assignment, cells.cell, strict=True)]
    # a written answer no person has graded yet has no score: it waits, it did not fail
    cells["failed"] = (cells.score.fillna(0) < cells.max_score) & (cells.status != Status.NEEDS_MANUAL)
    items = (cells.groupby(["assignment", "cell", "concept"], as_index=False)
             .agg(students=("student", "nunique"), failed=("failed", "mean"),
                  points=("max_score", "first"))
             .sort_values(["failed", "assignment"], ascending=[False, True]))
    seconds = {(k[0], k[1]): v["seconds"] for k, v in status.load(db_url).items()
               if k[3] == "" and v["seconds"] is not None}
    totals["seconds"] = [seconds.get((a, s)) for a, s in zip(totals.assignment, totals.student, strict=True)]
    waiting = (cells[cells.status == Status.NEEDS_MANUAL].groupby(["assignment", "cell"], as_index=False)
               .agg(waiting=("student", "nunique"), points=("max_score", "first")))
    return {"cells": cells, "totals": totals, "items": items, "waiting": waiting,
            "times": totals.dropna(
        subset=["seconds"]).sort_values("seconds", ascending=False)}


def write_report(root: Path, db_url: str, dest: Path) -> Path:
    t = tables(root, db_url)
    parts = ["<h1>채점 보고서 (instructor report)</h1>"]
    totals, items, times = t["totals"], t["items"], t["times"]
    if totals.empty:
        parts.append("<p>아직 채점된 제출이 없습니다 (nothing graded yet).</p>")
    else:
        lessons = sorted(totals.assignment.unique())
        fig, axes = plt.subplots(1, len(lessons), figsize=(3.2 * len(lessons), 2.8), squeeze=False)
        for ax, lesson in zip(axes[0], lessons, strict=True):
            sub = totals[totals.assignment == lesson]
            ax.hist(sub.score, bins=range(0, int(sub.max_score.max()) + 2), color="#4c72b0",
                    align="left", rwidth=0.85)
            ax.set_title(lesson, fontsize=9)
            ax.set_xlabel("score")
        axes[0][0].set_ylabel("students")
        parts += ["<h2>Score distribution per lesson</h2>", _png(fig)]
        summary = totals.groupby("assignment").agg(
            students=("student", "nunique"), mean=("score", "mean"), max=("max_score", "first"))
        parts += [summary.round(2).to_html()]

        parts.append("<h2>Item analysis: what to re-teach (hardest first)</h2>")
        top = items.head(15)
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(top) + 1))
        ax.barh([f"{a} · {c}" for a, c in zip(top.assignment, top.cell, strict=True)][::-1],
                (top.failed * 100)[::-1], color="#c44e52")
        ax.set_xlabel("% of students who failed the check")
        parts += [_png(fig)]
        shown = items.assign(failed=(items.failed * 100).round(1).astype(str) + " %")
        parts.append(shown.rename(columns={"failed": "failed (share)"}).to_html(index=False))

        waiting = t["waiting"]
        parts.append(f"<h2>{WAITING}: {int(waiting.waiting.sum()) if not waiting.empty else 0}"
                     "</h2>")
        parts.append(waiting.to_html(index=False) if not waiting.empty else "<p>none</p>")
        odd = totals[totals.status != Status.GRADED]
        parts.append("<h2>Submissions that need a look (status other than graded)</h2>")
        parts.append(odd[["student", "assignment", "status", "message"]].to_html(index=False)
                     if not odd.empty else "<p>none</p>")
        timed = totals[totals.late.fillna("").str.contains("지각|연장")]
        parts.append("<h2>Deadlines: late and extended submissions</h2>")
        parts.append(timed[["student", "assignment", "score", "late_penalty", "late"]].to_html(
            index=False) if not timed.empty else "<p>none (due dates: deadlines.toml)</p>")
        if not times.empty:
            fig, ax = plt.subplots(figsize=(6, 2.6))
            ax.hist(times.seconds, bins=20, color="#55a868")
            ax.set_xlabel("seconds to grade one notebook")
            parts += ["<h2>Grading time per notebook</h2>", _png(fig),
                      "<h3>Slowest submissions</h3>",
                      times.head(10)[["student", "assignment", "seconds", "status"]].to_html(
                          index=False)]
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Student text (ids, messages) reaches the page only through DataFrame.to_html, which
    # escapes it; the policy lets no script run and no request leave the page.
    dest.write_text(with_csp(
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>instructor report"
        "</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}"
        "</style></head><body>" + "\n".join(parts) + "</body></html>", REPORT_CSP), encoding="utf-8")
    return dest


