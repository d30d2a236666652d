"""Figures in Korean (issue 16): the course's plotting helpers select NanumGothic from the pinned
koreanize-matplotlib package, a font that has the Hangul glyphs; and a sandboxed grading kernel,
with the environment mounted read-only, draws the helpers' Korean figures, log axes included,
without a missing-glyph warning or log message."""

import nbformat
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from nbclient import NotebookClient

from autograder.sandbox.bwrap import SandboxedKernelManager
from dlcourse.plotting import KOREAN_FONT, korean_font_path, use_korean_font

HANGUL = "손실 에포크 정확도 학생"


def has_hangul(path: str) -> bool:
    font = FT2Font(path)
    return all(font.get_char_index(ord(ch)) for ch in HANGUL.replace(" ", ""))


def test_matplotlib_default_font_has_no_hangul():
    """Why the course ships a font: the default one draws tofu boxes."""
    default = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    assert not has_hangul(default)


def test_use_korean_font_picks_a_font_with_hangul():
    assert use_korean_font() == KOREAN_FONT
    chosen = font_manager.findfont(font_manager.FontProperties(family=KOREAN_FONT),
                                   fallback_to_default=False)
    assert chosen == str(korean_font_path())
    assert has_hangul(chosen)
    import matplotlib
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", KOREAN_FONT]


KERNEL_CODE = """
import warnings
warnings.simplefilter("error")  # a missing glyph is a UserWarning: make it an error
import matplotlib
matplotlib.use("agg")
from dlcourse.lesson05 import plot_loss_curves
from dlcourse.lesson06 import plot_curves, plot_epoch_times
fig = plot_curves({"train_loss": [1.0, 0.5], "test_loss": [1.1, 0.6],
                   "train_acc": [0.5, 1.0], "test_acc": [0.4, 0.8]})
fig.savefig("curves.png")
fig = plot_epoch_times([100, 200], {"cpu": [0.1, -0.2]}, 256)
fig.savefig("times.png")
plot_loss_curves({"학습률 0.1": [1.0, 0.1, 0.01]}, title="로그 축 (log axis): 10^-1")  # mathtext ticks
matplotlib.pyplot.savefig("log.png")
print(matplotlib.rcParams["font.family"][-1])
import os
print(*(os.path.getsize(name) > 0 for name in ("curves.png", "times.png", "log.png")))
"""


def test_sandboxed_kernel_draws_korean(bwrap, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CODE)])
    NotebookClient(nb, kernel_name="python3", kernel_manager_class=SandboxedKernelManager,
                   shutdown_kernel="immediate", timeout=120, allow_errors=True).execute()
    outs = nb.cells[0].outputs
    assert not [o for o in outs if o.output_type == "error"], outs
    assert ("".join(o.get("text", "") for o in outs if o.get("name") == "stdout")
            == f"{KOREAN_FONT}\nTrue True True\n")  # drawn in the kernel's own folder
    assert not [o for o in outs if o.get("name") == "stderr"], outs


HIDDEN_FONT_CODE = """
import importlib.abc, importlib.machinery, sys, warnings

class HideKoreanize(importlib.abc.MetaPathFinder):  # Colab's runtime: no koreanize-matplotlib
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "koreanize_matplotlib":
            return importlib.machinery.ModuleSpec(name, None)  # no files: no font

sys.meta_path.insert(0, HideKoreanize())
import matplotlib
matplotlib.use("agg")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for n in range(1, 7):
        __import__(f"dlcourse.lesson0{n}")
    from dlcourse.lesson01 import draw_neuron
    draw_neuron().figure.savefig("neuron.png")
for w in caught:
    print(type(w.message).__name__, "|", w.message)
print("family", matplotlib.rcParams["font.family"])
"""


def test_missing_font_warns_once_and_every_lesson_goes_on(tmp_path):
    """Issue 28: without koreanize-matplotlib (Google Colab) every lesson module imports and
    draws; the student reads one warning (Korean, English key phrase) for all six lessons."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", HIDDEN_FONT_CODE], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    font = [line for line in lines if line.startswith("KoreanFontWarning")]
    assert font == ["KoreanFontWarning | 한글 글꼴이 없어 그림의 한글이 네모로 보일 수 있습니다 "
                    "(Korean font missing): pip install koreanize-matplotlib 로 설치하면 보입니다"]
    assert lines[-1] == "family ['sans-serif']"  # matplotlib's default, untouched
    assert (tmp_path / "neuron.png").stat().st_size > 0
