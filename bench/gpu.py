"""Lesson 06 on CPU and on the GPU: seconds per epoch of the notebook's own classifier at several
class sizes N (one source: the solution notebook, as in ``bench/classifier.py``).

For each device (cpu, then cuda when ``torch.cuda.is_available()``) and each N (the 17 real
training students, then synthetic classes of ``dlcourse.lesson06.synthetic_class``):

- full batch: the notebook's ``train_model`` (one Adam step per epoch over all N rows);
- mini-batch: the notebook's ``train_minibatch`` (a shuffled index sliced into batches of ``BATCH`` = 256),
  for N up to ``--minibatch-max``;

each the median of ``--epochs`` epochs after one warm-up epoch, with ``torch.cuda.synchronize()``
before every clock read on the GPU. Then the real table trained on each device with the same code
(test accuracy, 5 students). Planned to finish in under 3 minutes on one GPU machine:

    .venv/bin/python bench/gpu.py [--sizes 17 1000 10000 100000 1000000] [--epochs 5] [--threads 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("TQDM_DISABLE", "1")  # the notebook's progress bars: not in the table
sys.path.insert(0, str(Path(__file__).resolve().parent))

import nbformat  # noqa: E402
from classifier import SOURCE, lesson_code  # noqa: E402


def with_minibatch(ns: dict) -> dict:
    """``ns`` plus the notebook's ``BATCH`` and ``train_minibatch`` (its scaling-up cells)."""
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if line.startswith("BATCH ="):
                exec(line, ns)
        if "def train_minibatch" in cell.source:
            exec(compile(cell.source, "06_grade_classifier:train_minibatch", "exec"), ns)
    return ns


def tensors(ns: dict, n: int, device):
    """X (n, 5) standardised with the real training table's statistics, y (n,) on ``device``:
    the real 17 students for n = 17, else a synthetic class of n."""
    torch = ns["torch"]
    train, test = ns["load_grades"]("train"), ns["load_grades"]("test")
    X, y, _, _, mean, std = ns["make_tensors"](train, test, torch.device("cpu"))
    if n != len(train):
        big = ns["synthetic_class"](train, n, seed=ns["SEED"])
        X = (torch.as_tensor(big[ns["FEATURES"]].to_numpy(copy=True), dtype=torch.float32)
             - mean) / std
        y = torch.as_tensor(big[ns["LABEL"]].map(ns["GRADES"].index).to_numpy(copy=True))
    return X.to(device), y.to(device)


def full_batch_epoch(ns: dict, X, y, epochs: int) -> float:
    """Median seconds of one full-batch epoch of ``train_model`` (first epoch is warm-up)."""
    torch = ns["torch"]
    model = ns["GradeNet"]().to(X.device)
    seconds = []

    def clock(_epoch):
        if X.device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter())

    clock(-1)
    ns["train_model"](model, X, y, epochs=epochs + 1, on_epoch=clock)
    return statistics.median(b - a for a, b in zip(seconds[1:], seconds[2:], strict=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[17, 1_000, 10_000, 100_000, 1_000_000])
    ap.add_argument("--epochs", type=int, default=5, help="timed epochs per measurement")
    ap.add_argument("--minibatch-max", type=int, default=100_000,
                    help="largest N timed with mini-batches (DataLoader cost grows with N)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = ap.parse_args()
    start = time.perf_counter()
    ns = with_minibatch(lesson_code())
    torch = ns["torch"]
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
        print(f"GPU: {torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})")
    else:
        print(f"no CUDA device (torch {torch.__version__}, built with CUDA {torch.version.cuda}): "
              "CPU only")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"mini-batch {ns['BATCH']}, median of {args.epochs} epochs after one warm-up")
    print(f"{'N':>9} {'device':>6} {'full batch s/epoch':>19} {'mini-batch s/epoch':>19}")
    rows = {}
    for n in args.sizes:
        for dev in devices:
            X, y = tensors(ns, n, dev)
            full = full_batch_epoch(ns, X, y, args.epochs)
            mini = None
            if n <= args.minibatch_max:
                model = ns["GradeNet"]().to(dev)
                mini = statistics.median(ns["train_minibatch"](model, X, y, epochs=args.epochs + 1)[1:])
            rows[n, dev.type] = (full, mini)
            mini_text = f"{mini:19.5f}" if mini is not None else f"{'-':>19}"
            print(f"{n:>9,} {dev.type:>6} {full:19.5f} {mini_text}", flush=True)
    if len(devices) == 2:
        print("\nspeed-up of cuda over cpu (cpu time / cuda time):")
        for n in args.sizes:
            (fc, mc), (fg, mg) = rows[n, "cpu"], rows[n, "cuda"]
            mini = f", mini-batch {mc / mg:.2f}x" if mc is not None else ""
            print(f"  N={n:,}: full batch {fc / fg:.2f}x{mini}")
    print("\nthe lesson's real table (EPOCH epochs, same code) on each device:")
    train, test = ns["load_grades"]("train"), ns["load_grades"]("test")
    for dev in devices:
        X, y, Xt, yt, _, _ = ns["make_tensors"](train, test, dev)
        ns["seed_everything"](ns["SEED"])
        model = ns["GradeNet"]().to(dev)
        t0 = time.perf_counter()
        losses = ns["train_model"](model, X, y)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        print(f"  {dev.type}: {time.perf_counter() - t0:.3f} s, final loss {losses[-1]:.4f}, "
              f"test accuracy {ns['accuracy'](model, Xt, yt):.2f} "
              f"({next(model.parameters()).device})")
    print(f"\ntotal {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
