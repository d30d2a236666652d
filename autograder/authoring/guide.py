"""``./course guide``: the instructor's guide, ``instructor/guide/`` (one page per lesson and an
index), instructor-only: it is in no student path (``notebooks/``, ``dlcourse/releases/``, the
bundle, the wheel).

What a page takes from a source is generated, so it cannot drift from it:
- the goals: the bullets under the lesson's **학습 목표** line (``solutions/<lesson>``);
- the questions: the numbered items under its **생각해 볼 질문** heading;
- each written answer's prompt, model answer and rubric: its markdown cell in the solution
  notebook (the region nbgrader removes from the release);
- the common mistakes: ``tests/mistakes/<lesson>.yaml`` (name, the exercise, the checks that
  catch it, the code, ``why:`` and the student's hint);
- the time: the Run All seconds ``bench/notebooks.py --record`` measured
  (``instructor/measured/run_all.json``, with a hash of the code it ran), the word and character
  counts of the student notebook's prose, the exercise count and the code lines of the
  reference answers.

What a person writes lives in ``instructor/notes/<lesson>.yaml``: an answer note for every
question (keyed by its number and the fingerprint of its text) and the mapping to the lecture.
Generation fails, naming every gap, when a lesson has a question without a note, a note whose
question changed or is gone, no lecture mapping, or no Run All time for its current code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from dlcourse.submission import is_written

from .. import ROOT, lessons
from .mistakes import load_mistakes

GUIDE = ROOT / "instructor" / "guide"
NOTES = ROOT / "instructor" / "notes"
MEASURED = ROOT / "instructor" / "measured" / "run_all.json"

#: Silent reading of Korean sentences by normal-sighted adults: 202.3 ± 88.4 words (어절) per
#: minute. Rhiu S, Kim M, Kim J, Lee HJ, Lim TH. Korean version self-testing application for
#: reading speed. Korean J Ophthalmol 2017;31(3):247-253, doi:10.3341/kjo.2016.0042. The
#: sentences came from second-grade textbooks, so for a lesson's technical prose it is fast: the
#: reading time below is a lower bound.
WORDS_PER_MINUTE = 202.3
RATE_SOURCE = ("Rhiu 외, *Korean version self-testing application for reading speed*, "
               "Korean J Ophthalmol 2017;31(3):247–253 (doi:10.3341/kjo.2016.0042): 성인의 한국어 "
               "묵독(silent reading) 평균 202.3 ± 88.4 어절(words)/분")

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION\n?", re.S)
QUESTIONS_HEADING = re.compile(r"^#+ *생각해 볼 질문.*$", re.M)
ITEM = re.compile(r"^(\d+)\. ", re.M)
EXERCISE = re.compile(r"^#+ *(연습 \d+\.\d+.*)$", re.M)
QUESTION_REF = re.compile(r"질문 (\d+)")


class GuideError(Exception):
    """What keeps the guide from being generated: one line per gap, each naming its fix."""


def fingerprint(text: str) -> str:
    """8 hex digits of SHA-256 of ``text`` with its whitespace runs made one space."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:8]


def code_hash(nb: nbformat.NotebookNode) -> str:
    """12 hex digits of SHA-256 of the notebook's code cells (what Run All's time depends on)."""
    code = "\n\0".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:12]


