"""The sandboxed kernel's own files: matplotlib's font list comes ready, private to the kernel."""

import json

import nbformat
from nbclient import NotebookClient

from autograder.sandbox import SandboxedKernelManager, font_cache

KERNEL_CODE = """
import os
cache = os.environ["MPLCONFIGDIR"]
ready = sorted(os.listdir(cache)) if os.path.isdir(cache) else []  # before matplotlib starts
import matplotlib, matplotlib.pyplot as plt
plt.plot([1, 10]); plt.yscale("log"); plt.title("fonts"); plt.savefig("plot.png")
print(cache, matplotlib.get_cachedir(), *ready)
for name in ready:  # a student's kernel spoiling its copy
    with open(os.path.join(cache, name), "w") as fh:
        fh.write("{broken")
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


def test_kernels_start_with_a_private_font_list(bwrap, tmp_path, monkeypatch):
    """No kernel rebuilds matplotlib's font list (~0.5 s each); what one kernel does to its
    copy reaches neither the shared list nor the next kernel."""
    monkeypatch.chdir(tmp_path)  # the kernel's working folder
    shared = font_cache()
    lists = sorted(shared.glob("fontlist-*.json"))
    assert lists and all(json.loads(p.read_text())["ttflist"] for p in lists)
    for _ in range(2):
        out, err = _run_kernel()
        cache, used, *ready = out.split()
        assert ready == [p.name for p in lists], f"the kernel found {ready} in its font cache"
        assert used == cache and not cache.startswith(str(shared)), out
        assert "font" not in err, err
        assert (tmp_path / "plot.png").stat().st_size > 0
    assert all(json.loads(p.read_text())["ttflist"] for p in lists)
