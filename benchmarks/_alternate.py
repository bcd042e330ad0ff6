"""Side-by-side timing shared by the speed benchmarks: run two contenders in
turn in one process and take medians, so machine noise hits both alike."""

from __future__ import annotations

import statistics
import time


def timed(fn, *args, **kwargs) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def alternate(first, second, args, kwargs, repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Call ``first`` and ``second`` alternately ``repeats`` times each with the
    same arguments; returns ((median wall, median CPU) of first, same of second)."""
    first_times, second_times = [], []
    for _ in range(repeats):
        first_times.append(timed(first, *args, **kwargs))
        second_times.append(timed(second, *args, **kwargs))
    medians = lambda times: tuple(statistics.median(t) for t in zip(*times))  # noqa: E731
    return medians(first_times), medians(second_times)
