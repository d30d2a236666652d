"""An LMS download (one .ipynb or .zip per student) is laid out as nbgrader expects."""

import zipfile

from autograder.parallel import inspect_submission, layout_lms, submissions

LESSONS = ["01_neuron", "02_forward"]


def test_layout_lms(tmp_path):
    dl, root = tmp_path / "download", tmp_path / "course"
    dl.mkdir()
    root.mkdir()
    (dl / "kim01_01_neuron.ipynb").write_text("{}", encoding="utf-8")
    with zipfile.ZipFile(dl / "lee02_all_my_work.zip", "w") as zf:
        zf.writestr("work/02_forward.ipynb", "{\"a\": 1}")
        zf.writestr("__MACOSX/work/._02_forward.ipynb", "junk")
        zf.writestr("../../escape_01_neuron.ipynb", "{\"b\": 2}")
    (dl / "park03_01_neuron (1).ipynb").write_text("{}", encoding="utf-8")
    (dl / "park03_01_neuron.ipynb").write_text("{\"newer\": 1}", encoding="utf-8")
    (dl / "choi04_notes.txt").write_text("hello", encoding="utf-8")
    (dl / "jung05_01_neuron.zip").write_bytes(b"not a zip")
    notes = layout_lms(dl, root, LESSONS)

    sub = root / "submitted"
    assert (sub / "kim01" / "01_neuron" / "01_neuron.ipynb").read_text() == "{}"
    assert (sub / "lee02" / "02_forward" / "02_forward.ipynb").read_text() == "{\"a\": 1}"
    # a path inside the zip never escapes: only the file name is used
    assert (sub / "lee02" / "01_neuron" / "01_neuron.ipynb").read_text() == "{\"b\": 2}"
    assert not (tmp_path / "escape_01_neuron.ipynb").exists()
    assert (sub / "park03" / "01_neuron" / "01_neuron.ipynb").exists()
    assert any("park03" in n and "duplicate" in n for n in notes)
    assert any("choi04_notes.txt" in n for n in notes)
    assert any("jung05" in n and "bad zip" in n for n in notes)
    assert submissions(root, LESSONS) == [("kim01", "01_neuron"), ("lee02", "01_neuron"),
                                          ("lee02", "02_forward"), ("park03", "01_neuron")]


def test_inspect_submission_names_student_and_notebook(tmp_path):
    folder = tmp_path / "submitted" / "s9" / "01_neuron"
    folder.mkdir(parents=True)
    (folder / "01_neuron-copy.ipynb").write_text("{}")
    msg = inspect_submission(tmp_path, "s9", "01_neuron")
    assert "s9" in msg and "01_neuron.ipynb" in msg and "missing" in msg
    assert "01_neuron-copy.ipynb" in msg
