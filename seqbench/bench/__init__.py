"""The benchmark runner: suites, jobs and executors; it writes the results store.

``run_suite("quick", jobs=2)`` (or ``seqbench run --suite quick --jobs 2``)
fits every model of a suite on every dataset, seed and fold, and stores
each result in ``reports/<suite>/results.sqlite`` (``seqbench.results``,
which the reports read). Four concerns, one module each (after benchopt):
``_suite``/``_plan`` expand a suite into jobs, ``_executors`` (``_pool``,
``_dask``) run them, ``_evaluate``/``_job`` fit and score one (with
``_gradient_flow``, the record the long-range jobs add), and
``seqbench.results`` keeps what they produce.
"""

from ..results import FAILED_STATUSES, SCHEMA_VERSION, STATUSES, ResultsStore, StoreError
from ._errors import BenchError, SuiteError
from ._gradient_flow import dataset_gradient_flow, gradient_flow_artefact
from ._plan import Job, make_plan, resolve_suite
from ._runner import RunOptions, RunSummary, default_out_dir, run_suite
from ._suite import Suite, load_suite, parse_suite, shipped_suites

__all__ = [
    "run_suite",
    "RunOptions",
    "RunSummary",
    "default_out_dir",
    "load_suite",
    "parse_suite",
    "shipped_suites",
    "Suite",
    "resolve_suite",
    "make_plan",
    "Job",
    "gradient_flow_artefact",
    "dataset_gradient_flow",
    "BenchError",
    "SuiteError",
    # the results store, re-exported for code written before it had its own package
    "ResultsStore",
    "STATUSES",
    "FAILED_STATUSES",
    "SCHEMA_VERSION",
    "StoreError",
]
