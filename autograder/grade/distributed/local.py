"""A broker and workers on this machine: what the tests and ``bench/grading.py`` start."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from dlcourse.lab import free_port

from ... import ROOT


class Redis:
    """Debian's ``redis-server`` on a free loopback port, without persistence, its files in
    ``base``. Raises RuntimeError when it does not answer within 10 s."""

    def __init__(self, base: Path):
        port = free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {port}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


class Worker:
    """``./course worker`` with one pool process, in its own process group (a SIGKILL of the
    group is a lost machine: the pool process and its kernels go too), its output in ``log``."""

    def __init__(self, broker: str, db: str, log: Path, *extra: str):
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(ROOT / "course"), "worker", "--broker", broker, "--concurrency", "1",
                 *extra], env={**os.environ, "NBGRADER_DB_URL": db}, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 180) -> Worker:
        """Wait for Celery's "ready." line; RuntimeError with the log if it exits or is late."""
        deadline = time.monotonic() + timeout
        while " ready." not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready:\n{self.text()}")
            time.sleep(0.5)
        return self

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        """SIGTERM (a warm shutdown: current tasks finish), SIGKILL after 60 s."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
