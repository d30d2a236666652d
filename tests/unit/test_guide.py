"""The instructor's guide (``./course guide``, instructor/guide/): the committed pages are what
generation makes from the lessons, tests/mistakes/, instructor/notes/ and instructor/measured/
today; a question without an answer note, a changed question, a lesson without notes and code
changed since its Run All time was measured stop generation with a message naming the gap; the
guide reaches no student path (notebooks/, dlcourse/releases/, the wheel's packages; the bundle
and the built wheel: tests/course/test_bundle.py, tests/environment/test_platforms.py)."""

import json
import shutil
import tomllib

import pytest
import yaml

from autograder import ROOT, lessons
from autograder.authoring import guide
from tests.course.test_glossary import QUOTED, avoided, detached_particles

NOTES = ROOT / "instructor" / "notes"


def instructor_only_lines() -> set[str]:
    """The hand-written lines of the guide (answer notes, lecture mappings), stripped, over 12
    characters: text meant for instructors only."""
    lines = set()
    for path in NOTES.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts = [data["lecture"], *(q["note"] for q in data["questions"].values())]
        lines |= {ln.strip() for t in texts for ln in t.splitlines() if len(ln.strip()) > 12}
    return lines


@pytest.fixture(scope="module")
def pages():
    return guide.render()


def test_committed_guide_is_what_generation_makes(pages):
    committed = {p.name: p.read_text(encoding="utf-8") for p in guide.GUIDE.glob("*.md")}
    assert sorted(committed) == sorted(pages) == sorted(
        [f"{n}.md" for n in lessons()] + ["README.md"]), "run ./course guide"
    drifted = [n for n in pages if committed[n] != pages[n]]
    assert not drifted, f"instructor/guide/ drifted from its sources (run ./course guide): {drifted}"
    assert guide.main(["--check"]) == 0


def test_every_page_has_every_part(pages):
    for lesson in lessons():
        text, source = pages[f"{lesson}.md"], guide.load(lesson)
        for heading in ("## 학습 목표 (Goals)", "## 걸리는 시간 (Time needed)",
                        "## 강의와의 관계", "## 생각해 볼 질문: 답안 노트", "## 흔한 실수"):
            assert heading in text, (lesson, heading)
        assert source.goals() in text
        notes = yaml.safe_load((NOTES / f"{lesson}.yaml").read_text(encoding="utf-8"))
        for n in source.questions():
            assert f"### 질문 {n}" in text and notes["questions"][n]["note"].strip() in text
        for w in source.written():
            assert w["model"] and w["rubric"].startswith("- 1점:"), w
            assert w["model"] in text and w["rubric"] in text and w["prompt"].splitlines()[0] in text
        for m in guide.load_mistakes(lesson):
            assert f"**`{m.name}`**" in text and m.why in text, m.name
        measured = json.loads(guide.MEASURED.read_text(encoding="utf-8"))[lesson]
        assert f"**{measured['seconds']:.1f}초**" in text
        assert f"**{measured['validate']:.1f}초**" in text


def notes_copy(tmp_path):
    shutil.copytree(NOTES, tmp_path / "notes")
    return tmp_path / "notes"


def edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_a_question_without_a_note_stops_generation(tmp_path):
    notes = notes_copy(tmp_path)
    edit(notes / "04_backprop.yaml", lambda d: d["questions"].pop(3))
    edit(notes / "02_forward.yaml", lambda d: d["questions"][2].update(note=" "))
    with pytest.raises(guide.GuideError) as err:
        guide.render(notes=notes)
    q3 = guide.load("04_backprop").questions()[3]
    assert (f"- 04_backprop: question 3 has no answer note in instructor/notes/04_backprop.yaml "
            f"(fingerprint {guide.fingerprint(q3)}): {q3}") in str(err.value)
    assert "- 02_forward: question 2 has no answer note" in str(err.value)
    assert str(err.value).count("\n- ") == 2


def test_a_changed_question_or_a_note_for_none_stops_generation(tmp_path):
    notes = notes_copy(tmp_path)
    edit(notes / "05_optimizer.yaml", lambda d: d["questions"][1].update(fingerprint="0badf00d"))
    edit(notes / "05_optimizer.yaml", lambda d: d["questions"].update({4: dict(note="x")}))
    with pytest.raises(guide.GuideError) as err:
        guide.render(notes=notes)
    now = guide.fingerprint(guide.load("05_optimizer").questions()[1])
    assert (f"- 05_optimizer: question 1 changed since its note was written (note 0badf00d, "
            f"now {now})") in str(err.value)
    assert ("- 05_optimizer: instructor/notes/05_optimizer.yaml has a note for question 4, which "
            "the lesson does not have") in str(err.value)


def test_a_new_lesson_without_notes_or_time_stops_generation(tmp_path):
    """A lesson 07 added without its notes and its Run All time: both named, with the fix."""
    for folder in ("solutions", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
        shutil.copytree(ROOT / folder / "01_neuron", tmp_path / folder / "07_new")
        (tmp_path / folder / "07_new" / "01_neuron.ipynb").rename(
            tmp_path / folder / "07_new" / "07_new.ipynb")
    with pytest.raises(guide.GuideError) as err:
        guide.render(root=tmp_path)
    lines = str(err.value).splitlines()[1:]
    assert lines == [
        "- 07_new: no instructor/notes/07_new.yaml: write an answer note for each of its 3 "
        "questions (fingerprints: 1: e8bbe2ba, 2: c6384dd0, 3: 179ef4a9) and its lecture mapping",
        "- 07_new: no Run All time in instructor/measured/run_all.json: run "
        "`.venv/bin/python bench/notebooks.py --record 07_new`"]


def test_code_changed_since_its_time_was_measured_stops_generation(tmp_path):
    measured = json.loads(guide.MEASURED.read_text(encoding="utf-8"))
    measured["03_loss"]["code"] = "000000000000"
    (tmp_path / "run_all.json").write_text(json.dumps(measured), encoding="utf-8")
    with pytest.raises(guide.GuideError) as err:
        guide.render(measured=tmp_path / "run_all.json")
    assert str(err.value).splitlines()[1:] == [
        f"- 03_loss: its code changed since its Run All time was measured (000000000000, now "
        f"{guide.code_hash(guide.load('03_loss').solution)}): run "
        "`.venv/bin/python bench/notebooks.py --record 03_loss`"]


def test_guide_reaches_no_student_path():
    secrets = instructor_only_lines()
    assert len(secrets) > 100
    for lesson in lessons():
        for path in (ROOT / "notebooks" / lesson / f"{lesson}.ipynb",
                     ROOT / "dlcourse" / "releases" / f"{lesson}.ipynb"):
            text = path.read_text(encoding="utf-8")
            assert not [s for s in secrets if s in text], path
    # The wheel ships the package dlcourse* and its package data only (autograder/ stays in the
    # checkout: tests/environment/test_platforms.py lists a built wheel).
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["packages"]["find"]["include"] == ["dlcourse*"]
    assert not [p for p in ROOT.joinpath("instructor").rglob("*") if p.suffix == ".py"
                or p.name == "__init__.py"]


def test_notes_use_the_glossary():
    """The answer notes and lecture mappings use the lessons' vocabulary (docs/glossary.md),
    quotations of the lecture aside, and no particle cut off after math or code."""
    words = avoided()
    for path in NOTES.glob("*.yaml"):
        text = QUOTED.sub("", " ".join(path.read_text(encoding="utf-8").split()))
        assert not [w for w in words if w in text], path.name
        assert not detached_particles(text), path.name
