"""The run's progress bar (tqdm: done/total, rate, ETA, counts by status) and
one line per failed job, printed above the bar."""

from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["Progress", "failure_line"]


def failure_line(job, result: dict) -> str:
    """``TIMEOUT digits / RNNClassifier(cell=gru) seed 1 fold 0: <reason>``."""
    reason = (result.get("error") or "no reason given").strip().splitlines()
    fold = f" fold {job.fold}" if job.n_folds > 1 else ""
    return f"{result['status'].upper()} {job.dataset_label} / {job.model_label} seed {job.seed}{fold}: {reason[0] if reason else ''}"


class Progress:
    """Counts results as they arrive; draws a bar when ``bar`` is true."""

    def __init__(self, total: int, *, bar: bool = True, stream=None, description: str = "jobs"):
        self.stream = stream or sys.stderr
        self.counts: dict = {}
        self._bar = None
        if bar and total:
            self._bar = tqdm(total=total, desc=description, unit="job", file=self.stream, dynamic_ncols=True,
                             mininterval=0.5, smoothing=0.1)

    def update(self, job, result: dict) -> None:
        status = result["status"]
        self.counts[status] = self.counts.get(status, 0) + 1
        if status != "ok":
            self.write(failure_line(job, result))
        if self._bar is not None:
            failed = sum(n for s, n in self.counts.items() if s != "ok")
            self._bar.set_postfix_str(f"ok {self.counts.get('ok', 0)}, failed {failed}", refresh=False)
            self._bar.update(1)

    def write(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
