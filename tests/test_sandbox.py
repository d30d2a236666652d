"""The sandboxed kernel's own files: matplotlib's font list comes ready and read-only; what the
kernel writes stays in its own tmpfs."""

import json

import nbformat
from nbclient import NotebookClient

from autograder.sandbox.bwrap import MPLDIR, WORKDIR, SandboxedKernelManager, font_cache

KERNEL_CODE = """
import os, sys
cache = os.environ["MPLCONFIGDIR"]
ready = sorted(os.listdir(cache)) if os.path.isdir(cache) else []  # before matplotlib starts
import matplotlib, matplotlib.pyplot as plt
plt.plot([1, 10]); plt.yscale("log"); plt.title("fonts"); plt.savefig("plot.png")
print(cache, matplotlib.get_cachedir(), os.getcwd(), os.path.getsize("plot.png") > 0, *ready)
for name in ready:  # a student's kernel spoiling the list
    try:
        with open(os.path.join(cache, name), "w") as fh:
            fh.write("{broken")
    except OSError as err:
        print("refused", type(err).__name__, file=sys.stderr)
"""


def _run_kernel() -> tuple[str, str]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CODE)])
    NotebookClient(nb, kernel_name="python3", kernel_manager_class=SandboxedKernelManager,
                   shutdown_kernel="immediate", timeout=120).execute()
    outs = nb.cells[0].outputs
    errors = [o for o in outs if o.output_type == "error"]
    assert not errors, errors
    text = {name: "".join(o.text for o in outs if o.get("name") == name)
            for name in ("stdout", "stderr")}
    return text["stdout"], text["stderr"]


def test_kernels_start_with_a_read_only_font_list(bwrap, tmp_path, monkeypatch):
    """No kernel rebuilds matplotlib's font list (~0.5 s each), and no kernel can change it
    for the next; the kernel draws in its own working folder, which is not the grader's."""
    monkeypatch.chdir(tmp_path)  # the grader's folder for the kernel: its files, read-only
    shared = font_cache()
    lists = sorted(shared.glob("fontlist-*.json"))
    assert lists and all(json.loads(p.read_text())["ttflist"] for p in lists)
    for _ in range(2):
        out, err = _run_kernel()
        cache, used, cwd, drawn, *ready = out.split()
        assert ready == [p.name for p in lists], f"the kernel found {ready} in its font cache"
        assert (used, cwd, drawn) == (MPLDIR, WORKDIR, "True"), out
        assert err.split("\n")[:len(lists)] == ["refused OSError"] * len(lists), err
        assert "font" not in err, err
        assert list(tmp_path.iterdir()) == []
    assert all(json.loads(p.read_text())["ttflist"] for p in lists)
