"""The Dask distributed executor (imported only when ``--executor dask``).

Without an address it starts a ``LocalCluster`` of ``n`` single-threaded
worker processes; with ``--address tcp://host:8786`` it connects to that
scheduler, waiting at most ``connect_timeout`` seconds for it and for a
first worker. Every Dask worker runs its jobs in a ``ChildWorker`` of its
own (one per worker thread), so a timeout or a job that kills its process
takes down that child only: the Dask worker reports the failure and goes on.
Each worker's thread budget is its machine's CPUs divided by the worker
threads on that machine.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading

from ._errors import BenchError
from ._job import failure_result
from ._plan import job_cost
from ._pool import ChildWorker
from ._resources import available_cpus, thread_budget

__all__ = ["DaskExecutor"]

class DaskExecutor:
    name = "dask"

    def __init__(self, *, n_workers: int, threads: int | None, address: str | None, connect_timeout: float,
                 preload: tuple = ()):
        self.n_workers = n_workers
        self.threads = threads
        self.address = address
        self.connect_timeout = connect_timeout
        self.preload = tuple(preload)
        self.client = None
        self.cluster = None
        self.budgets: dict = {}

    def start(self) -> None:
        try:
            from distributed import Client, LocalCluster  # dask is imported only when this executor runs
        except ImportError as exc:
            raise BenchError(f"the dask executor needs dask[distributed] ({exc}); pip install 'dask[distributed]'") from None
        if self.address:
            self.client = self._connect(Client)
        else:
            try:
                self.cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.ERROR)
            except Exception as exc:  # noqa: BLE001 - any start failure is bad input/environment
                raise BenchError(f"could not start a local Dask cluster: {type(exc).__name__}: {exc}") from None
            self.client = Client(self.cluster)
        self.budgets = self._thread_budgets()
        self.n_workers = len(self.budgets) or self.n_workers

    def _connect(self, Client):
        timeout = self.connect_timeout
        hint = (f"start one with `dask scheduler` and workers with `dask worker {self.address}`, "
                "or check the address and port")
        try:
            client = Client(self.address, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as exc:
            raise BenchError(f"cannot reach the Dask scheduler at {self.address} within {timeout:g} s "
                             f"({type(exc).__name__}: {exc}); {hint}") from None
        except ValueError as exc:
            raise BenchError(f"bad Dask scheduler address {self.address!r}: {exc}") from None
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            client.close()
            raise BenchError(f"the Dask scheduler at {self.address} has no workers after {timeout:g} s; "
                             f"start some with `dask worker {self.address}`") from None
        return client

    def _thread_budgets(self) -> dict:
        """``{worker address: threads}``: each machine's CPUs shared by its worker threads."""
        info = self.client.scheduler_info()["workers"]
        cpus = self.client.run(available_cpus)
        per_host = collections.Counter()
        for addr, w in info.items():
            per_host[w.get("host")] += int(w.get("nthreads", 1))
        return {addr: self.threads or max(1, int(cpus.get(addr, 1)) // max(1, per_host[w.get("host")]))
                for addr, w in info.items()}

    def map(self, jobs):
        from distributed import as_completed  # dask is imported only when this executor runs

        futures = {}
        for job in jobs:
            fut = self.client.submit(_run_in_dask_worker, job, self.budgets, self.preload, pure=False, retries=0,
                                     priority=job_cost(job), key=f"seqbench-{job.key}")
            futures[fut] = job
        for fut in as_completed(list(futures)):
            job = futures.pop(fut)
            if fut.status == "finished":
                result = fut.result()
            else:
                exc = fut.exception()
                result = failure_result(job, "failed", f"Dask could not run the job: {type(exc).__name__}: {exc}",
                                        worker="dask")
            fut.release()
            yield job, result

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None


_LOCAL = threading.local()


def _run_in_dask_worker(job, budgets: dict, preload: tuple) -> dict:
    """Runs on a Dask worker: the job in this thread's ChildWorker."""
    from distributed import get_worker  # dask is imported only when this executor runs

    worker = get_worker()
    threads = job.threads or budgets.get(worker.address) or thread_budget(worker.state.nthreads)
    job = dataclasses.replace(job, threads=threads)
    child = getattr(_LOCAL, "child", None)
    if child is None or not child.alive or child.threads != threads:
        if child is not None:
            child.kill()
        child = _LOCAL.child = ChildWorker(threads=threads, preload=preload)
    result = child.run_one(job)
    result["worker"] = f"dask {get_worker().address} ({result.get('worker')})"
    return result
