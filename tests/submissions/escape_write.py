# Try to write the gradebook, other students' work and results, the course and the grader's
# state. Success would show as the reference answer's points and as files the test looks for.
import os
import sqlite3


def _escaped():
    ok = False
    for db in ("$course/gradebook.db", "$root/gradebook.db"):
        try:
            con = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=1)
            con.execute("UPDATE grade SET auto_score = 0")
            con.execute("DROP TABLE IF EXISTS dlcourse_cell_status")
            con.commit()
            con.close()
            ok = True
        except Exception:
            pass
        try:
            with open(db, "ab") as fh:
                fh.write(b"pwned")
            ok = True
        except Exception:
            pass
    for path in ("$course/submitted/$victim/$lesson/$lesson.ipynb",
                 "$course/autograded/$victim/$lesson/$lesson.ipynb"):
        try:
            with open(path, "a") as fh:
                fh.write("pwned")
            ok = True
        except Exception:
            pass
    for folder in ("$course", "$course/autograded/$victim/$lesson", "$course/submitted/$victim",
                   "$course/solutions/$lesson", "$root/.grading", "../..", "../../$victim/$lesson"):
        try:
            with open(os.path.join(folder, "pwned.txt"), "w") as fh:
                fh.write("pwned")
            ok = True
        except Exception:
            pass
    return ok
# === per cell ===
if _escaped():
    exec($ref, globals())
