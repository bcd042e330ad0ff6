"""The benchmark runner: suites, jobs, the results store and executors.

``run_suite("quick", jobs=2)`` (or ``seqbench run --suite quick --jobs 2``)
fits every model of a suite on every dataset, seed and fold, and stores
each result in ``reports/<suite>/results.sqlite``; ``ResultsStore`` reads it
back (the reports read only that). Four concerns, one module each (after
benchopt): ``_suite``/``_plan`` expand a suite into jobs, ``_executors``
(``_pool``, ``_dask``) run them, ``_evaluate``/``_job`` fit and score one,
``_store`` keeps the results.
"""

from ._errors import BenchError, StoreError, SuiteError
from ._evaluate import METRICS
from ._plan import Job, make_plan, resolve_suite
from ._runner import RunSummary, default_out_dir, run_suite
from ._store import FAILED_STATUSES, SCHEMA_VERSION, STATUSES, ResultsStore
from ._suite import Suite, load_suite, parse_suite, shipped_suites

__all__ = [
    "run_suite",
    "RunSummary",
    "default_out_dir",
    "load_suite",
    "parse_suite",
    "shipped_suites",
    "Suite",
    "resolve_suite",
    "make_plan",
    "Job",
    "ResultsStore",
    "METRICS",
    "STATUSES",
    "FAILED_STATUSES",
    "SCHEMA_VERSION",
    "BenchError",
    "SuiteError",
    "StoreError",
]
