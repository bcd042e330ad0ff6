"""What a job costs and where it ran: thread budgets, peak memory, parameter
counts, package versions and the machine.

Peak memory is the worker process's peak resident set size during the job,
in MiB. On Linux the kernel's high-water mark (``VmHWM``) is reset before the
job (``/proc/self/clear_refs``, value 5) and read after it, so the figure is
the job's own peak (it includes the worker's baseline: the interpreter and
imported libraries, about 300-400 MiB with torch). Where that reset is not
available, ``resource.getrusage(...).ru_maxrss`` is used: the process's peak
so far, which can only grow from job to job. The method is stored with each
job (``memory_method``: ``"vmhwm"`` or ``"ru_maxrss"``). tracemalloc is not
used: it slows torch down and misses its allocations.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .. import __version__
from ..data import limit_threads as _limit_threads

__all__ = [
    "available_cpus",
    "thread_budget",
    "limit_threads",
    "PeakMemory",
    "count_parameters",
    "package_versions",
    "environment",
    "source_commit",
]

_PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "hmmlearn", "statsmodels", "torch", "threadpoolctl",
             "dask", "distributed", "tqdm")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def thread_budget(n_workers: int, cpus: int | None = None) -> int:
    """Threads each of ``n_workers`` concurrent workers may use: the CPUs
    divided evenly (at least 1), so the workers do not oversubscribe them."""
    return max(1, (cpus or available_cpus()) // max(1, n_workers))


_PROCESS_THREADS: int | None = None  # set by set_process_threads (worker processes)


@contextlib.contextmanager
def limit_threads(n: int | None):
    """Run a block with at most ``n`` BLAS/OpenMP threads (threadpoolctl) and
    ``n`` torch intra-op threads (when torch is loaded); None changes nothing,
    nor does ``n`` equal to the budget the whole process already has."""
    if n is None or n == _PROCESS_THREADS:
        yield
        return
    with _limit_threads(n):
        yield


def set_process_threads(n: int) -> None:
    """Set a worker process's thread budget for its whole life: environment
    variables for libraries loaded later, threadpoolctl for those loaded now,
    torch intra- and inter-op threads."""
    global _PROCESS_THREADS
    _PROCESS_THREADS = n
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)
    threadpool_limits(limits=n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
        with contextlib.suppress(RuntimeError):  # only allowed before any inter-op work
            torch.set_num_interop_threads(1)


class PeakMemory:
    """Peak resident memory of this process over a block, in MiB (see module)."""

    def __init__(self):
        self.method = "vmhwm" if self._reset() else "ru_maxrss"
        self.peak_mb: float | None = None

    @staticmethod
    def _reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            return _vmhwm_mb() is not None
        except OSError:
            return False

    def stop(self) -> float | None:
        if self.method == "vmhwm":
            self.peak_mb = _vmhwm_mb()
        else:
            try:
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                self.peak_mb = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
            except OSError:
                self.peak_mb = None
        return self.peak_mb


def _vmhwm_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def count_parameters(estimator) -> int | None:
    """Number of fitted parameters, or None when the model's kind is unknown.

    - torch: ``sum(p.numel())`` over ``module_.parameters()``;
    - an ``n_parameters_`` attribute (or ``n_parameters()`` method) wins when
      the estimator defines one;
    - hmmlearn models: the free parameters hmmlearn counts for AIC/BIC
      (``_get_n_fit_scalars_per_param``);
    - statsmodels results: ``len(params)``;
    - anything with a ``coef_`` array (scikit-learn linear models, seqbench's
      AR classifier): ``coef_.size + intercept_.size`` (noise variances and
      feature scalers are not counted);
    - pipelines (their steps) and containers (lists, tuples, dicts) of these
      in fitted attributes, e.g. one HMM per class: the sum;
    - anything else (e.g. a naive forecaster): None.
    """
    own = getattr(estimator, "n_parameters_", None)
    if own is None and callable(getattr(estimator, "n_parameters", None)):
        own = estimator.n_parameters()
    if own is not None:
        return int(own)
    module = getattr(estimator, "module_", None)
    if module is not None and hasattr(module, "parameters"):
        return int(sum(p.numel() for p in module.parameters()))
    total = _count(estimator, depth=0, top=True)
    return total


def _count(obj, depth: int, top: bool = False) -> int | None:
    if depth > 4 or obj is None:
        return None
    if hasattr(obj, "_get_n_fit_scalars_per_param"):  # hmmlearn
        try:
            return int(sum(obj._get_n_fit_scalars_per_param().values()))
        except Exception:  # noqa: BLE001 - unfitted or unusual model: unknown count
            return None
    params = getattr(obj, "params", None)
    if not top and params is not None and hasattr(obj, "model") and hasattr(params, "__len__"):
        return len(params)  # statsmodels results
    if isinstance(getattr(obj, "coef_", None), np.ndarray):  # linear models
        return int(np.size(obj.coef_) + np.size(getattr(obj, "intercept_", ())))
    if isinstance(getattr(obj, "steps", None), list):  # a Pipeline: its steps
        items = [step for _, step in obj.steps]
    elif isinstance(obj, dict):
        items = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        items = list(obj)
    elif top or hasattr(obj, "get_params"):
        items = [v for k, v in getattr(obj, "__dict__", {}).items() if k.endswith("_") and not k.startswith("_")]
    else:
        return None
    counts = [c for c in (_count(v, depth + 1) for v in items[:1000]) if c is not None]
    return sum(counts) if counts else None


def package_versions() -> dict:
    """Versions of seqbench, Python and the libraries a result depends on."""
    out = {"seqbench": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu() -> dict | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if torch.cuda.is_available():
            return {"name": torch.cuda.get_device_name(0), "count": torch.cuda.device_count(),
                    "cuda": torch.version.cuda}
    except Exception:  # noqa: BLE001 - a broken driver is "no GPU" for the record
        return None
    return None


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def source_commit() -> dict | None:
    """The git commit of the seqbench source this process runs, when it runs
    from a git checkout: ``{"commit": 40 hex digits, "dirty": bool}``, where
    ``dirty`` means tracked files differ from that commit (untracked files are
    not counted). None for an installed wheel or when git is unavailable."""
    package = Path(__file__).resolve().parent.parent
    top = _git(package, "rev-parse", "--show-toplevel")
    # the package must be the checkout's own, not a copy inside some other repository
    if not top or Path(top).resolve() / "seqbench" != package:
        return None
    commit = _git(package, "rev-parse", "HEAD")
    status = _git(package, "status", "--porcelain", "--untracked-files=no")
    if not commit or status is None:
        return None
    return {"commit": commit, "dirty": bool(status)}


def environment() -> dict:
    """The machine and software of this process, for the run's record."""
    return {
        "source": source_commit(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "available_cpus": available_cpus(),
        "gpu": _gpu(),
        "versions": package_versions(),
        "python_executable": sys.executable,
    }
