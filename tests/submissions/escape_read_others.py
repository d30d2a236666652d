# Try to read other students' submissions and results. If any can be read, use the reference
# answer (as if copied from a classmate).
import glob
import os


def _escaped():
    targets = ["$course/submitted/$victim/$lesson/$lesson.ipynb",
               "$course/autograded/$victim/$lesson/$lesson.ipynb",
               "../../$victim/$lesson/$lesson.ipynb", "../../../submitted/$victim/$lesson/$lesson.ipynb"]
    targets += glob.glob("$course/submitted/*/*/*.ipynb") + glob.glob("../../*/*/*.ipynb")
    for path in targets:
        try:
            with open(path, "rb") as fh:
                if fh.read(10):
                    return True
        except Exception:
            pass
    try:
        return len(os.listdir("$course/submitted")) > 0
    except Exception:
        return False
# === per cell ===
if _escaped():
    exec($ref, globals())