@dataclass
class Lesson:
    name: str
    solution: nbformat.NotebookNode
    release: nbformat.NotebookNode

    @property
    def title(self) -> str:
        return self.solution.cells[0].source.splitlines()[0].lstrip("# ").strip()

    def goals(self) -> str:
        """The bullet list under the first cell's 학습 목표 line, as written."""
        lines = self.solution.cells[0].source.splitlines()
        start = next((i for i, line in enumerate(lines) if "학습 목표" in line), None)
        if start is None:
            raise GuideError(f"{self.name}: no 학습 목표 (Goals) line in the first cell")
        out: list[str] = []
        for line in lines[start + 1:]:
            if line.startswith("- ") or (out and line.startswith(" ") and line.strip()):
                out.append(line)
            elif out:
                break
        if not out:
            raise GuideError(f"{self.name}: no bullets under 학습 목표 (Goals)")
        return "\n".join(out)

    def questions(self) -> dict[int, str]:
        """``{number: text}`` of the numbered items under the 생각해 볼 질문 heading."""
        for cell in self.solution.cells:
            if cell.cell_type != "markdown" or is_written(cell):
                continue
            heading = QUESTIONS_HEADING.search(cell.source)
            if heading:
                body = cell.source[heading.end():]
                starts = list(ITEM.finditer(body))
                return {int(m.group(1)): " ".join(
                    body[m.end():(starts[i + 1].start() if i + 1 < len(starts) else None)].split())
                    for i, m in enumerate(starts)}
        raise GuideError(f"{self.name}: no 생각해 볼 질문 (Questions) heading")

    def written(self) -> list[dict]:
        """Each written answer: grade id, points, prompt, model answer, rubric, question number."""
        out = []
        for cell in self.solution.cells:
            if not is_written(cell):
                continue
            region = "".join(SOLUTION.findall(cell.source))
            model, _, rubric = region.partition("**채점 기준 (rubric):**")
            prompt = SOLUTION.sub("", cell.source).strip()
            ref = QUESTION_REF.search(prompt)
            out.append(dict(
                grade_id=cell.metadata.nbgrader["grade_id"],
                points=cell.metadata.nbgrader["points"], prompt=prompt,
                model=model.replace("**모범 답안 (model answer):**", "").strip(),
                rubric=rubric.strip(), question=int(ref.group(1)) if ref else None))
        return out

    def exercises(self) -> dict[str, str]:
        """``{answer cell grade id: the 연습 heading above it}`` in notebook order."""
        out, heading = {}, None
        for cell in self.solution.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "markdown":
                found = EXERCISE.findall(cell.source)
                heading = found[-1] if found else heading
            elif meta.get("solution") and not meta.get("grade"):
                out[meta["grade_id"]] = heading or meta["grade_id"]
        return out

    def answer_lines(self) -> int:
        """Non-blank, non-comment lines inside the solution regions of the answer cells."""
        return sum(1 for cell in self.solution.cells
                   if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
                   for region in SOLUTION.findall(cell.source) for line in region.splitlines()
                   if line.strip() and not line.strip().startswith("#"))

    def points(self) -> tuple[float, float]:
        """(autograded points, points of the written answers)."""
        auto = sum(c.metadata.nbgrader.get("points", 0) for c in self.solution.cells
                   if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))
        return auto, sum(w["points"] for w in self.written())

    def prose(self) -> tuple[int, int]:
        """(words, characters without spaces) of the markdown cells a student reads (the
        release)."""
        text = "\n".join(c.source for c in self.release.cells if c.cell_type == "markdown")
        return len(text.split()), len("".join(text.split()))


def load(lesson: str, root: Path = ROOT) -> Lesson:
    return Lesson(lesson,
                  nbformat.read(root / "solutions" / lesson / f"{lesson}.ipynb", as_version=4),
                  nbformat.read(root / "notebooks" / lesson / f"{lesson}.ipynb", as_version=4))


def read_notes(lesson: Lesson, notes: Path) -> tuple[dict, list[str]]:
    """The lesson's hand-written notes and the gaps in them (empty when complete)."""
    path = notes / f"{lesson.name}.yaml"
    rel = f"instructor/notes/{path.name}"
    questions = lesson.questions()
    if not path.exists():
        return {}, [f"{lesson.name}: no {rel}: write an answer note for each of its "
                    f"{len(questions)} questions (fingerprints: "
                    + ", ".join(f"{n}: {fingerprint(q)}" for n, q in questions.items())
                    + ") and its lecture mapping"]
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    gaps = []
    if not str(data.get("lecture", "")).strip():
        gaps.append(f"{lesson.name}: {rel} has no 'lecture:' (how the lesson maps to the lecture)")
    given = {int(n): e for n, e in (data.get("questions") or {}).items()}
    for n, text in questions.items():
        entry = given.get(n)
        if not entry or not str(entry.get("note", "")).strip():
            gaps.append(f"{lesson.name}: question {n} has no answer note in {rel} "
                        f"(fingerprint {fingerprint(text)}): {text}")
        elif entry.get("fingerprint") != fingerprint(text):
            gaps.append(f"{lesson.name}: question {n} changed since its note was written "
                        f"(note {entry.get('fingerprint')}, now {fingerprint(text)}): check the "
                        f"note in {rel} against the question and update its fingerprint: {text}")
    gaps += [f"{lesson.name}: {rel} has a note for question {n}, which the lesson does not have"
             for n in sorted(set(given) - set(questions))]
    data["questions"] = given
    return data, gaps


