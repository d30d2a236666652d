"""JupyterLab for students: the notebooks folder, nbgrader's student tools, nothing to configure.

``./course lab``, ``python -m dlcourse lab`` (checkout, student bundle, ``pip install``) and the
browser test (``tests/environment/test_browser.py``) both start JupyterLab through
:func:`lab_command`, so the test proves what students get:

- the server's root is the notebooks folder; kernels run each notebook in its own folder;
- nbgrader's *Validate* button (answered by :mod:`dlcourse.validate_button`, the grader's
  judgement) and *Assignment List* are on; the instructor-only parts
  (formgrader, create-assignment toolbar, course list) are off, in the browser and in the server;
- the Validate button reads ``nbgrader_config.py`` from the server's working directory, so the
  server runs in a *lab home* holding :data:`STUDENT_CONFIG` (``student_nbgrader_config.py``),
  which needs nothing but nbgrader: students have no ``autograder`` package, and this
  module is part of ``dlcourse`` so that every student gets this same lab;
- JupyterLab never fetches news or update checks (offline classrooms, no pop-up).

The tests run one in the background with ``tests/support/lab.py``'s ``LabServer``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import zmq

#: Set while nbgrader grades or validates, or by CI for headless plots: a student's kernel has
#: none of them (its checks do not publish for grading, its plots show inline).
NOT_IN_STUDENT_KERNELS = ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "MPLBACKEND")
#: Jupyter config for the trusted kernels the course starts over TCP (reference runs, known
#: mistakes, JupyterLab): their messages are CurveZMQ-encrypted where pyzmq supports it, and
#: ipykernel 7 stops warning "Kernel is running over TCP without encryption" on every start.
#: Sandboxed grading kernels use ZeroMQ's ipc transport instead (autograder/sandbox/bwrap.py).
KERNEL_CONFIG = {"KernelManager": {"transport_encryption": "auto"}} if zmq.has("curve") else {}

STUDENT_CONFIG = Path(__file__).with_name("student_nbgrader_config.py")

#: Browser-side plugins students do not get (instructor tools, JupyterLab's news pop-up).
DISABLED_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyterlab/apputils-extension:announcements",
)
#: Server extensions students do not get (the formgrader would create a gradebook).
DISABLED_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    # The Validate button is answered by the grader's judgement (dlcourse.validate_button).
    "nbgrader.server_extensions.validate_assignment",
)
ENABLED_SERVER_EXTENSIONS = ("dlcourse.validate_button",)


def prepare_home(home: Path) -> Path:
    """Fill ``home`` (the server's working directory) with the student ``nbgrader_config.py``
    and a Jupyter config folder (``home/config``) that disables the instructor-only parts."""
    home = Path(home)
    (home / "config" / "labconfig").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STUDENT_CONFIG, home / "nbgrader_config.py")
    page = {"disabledExtensions": {name: True for name in DISABLED_LAB_PLUGINS}}
    (home / "config" / "labconfig" / "page_config.json").write_text(
        json.dumps(page, indent=2) + "\n", encoding="utf-8")
    enabled = {n: False for n in DISABLED_SERVER_EXTENSIONS}
    enabled.update(dict.fromkeys(ENABLED_SERVER_EXTENSIONS, True))
    server = {"ServerApp": {"jpserver_extensions": enabled},
              **KERNEL_CONFIG}
    (home / "config" / "jupyter_server_config.json").write_text(
        json.dumps(server, indent=2) + "\n", encoding="utf-8")
    return home


@dataclass
class LabLaunch:
    """How to start JupyterLab: run ``argv`` in ``cwd`` with ``env``."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    token: str | None
    ip: str = "127.0.0.1"

    @property
    def base_url(self) -> str:
        return f"http://{self.ip}:{self.port}"


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def lab_command(notebooks: Path, home: Path, *, port: int | None = None,
                ip: str = "127.0.0.1", token: str | None = None, open_browser: bool = True,
                isolated: bool = False, extra_args: list[str] | tuple = ()) -> LabLaunch:
    """The command that opens JupyterLab on ``notebooks`` from the lab home ``home`` (prepared
    here). ``token=None`` lets Jupyter pick one (it prints the URL); ``isolated`` gives the
    server private Jupyter config, data, runtime and IPython folders inside ``home`` (tests:
    nothing from ``~/.jupyter``, no saved workspace, no leftover state between runs)."""
    notebooks, home = Path(notebooks).resolve(), prepare_home(Path(home).resolve())
    port = port or free_port(ip)
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in (str(home / "config"), env.get("JUPYTER_CONFIG_PATH", "")) if p)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    for var in NOT_IN_STUDENT_KERNELS:
        env.pop(var, None)
    if isolated:
        for var, sub in (("JUPYTER_CONFIG_DIR", "user-config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                         ("MPLCONFIGDIR", "matplotlib")):
            (home / sub).mkdir(parents=True, exist_ok=True)
            env[var] = str(home / sub)
        env["JUPYTERLAB_SETTINGS_DIR"] = str(home / "user-config" / "lab" / "user-settings")
    argv = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={notebooks}",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI run as root
    if isolated:
        argv.append("--ServerApp.port_retries=0")  # the caller needs to know the port
    if token is not None:
        argv.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        argv.append("--no-browser")
    argv += list(extra_args)
    return LabLaunch(argv=argv, env=env, cwd=home, port=port, token=token, ip=ip)


def run_lab(notebooks: Path, *, port: int | None = None, extra_args: list[str] | tuple = ()) -> int:
    """``./course lab``: JupyterLab in the foreground until Ctrl-C; the lab home is temporary."""
    with tempfile.TemporaryDirectory(prefix="dlcourse-lab-") as home:
        launch = lab_command(notebooks, Path(home), port=port, extra_args=extra_args)
        try:
            return subprocess.call(launch.argv, cwd=launch.cwd, env=launch.env)
        except KeyboardInterrupt:
            return 0
