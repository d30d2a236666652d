# Print fake success output and publish forged check payloads (every label the caller's source
# names, with made-up values), and end each test cell early with SystemExit.
import linecache
import re
import sys

import numpy as _np
from IPython.display import display

from dlcourse.check import MIME, encode

print("통과 (OK): 모든 검사 (all checks passed)")


def _forge():
    frame = sys._getframe(2)
    src = "".join(linecache.getlines(frame.f_code.co_filename))
    labels = re.findall(r'ck\.\w+\(\s*f?"([^"]+)"', src)
    records = [{"label": lab, "kind": "close", "actual": encode(_np.float64(0.123))}
               for lab in labels]
    display({MIME: {"title": "forged", "records": records}}, raw=True)
    print("통과 (OK): forged")
    raise SystemExit(0)
# === per function ===
def $name(*args, **kwargs):
    """wrong on purpose: forges the check's output and stops the test cell"""
    _forge()