def read_measured(path: Path = MEASURED) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def run_all(lesson: Lesson, measured: dict) -> tuple[dict | None, list[str]]:
    entry = measured.get(lesson.name)
    fix = f"run `.venv/bin/python bench/notebooks.py --record {lesson.name}`"
    if entry is None:
        return None, [f"{lesson.name}: no Run All time in instructor/measured/run_all.json: {fix}"]
    if entry["code"] != code_hash(lesson.solution):
        return None, [f"{lesson.name}: its code changed since its Run All time was measured "
                      f"({entry['code']}, now {code_hash(lesson.solution)}): {fix}"]
    return entry, []


def quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


def block(text: str) -> str:
    """``text`` as a fenced code block long enough for the backticks inside it."""
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}python\n{text.rstrip()}\n{fence}"


def time_section(lesson: Lesson, entry: dict) -> str:
    words, chars = lesson.prose()
    exercises = lesson.exercises()
    auto, written = lesson.points()
    minutes = words / WORDS_PER_MINUTE
    return "\n".join([
        "## 걸리는 시간 (Time needed)",
        "",
        "| 측정 (measured) | 값 |",
        "| --- | --- |",
        f"| 읽기 (reading): 학생 노트북의 설명 셀 | {words:,} 어절, 공백 뺀 {chars:,}자 → "
        f"{WORDS_PER_MINUTE} 어절/분으로 **{minutes:.0f}분** 이상 |",
        f"| Run All (정답으로 모든 셀 실행) | **{entry['seconds']:.1f}초**: 커널 시작 + "
        f"`import torch` (floor) {entry['floor']:.1f}초의 {entry['seconds'] / entry['floor']:.1f}배 "
        f"({entry['repeat']}번 중 가장 짧은 값; {entry['machine']}, 부하(load average) "
        f"{entry['load']}) |",
        f"| Validate (정답을 넣은 학생 노트북, `python -m dlcourse.validate`) | "
        f"**{entry['validate']:.1f}초** |",
        f"| 연습 (exercises) | {len(exercises)}개, 모범 답안 코드 {lesson.answer_lines()}줄, "
        f"자동 채점 {auto:g}점 |",
        f"| 서술형 (written answers) | {len(lesson.written())}개, {written:g}점 |",
        "",
        "방법은 [목차](README.md#시간-재는-법-how-the-time-is-measured)에 있습니다. 읽기와 실행을 "
        "더한 값은 하한(lower bound)이고, 연습을 푸는 시간은 코드 줄 수로만 가늠할 수 있습니다.",
    ])


def mistakes_section(lesson: Lesson) -> str:
    exercises = lesson.exercises()
    groups: dict[str, list] = {}
    for m in load_mistakes(lesson.name):
        key = exercises.get(next(iter(m.answers)), next(iter(m.answers)))
        groups.setdefault(key, []).append(m)
    out = ["## 흔한 실수 (Common mistakes)", "",
           f"`tests/mistakes/{lesson.name}.yaml`의 알려진 실수 {sum(map(len, groups.values()))}개"
           " (`./course check`가 하나하나 채점해 `fails`의 검사만 0점이 됨을 확인합니다). "
           "**잡는 검사**는 0점이 되는 검사 셀, **왜**는 오류의 원인(강사용 `why:`), "
           "**힌트**는 보이는 검사가 실패할 때 학생이 보는 문장입니다.", ""]
    for heading in [*dict.fromkeys(exercises.values()), *sorted(set(groups) -
                                                                  set(exercises.values()))]:
        if heading not in groups:
            continue
        out += [f"### {heading}", ""]
        for m in groups[heading]:
            out.append(f"- **`{m.name}`** — 잡는 검사: {', '.join(f'`{f}`' for f in m.fails)}")
            out.append(f"  - 왜 (why): {m.why}")
            if m.hint:
                out.append(f"  - 힌트 (hint): {m.hint}")
            for gid, code in m.answers.items():
                out += ["", f"  `{gid}`에 쓴 답:", "",
                        "\n".join("  " + line if line else "" for line in block(code).splitlines())]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def page(lesson: Lesson, notes: dict, entry: dict) -> str:
    written = {w["question"]: w for w in lesson.written()}
    out = [f"# {lesson.title} — 강사용 안내 (instructor's guide)", "",
           "<!-- generated by `./course guide` from solutions/, tests/mistakes/, instructor/notes/"
           " and instructor/measured/: edit those, not this page -->", "",
           f"학생 노트북: `notebooks/{lesson.name}/{lesson.name}.ipynb` · 원본: "
           f"`solutions/{lesson.name}/{lesson.name}.ipynb`", "",
           "## 학습 목표 (Goals)", "", lesson.goals(), "",
           time_section(lesson, entry), "",
           "## 강의와의 관계 (How the lesson maps to the lecture)", "",
           notes["lecture"].strip(), "",
           "## 생각해 볼 질문: 답안 노트 (Questions: answer notes)", ""]
    for n, text in lesson.questions().items():
        out += [f"### 질문 {n}", "", quote(text), "",
                f"**답안 노트 (answer note):** {notes['questions'][n]['note'].strip()}", ""]
        w = written.pop(n, None)
        if w:
            out += written_section(w)
    for w in written.values():  # a written answer that names no question
        out += [f"### 서술형 `{w['grade_id']}`", ""] + written_section(w)
    out.append(mistakes_section(lesson))
    return "\n".join(out).rstrip() + "\n"


