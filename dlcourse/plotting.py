"""Korean text in the course's figures.

matplotlib's own fonts (DejaVu) have no Hangul glyphs, and a student's machine or Colab may have no
Korean font either, so figure text in Korean would show empty boxes (tofu). The environment pins
PyPI's ``koreanize-matplotlib``, which ships NanumGothic (SIL Open Font License) inside the
package; :func:`use_korean_font` registers that file with matplotlib and puts it second in the
font family list, behind DejaVu Sans: plain text takes each glyph from the first font that has
it (Latin, digits, the minus sign U+2212 and Greek from DejaVu Sans, Hangul from NanumGothic).
Mathtext (``$...$``, and the tick labels of log axes) has no such fallback and uses DejaVu Sans
only, so a label that holds math is written without Hangul. Only the font file is read: importing ``koreanize_matplotlib`` itself
would import ``distutils``, which Python 3.12 no longer has.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

#: The family name of the bundled font, as matplotlib reports it.
KOREAN_FONT = "NanumGothic"
#: What a student reads once when the font is missing (Google Colab has no koreanize-matplotlib
#: until the setup cell installs it): the lesson goes on, Korean figure text may show as boxes.
FONT_MISSING_WARNING = ("한글 글꼴이 없어 그림의 한글이 네모로 보일 수 있습니다 (Korean font missing): "
                        "pip install koreanize-matplotlib 로 설치하면 보입니다")


class KoreanFontWarning(UserWarning):
    """Warned once per process by :func:`use_korean_font` when NanumGothic is not installed."""


_warned = False


def korean_font_path() -> Path:
    """The NanumGothic ``.ttf`` inside the installed ``koreanize-matplotlib`` package.

    Raises ``FileNotFoundError`` (Korean, with the English key phrase) when the package or the
    file is missing: the environment was not installed from requirements.txt."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "fonts" / "NanumGothic.ttf"
        if path.is_file():
            return path
    raise FileNotFoundError("한글 글꼴이 없습니다 (Korean font missing): "
                            "pip install -r requirements.txt 로 koreanize-matplotlib 를 설치하세요")


def use_korean_font() -> str | None:
    """Register NanumGothic with matplotlib (once) and make the font family list DejaVu Sans, then
    NanumGothic. Idempotent; returns the Korean family name. Changes
    ``matplotlib.rcParams["font.family"]``.

    A missing font never stops a lesson: without ``koreanize-matplotlib`` it warns
    :data:`FONT_MISSING_WARNING` (:class:`KoreanFontWarning`) once per process, leaves
    matplotlib's fonts as they are and returns ``None``."""
    global _warned
    import matplotlib
    from matplotlib import font_manager

    if KOREAN_FONT not in {f.name for f in font_manager.fontManager.ttflist}:
        try:
            path = korean_font_path()
        except FileNotFoundError:
            if not _warned:
                _warned = True
                warnings.warn(FONT_MISSING_WARNING, KoreanFontWarning, stacklevel=2)
            return None
        font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", KOREAN_FONT]
    return KOREAN_FONT
