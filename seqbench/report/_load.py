"""What a report reads: the latest run's jobs, its dataset records, the
metric directions and, on demand, each job's artefacts.

Everything comes from the results store (read only, through
``seqbench.results.ResultsStore``); nothing is refitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..metrics import TASKS, family_names
from ..results import ResultsStore

__all__ = ["ReportData", "open_report_data", "TASK_ORDER", "FAMILY_ORDER"]

# the order tasks and families appear in, wherever they appear
TASK_ORDER = tuple(TASKS)
FAMILY_ORDER = family_names()


@dataclass
class ReportData:
    """One store's contents as the report sees them.

    jobs : job rows of the latest run's plan (JSON columns decoded), the
        ``n/a`` pairings included; see ``seqbench.results``.
    datasets : ``{checksum: dataset row}`` (meta holds oracle scores, horizon...).
    metrics : per task, ``{"main": name, "greater_is_better": {name: bool}}``
        (the store's ``seqbench_meta`` entry).
    run : the latest ``runs`` row (environment, suite, times), or None.
    """

    path: Path
    jobs: list
    datasets: dict
    metrics: dict
    run: dict | None
    runs: list
    meta: dict
    _store: object = field(default=None, repr=False)
    _artefacts: dict = field(default_factory=dict, repr=False)

    def artefacts(self, key: str) -> dict:
        """``{name: data}`` of one job (read from the store once, then cached)."""
        if key not in self._artefacts:
            self._artefacts[key] = self._store.artefacts(key) if self._store is not None else {}
        return self._artefacts[key]

    @property
    def tasks(self) -> list[str]:
        """Tasks with at least one job, in ``TASK_ORDER`` (unknown ones last)."""
        present = {j["task"] for j in self.jobs}
        return [t for t in TASK_ORDER if t in present] + sorted(present - set(TASK_ORDER))

    def main_metric(self, task: str) -> str | None:
        return (self.metrics.get(task) or {}).get("main")

    def greater_is_better(self, task: str, metric: str) -> bool:
        """Direction of ``metric`` for ``task``; unknown metrics count as larger-is-better."""
        return bool((self.metrics.get(task) or {}).get("greater_is_better", {}).get(metric, True))

    def metric_names(self, task: str) -> list[str]:
        """The task's metrics, main first, then the others in the store's order."""
        names = list((self.metrics.get(task) or {}).get("greater_is_better", {}))
        main = self.main_metric(task)
        seen = {m for j in self.jobs if j["task"] == task for m in (j.get("metrics") or {})}
        ordered = ([main] if main else []) + [n for n in names if n != main]
        return ordered + sorted(seen - set(ordered))

    def dataset_meta(self, checksum: str | None) -> dict:
        row = self.datasets.get(checksum) if checksum else None
        return (row or {}).get("meta") or {}


def open_report_data(store_path) -> "ReportDataContext":
    """Open ``store_path`` for reading; use as ``with open_report_data(p) as data:``."""
    return ReportDataContext(Path(store_path))


class ReportDataContext:
    """Context manager holding the store open while a report is built."""

    def __init__(self, path: Path):
        self.path = path
        self._store = None

    def __enter__(self) -> ReportData:
        self._store = store = ResultsStore.open_reader(self.path)
        try:
            runs = store.runs()
            return ReportData(
                path=self.path,
                jobs=store.jobs(run_id="latest"),
                datasets={d["checksum"]: d for d in store.datasets()},
                metrics=store.meta().get("metrics") or {},
                run=runs[-1] if runs else None,
                runs=runs,
                meta=store.meta(),
                _store=store,
            )
        except BaseException:
            store.close()
            raise

    def __exit__(self, *exc) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
