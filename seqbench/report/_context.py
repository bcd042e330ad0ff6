"""What every section builder receives: the store's data and its summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ._aggregate import Entry, aggregate, group_by_dataset
from ._load import FAMILY_ORDER, ReportData

__all__ = ["Context"]


@dataclass
class Context:
    """``data`` (the store) plus ``entries`` (one per task, dataset and model).

    ``references``: published results shown beside the leaderboards,
    ``{dataset name: [seqbench.datasets.Reference, ...]}``; None (the
    default) takes them from the dataset cards' ``[[reference]]`` entries.
    """

    data: ReportData
    alpha: float = 0.05  # significance level of the statistical tests
    figures: dict = field(default_factory=dict)  # renderer options (dpi)
    references: dict | None = None

    @cached_property
    def entries(self) -> list[Entry]:
        return aggregate(self.data.jobs)

    @cached_property
    def groups(self) -> dict:
        """``{(task, dataset): [Entry]}`` in job order."""
        return group_by_dataset(self.entries)

    def is_tuned_task(self, task: str) -> bool:
        """Whether any row of ``task`` was tuned (then only tuned rows decide)."""
        return any(e.tuned for e in self.entries if e.task == task)

    def decides(self, entry: Entry) -> bool:
        """Whether ``entry`` may decide winners, ranks and tests: in a task
        with tuned rows only the tuned contenders do (fixed rows are
        ablations); a suite without tuning compares its fixed rows."""
        return entry.tuned or not self.is_tuned_task(entry.task)

    def contenders(self, task: str, dataset: str) -> list[Entry]:
        """The entries of one dataset that decide (see :meth:`decides`)."""
        return [e for e in self.groups.get((task, dataset), []) if self.decides(e)]

    def datasets_of(self, task: str) -> list[str]:
        return [d for (t, d) in self.groups if t == task]

    def families_of(self, task: str) -> list[str]:
        present = {e.family for e in self.entries if e.task == task}
        return [f for f in FAMILY_ORDER if f in present] + sorted(present - set(FAMILY_ORDER))

    def dataset_row(self, task: str, dataset: str) -> dict:
        """The stored dataset record of one dataset label (its first seed's)."""
        for entry in self.groups.get((task, dataset), []):
            for job in entry.jobs:
                row = self.data.datasets.get(job.get("dataset_checksum"))
                if row:
                    return row
        # n/a pairings carry no checksum: find the dataset by its label
        return next((d for d in self.data.datasets.values() if d.get("label") == dataset and d.get("task") == task), {})