def written_section(w: dict) -> list[str]:
    return [f"**서술형 (written answer) `{w['grade_id']}`, {w['points']:g}점** — formgrader에서 "
            "손으로 채점합니다. 학생이 보는 문제:", "", quote(w["prompt"]), "",
            f"**모범 답안 (model answer):** {w['model']}", "",
            "**채점 기준 (rubric):**", "", w["rubric"], ""]


METHOD = f"""\
## 시간 재는 법 (How the time is measured)

각 쪽의 "걸리는 시간"은 어림값이 아니라 아래처럼 잰(또는 센) 값입니다.

- **읽기 (reading)**: 학생 노트북(`notebooks/`)의 markdown 셀을 공백으로 나눈 어절 수를
  {WORDS_PER_MINUTE} 어절/분으로 나눈 값입니다. 속도의 출처: {RATE_SOURCE}. 그 연구의 문장은
  초등학교 2학년 교과서에서 골랐으므로 수식과 전문 용어가 있는 수업의 설명을 읽는 데는 이보다 오래
  걸립니다: 이 값은 하한입니다. 코드 셀을 읽는 시간은 들어 있지 않습니다.
- **Run All**: `.venv/bin/python bench/notebooks.py --record`가 정답 노트북(`solutions/`)을
  학생의 커널처럼 (`--grading` 없이) 처음부터 끝까지 실행한 시간(초)이고, `--repeat N`이면
  N번 잰 것 중 가장 짧은 값입니다. 커널 시작과 `import torch`
  (floor)가 포함되어 있습니다. 학생이 답을 다 쓴 뒤 Run All을 한 번 누를 때 기다리는 시간입니다.
  초는 컴퓨터와 그때의 부하에 따라 달라지므로 floor의 몇 배인지를 함께 적었습니다.
  잰 컴퓨터와 날짜는 `instructor/measured/run_all.json`에 있고, 그 파일은 잰 코드의 해시를 함께
  적어 두므로 수업의 코드가 바뀌면 `./course guide`가 다시 재라고 멈춥니다.
- **Validate**: 같은 명령(`--record`)이 학생 노트북(`notebooks/`)에 모범 답안을 넣고
  `python -m dlcourse.validate`로 검사한 시간(초), 한 번 잰 값입니다. 학생이 다 푼 뒤 Validate를
  눌렀을 때 기다리는 시간입니다: Validate는 채점기와 같은 규칙으로 노트북을 다시 짜 맞춘 뒤
  처음부터 실행합니다.
- **연습 (exercises)**: 답안 셀의 수, 모범 답안의 코드 줄 수(빈 줄과 주석 뺌), 자동 채점 점수와
  서술형의 수·점수는 원본 노트북에서 셉니다.

연습을 푸는 데 드는 시간은 재지 못했습니다: 학생이 실제로 풀며 잰 기록이 아직 없습니다. 첫 수업에서
학생들에게 노트북을 연 시각과 Validate를 통과한 시각을 적게 하면 그 값을 얻을 수 있습니다.
"""


