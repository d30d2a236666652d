"""The sandboxed kernel's own files: matplotlib's font list comes ready and read-only; what the
kernel writes stays in its own tmpfs."""

import contextlib
import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

from autograder.pipeline.preprocessors import OVER_BUDGET, SandboxedExecute
from autograder.sandbox.backends import BACKENDS, Limits, Sandbox
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


def test_a_sandbox_backend_is_one_entry_of_the_registry(monkeypatch):
    """Another backend ("grade in Docker") is one entry of ``BACKENDS``: the course's
    configuration can name it, the grader opens each notebook's kernel through it with the
    configured ``Limits`` in a folder of the lesson's files, asks it after every cell, and a
    budget it reports exceeded stops the notebook with that budget's status and message."""
    opened, asked = [], []

    class Counting(Sandbox):
        def exceeded(self, km):
            asked.append(km is not None)
            return "processes" if len(asked) == 2 else None

    @contextlib.contextmanager
    def counting(workdir, limits):
        opened.append((Path(workdir).is_dir(), limits))
        yield Counting(None, None)

    monkeypatch.setitem(BACKENDS, "counting", counting)
    limits = {"memory_mb": 1000, "budget_mb": 900, "max_procs": 50, "file_mb": 10, "disk_mb": 100}
    execute = SandboxedExecute(config=Config({"SandboxedExecute": {"sandbox": "counting",
                                                                   **limits}}))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"print({i})")
                                         for i in range(3)])
    nb, _ = execute.preprocess(nb, {})
    assert opened == [(True, Limits(**limits))]
    assert asked == [True, True]  # after the first cell, and after the second, which stops it
    message = OVER_BUDGET["processes"].format(budget_mb=900, max_procs=50, disk_mb=100)
    assert nb.metadata.dlcourse["stopped"] == "crashed (processes)"
    assert nb.metadata.dlcourse["message"] == message
    assert [c.outputs[0].text for c in nb.cells[:1]] == ["0\n"]
