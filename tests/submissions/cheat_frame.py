# Answers that inspect the calling frame (the test cell) to find the expected values and to
# disable the check object there.
import sys

import numpy as _np


def _peek():
    frame = sys._getframe(2)
    found = None
    for key, val in list(frame.f_locals.items()):
        if key == "ck" and hasattr(val, "_judge_now"):
            val._judge_now = lambda *a, **k: None
            val.records = _ForgedList(val.records)
        elif key.startswith("exp") or key in ("expected", "target", "want"):
            found = val
    return found


class _ForgedList(list):
    def append(self, rec):
        if "expected" in rec:
            rec = dict(rec, actual=rec["expected"])
        super().append(rec)
# === per function ===
def $name(*args, **kwargs):
    """wrong on purpose, but returns whatever the caller seems to expect"""
    found = _peek()
    if found is not None:
        return found
    try:
        return args[0] * 0 + 0.123
    except Exception:
        return _np.float64(0.123)
