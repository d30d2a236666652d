"""A student's JupyterLab (:func:`dlcourse.lab.lab_command`, exactly what ``./course lab``
starts) in the background, for the browser tests: loopback address, free port, random token,
private Jupyter config/data/runtime folders, and a :meth:`LabServer.stop` that ends the server,
its kernels and the kernels Validate started."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from dlcourse.lab import lab_command


def _processes_mentioning(text: str) -> list[int]:
    """Ids of this user's processes whose command line contains ``text`` (Linux's ``/proc``;
    empty elsewhere, where :class:`LabServer`, a test tool, ends the process group only)."""
    pids = []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            pids.append(int(entry.name))
    return pids


class LabServer:
    """A JupyterLab started in the background on a loopback port with a random token; use as a
    context manager (or call :meth:`stop`): the server, its kernels and Validate's kernels end."""

    def __init__(self, notebooks: Path, home: Path | None = None, *, startup_timeout: float = 90,
                 env: dict[str, str] | None = None):
        """``env``: variables set for the server and so for its kernels (and Validate's)."""
        self._own_home = home is None
        self.notebooks = Path(notebooks).resolve()
        self.home = Path(home or tempfile.mkdtemp(prefix="dlcourse-lab-"))
        self.token = secrets.token_hex(24)
        self.launch = lab_command(notebooks, self.home, token=self.token, open_browser=False,
                                  isolated=True)
        self.launch.env.update(env or {})
        self.log_path = self.home / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None
        self.startup_timeout = startup_timeout

    @property
    def base_url(self) -> str:
        return self.launch.base_url

    def url(self, path: str = "/lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"

    def start(self) -> LabServer:
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(self.launch.argv, cwd=self.launch.cwd, env=self.launch.env,
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                self.stop()
                raise RuntimeError(f"JupyterLab exited ({code}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("/api/status"), timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"JupyterLab did not start in {self.startup_timeout}s:\n"
                                   f"{self.log()}")
            time.sleep(0.25)

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM (Jupyter shuts its kernels down), then SIGKILL for whatever is left: the
        server's process group and every kernel started with this server's runtime folder."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        runtime = self.launch.env.get("JUPYTER_RUNTIME_DIR")
        if runtime:
            for pid in _processes_mentioning(runtime):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