def index(pages: dict[str, Lesson], measured: dict) -> str:
    rows = []
    for name, lesson in pages.items():
        words, _ = lesson.prose()
        auto, written = lesson.points()
        rows.append(f"| [{lesson.title}]({name}.md) | {words / WORDS_PER_MINUTE:.0f}분 | "
                    f"{measured[name]['seconds']:.1f}초 | {measured[name]['validate']:.1f}초 | "
                    f"{len(lesson.exercises())}개, "
                    f"{lesson.answer_lines()}줄 | {auto:g} + {written:g}점 | "
                    f"{len(lesson.questions())}개 | {len(load_mistakes(name))}개 |")
    return "\n".join([
        "# 강사용 안내 (Instructor's guide)", "",
        "<!-- generated by `./course guide`: edit instructor/notes/ or the sources, not this page"
        " -->", "",
        "강사만 보는 쪽입니다: 학생 노트북(`notebooks/`), 학생 묶음(`./course bundle`), 학생이 "
        "설치하는 패키지(wheel)에는 들어가지 않습니다 (`tests/unit/test_guide.py`, "
        "`tests/course/test_bundle.py`, `tests/environment/test_platforms.py`). 수업마다 한 쪽에 학습 목표, 걸리는 시간, "
        "생각해 볼 질문의 답안 노트, 서술형의 모범 답안과 채점 기준, 흔한 실수, 강의와의 관계가 "
        "있습니다.", "",
        "| 수업 | 읽기 (하한) | Run All | Validate | 연습, 모범 답안 | 점수 (자동 + 서술형) | 질문 "
        "| 알려진 실수 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |", *rows, "",
        METHOD,
        "## 고치는 법 (Editing the guide)", "",
        "- 목표, 질문, 서술형의 모범 답안과 채점 기준: `solutions/<lesson>/<lesson>.ipynb`.",
        "- 흔한 실수: `tests/mistakes/<lesson>.yaml`.",
        "- 답안 노트와 강의와의 관계 (사람이 쓰는 부분): `instructor/notes/<lesson>.yaml`. 질문마다 "
        "`fingerprint`(질문 글의 해시)를 적어 두므로, 질문이 바뀌거나 새 수업이 생기면 "
        "`./course guide`가 노트가 없는 질문을 모두 적고 멈춥니다.",
        "- Run All 시간: `.venv/bin/python bench/notebooks.py --record [LESSON ...]`.",
        "- 그다음 `./course guide`로 이 폴더를 다시 만드세요. `tests/unit/test_guide.py`가 이 폴더가 "
        "새로 만든 것과 같은지 확인합니다.", ""])


def render(root: Path = ROOT, notes: Path = NOTES, measured: Path = MEASURED) -> dict[str, str]:
    """``{file name: text}`` of the guide; raises :class:`GuideError` listing every gap."""
    times, gaps, pages, texts = read_measured(measured), [], {}, {}
    for name in lessons(root):
        lesson = load(name, root)
        data, missing = read_notes(lesson, notes)
        entry, late = run_all(lesson, times)
        gaps += missing + late
        if not missing and not late:
            pages[name] = lesson
            texts[f"{name}.md"] = page(lesson, data, entry)
    if gaps:
        raise GuideError("the instructor's guide cannot be generated:\n"
                         + "\n".join(f"- {g}" for g in gaps))
    texts["README.md"] = index(pages, times)
    return texts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="./course guide", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 when instructor/guide/ differs from a fresh "
                         "generation")
    args = ap.parse_args(argv)
    try:
        texts = render()
    except GuideError as e:
        print(e, file=sys.stderr)
        return 1
    stale = sorted(set(p.name for p in GUIDE.glob("*.md")) - set(texts))
    changed = [n for n, t in texts.items()
               if not (GUIDE / n).exists() or (GUIDE / n).read_text(encoding="utf-8") != t]
    if args.check:
        for n in changed + stale:
            print(f"instructor/guide/{n}: differs from ./course guide", file=sys.stderr)
        return 1 if changed or stale else 0
    GUIDE.mkdir(parents=True, exist_ok=True)
    for n in stale:
        (GUIDE / n).unlink()
    for n in changed:
        (GUIDE / n).write_text(texts[n], encoding="utf-8")
    print(f"instructor/guide/: {len(texts)} pages, {len(changed)} written, {len(stale)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
