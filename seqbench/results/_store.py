"""The results store: one SQLite file (WAL mode) per output folder.

Tables (schema version ``SCHEMA_VERSION``; ``PRAGMA application_id`` marks
the file as a seqbench store):

- ``seqbench_meta(name, value)``: ``format``, ``schema_version``,
  ``created_at``, ``created_by`` and ``metrics`` (JSON: per task, the main
  metric and whether larger is better for each metric).
- ``runs``: one row per ``seqbench run``: suite name, path, sha256 and text,
  executor, workers, threads per worker, timeout, options, command line,
  environment (JSON: versions, CPU, GPU, host), start and end times, status
  (``running``, ``finished``, ``interrupted``) and counts.
- ``run_jobs(run_id, key)``: the keys each run planned (the report selects
  the latest run's jobs with it).
- ``datasets``: one row per dataset content (checksum): name, label,
  options, random_state, task, input kind, sizes, meta (oracle scores,
  horizon, season, ...).
- ``jobs``: one row per job key: dataset, model, parameters, seed, fold,
  status (``ok``, ``failed``, ``timeout``, ``diverged``, ``n/a``), metrics,
  timings, peak memory, parameter count, error and traceback, versions,
  host, start and end times, attempts; and for a tuned job ``tuning`` (JSON:
  the search space, budget, chosen parameters, validation score, trial
  counts by state, tuning and refit seconds; see ``bench._tuning``).
- ``artefacts(key, name, data)``: JSON per job: ``learning_curve`` (the
  estimator's ``history_``: one dict per epoch), ``confusion_matrix``
  (``{"labels": [...], "matrix": [[...]]}``, rows are true labels;
  classify and tag), ``forecasts`` (``{"season": m, "series": [{"series",
  "history" (last 200 steps), "origin", "truth", "forecast"}]}``, up to 8
  series), ``predictions`` (regress: up to 500 ``y_true``/``y_pred``
  pairs), ``trials`` (a tuned job's every trial: number, params, value,
  state ``complete``/``pruned``/``failed``, seconds, epochs, error), ``warnings`` (distinct warnings with counts) and
  ``estimator_params`` (the fitted estimator's ``get_params()``).

One process writes (``ResultsStore.open_writer`` takes an exclusive lock
file beside the store); each job's row and artefacts are one transaction,
so a killed run loses only the jobs in flight. Readers may read while a run
writes (WAL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import sqlite3
import time
from pathlib import Path

from .. import __version__
from ..metrics import metric_directions
from ._errors import StoreError
from ._json import json_safe

__all__ = ["ResultsStore", "SCHEMA_VERSION", "STATUSES", "FAILED_STATUSES", "now_iso"]

SCHEMA_VERSION = 2  # 2: jobs.tuning
APPLICATION_ID = 0x53514243  # "SQBC"
STATUSES = ("ok", "failed", "timeout", "diverged", "n/a")
FAILED_STATUSES = ("failed", "timeout", "diverged")
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE seqbench_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    suite TEXT NOT NULL, suite_path TEXT, suite_sha256 TEXT, suite_text TEXT,
    executor TEXT, n_workers INTEGER, threads_per_worker INTEGER, timeout_s REAL,
    options TEXT, command TEXT, environment TEXT,
    started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL, counts TEXT
);
CREATE TABLE run_jobs (
    run_id INTEGER NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE TABLE datasets (
    checksum TEXT PRIMARY KEY, name TEXT NOT NULL, label TEXT, options TEXT,
    random_state INTEGER, task TEXT NOT NULL, input_kind TEXT,
    n_train INTEGER, n_test INTEGER, meta TEXT
);
CREATE TABLE jobs (
    key TEXT PRIMARY KEY, run_id INTEGER, suite TEXT, task TEXT NOT NULL,
    dataset TEXT NOT NULL, dataset_label TEXT NOT NULL, dataset_options TEXT, dataset_checksum TEXT,
    model TEXT NOT NULL, model_label TEXT NOT NULL, family TEXT, params TEXT,
    seed INTEGER, random_state INTEGER, fold INTEGER, protocol TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'timeout', 'diverged', 'n/a')),
    main_metric TEXT, metrics TEXT,
    fit_seconds REAL, predict_seconds REAL, peak_memory_mb REAL, memory_method TEXT,
    n_parameters INTEGER, threads INTEGER,
    error TEXT, traceback TEXT, versions TEXT, host TEXT, worker TEXT,
    started_at TEXT, finished_at TEXT, attempts INTEGER NOT NULL DEFAULT 1, tuning TEXT
);
CREATE INDEX jobs_by_dataset ON jobs (task, dataset_label, model_label);
CREATE TABLE artefacts (
    key TEXT NOT NULL REFERENCES jobs(key) ON DELETE CASCADE,
    name TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (key, name)
);
"""

_JSON_COLUMNS = ("dataset_options", "params", "protocol", "metrics", "versions", "options", "environment",
                 "counts", "meta", "tuning")
_JOB_COLUMNS = (
    "key", "run_id", "suite", "task", "dataset", "dataset_label", "dataset_options", "dataset_checksum",
    "model", "model_label", "family", "params", "seed", "random_state", "fold", "protocol", "status",
    "main_metric", "metrics", "fit_seconds", "predict_seconds", "peak_memory_mb", "memory_method",
    "n_parameters", "threads", "error", "traceback", "versions", "host", "worker", "started_at",
    "finished_at", "attempts", "tuning",
)


def now_iso() -> str:
    """Local time with offset, to the millisecond (ISO 8601)."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}" + time.strftime("%z")


def _dumps(value) -> str:
    return json.dumps(json_safe(value), sort_keys=True, allow_nan=False)


def check_store_file(path: Path) -> None:
    """Raise ``StoreError`` if ``path`` exists and is not an SQLite file."""
    if not path.exists() or path.stat().st_size == 0:
        return
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a seqbench results store")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != _SQLITE_MAGIC:
        raise StoreError(
            f"{path} is not a seqbench results store (not an SQLite database); "
            "point at a results.sqlite written by `seqbench run`, or choose another output folder"
        )


class ResultsStore:
    """A seqbench results store; see the module docstring for the tables.

    Use ``ResultsStore.open_writer(path)`` to write (creates the file, takes
    the writer lock) and ``ResultsStore.open_reader(path)`` to read.
    """

    def __init__(self, path, *, conn: sqlite3.Connection, lock_fd: int | None = None):
        self.path = Path(path)
        self._conn = conn
        self._lock_fd = lock_fd

    # ------------------------------------------------------------------ open
    @classmethod
    def open_reader(cls, path) -> "ResultsStore":
        """Open an existing store for reading. Raises ``StoreError`` if missing or foreign."""
        path = Path(path)
        if not path.exists():
            raise StoreError(f"{path} does not exist; run a suite into it first, or check the path")
        check_store_file(path)
        conn = _connect(path, write=False)
        store = cls(path, conn=conn)
        store._check_schema(create=False)
        return store

    @classmethod
    def open_writer(cls, path) -> "ResultsStore":
        """Open (creating if needed) a store for writing; one writer at a time."""
        path = Path(path)
        check_store_file(path)
        lock_fd = _lock(path)
        try:
            conn = _connect(path, write=True)
            store = cls(path, conn=conn, lock_fd=lock_fd)
            store._check_schema(create=True)
        except BaseException:
            os.close(lock_fd)
            raise
        return store

    def _check_schema(self, *, create: bool) -> None:
        conn = self._conn
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a seqbench results store ({exc})") from None
        if not tables and app_id == 0 and create:
            self._create()
            return
        if app_id != APPLICATION_ID or "seqbench_meta" not in tables:
            found = ", ".join(sorted(tables)) or "no tables"
            raise StoreError(
                f"{self.path} is an SQLite database but not a seqbench results store (it has {found}); "
                "choose another output folder or file"
            )
        version = int(dict(conn.execute("SELECT name, value FROM seqbench_meta")).get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer seqbench (store schema {version}, this one reads up to "
                f"{SCHEMA_VERSION}); upgrade seqbench"
            )
        if version < SCHEMA_VERSION and create:
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        """Bring an older store up to ``SCHEMA_VERSION`` (columns are only added)."""
        with self._tx():
            if version < 2:
                self._conn.execute("ALTER TABLE jobs ADD COLUMN tuning TEXT")
            self._conn.execute("UPDATE seqbench_meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),))
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _create(self) -> None:
        with self._tx():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            rows = {
                "format": "seqbench-results",
                "schema_version": str(SCHEMA_VERSION),
                "created_at": now_iso(),
                "created_by": f"seqbench {__version__}",
                "metrics": _dumps(metric_directions()),
            }
            self._conn.executemany("INSERT INTO seqbench_meta VALUES (?, ?)", rows.items())

    @contextlib.contextmanager
    def _tx(self):
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection and release the writer lock."""
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----------------------------------------------------------------- write
    def begin_run(self, *, suite, executor: str, n_workers: int, threads: int | None, timeout: float | None,
                  options: dict, command: str, environment: dict) -> int:
        """Insert a ``runs`` row (status ``running``) and return its id."""
        with self._tx():
            cur = self._conn.execute(
                "INSERT INTO runs (suite, suite_path, suite_sha256, suite_text, executor, n_workers, "
                "threads_per_worker, timeout_s, options, command, environment, started_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')",
                (suite.name, suite.path, suite.sha256, suite.text, executor, n_workers, threads, timeout,
                 _dumps(options), command, _dumps(environment), now_iso()),
            )
        return int(cur.lastrowid)

    def record_plan(self, run_id: int, plan) -> None:
        """Store the run's planned keys, dataset records and n/a rows (one transaction)."""
        with self._tx():
            self._conn.executemany(
                "INSERT OR IGNORE INTO run_jobs VALUES (?, ?)",
                [(run_id, j.key) for j in plan.jobs] + [(run_id, r["key"]) for r in plan.na_rows],
            )
            self._conn.executemany(
                "INSERT OR REPLACE INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(d["checksum"], d["name"], d["label"], _dumps(d["options"]), d["random_state"], d["task"],
                  d["input_kind"], d["n_train"], d["n_test"], _dumps(d["meta"])) for d in plan.datasets],
            )
            for row in plan.na_rows:
                self._replace_job({**row, "run_id": run_id, "finished_at": now_iso()}, artefacts={})

    def write_result(self, run_id: int, job, result: dict) -> None:
        """Store one finished job (row and artefacts) atomically: the job
        record (a dataclass whose fields name columns) and its ``result``."""
        row = {name: value for name, value in dataclasses.asdict(job).items() if name in _JOB_COLUMNS}
        row.update(run_id=run_id, threads=result.get("threads", job.threads))
        for name in _JOB_COLUMNS:
            if name in result and name not in row:
                row[name] = result[name]
        with self._tx():
            self._replace_job(row, artefacts=result.get("artefacts") or {})

    def _replace_job(self, row: dict, *, artefacts: dict) -> None:
        """INSERT OR REPLACE one job row and its artefacts (inside a transaction)."""
        old = self._conn.execute("SELECT attempts, status FROM jobs WHERE key = ?", (row["key"],)).fetchone()
        if row.get("status") != "n/a":
            row["attempts"] = (old[0] + 1) if old and old[1] != "n/a" else 1
        values = [(_dumps(row.get(c)) if c in _JSON_COLUMNS and row.get(c) is not None else row.get(c))
                  for c in _JOB_COLUMNS]
        values[_JOB_COLUMNS.index("attempts")] = row.get("attempts", 1)
        self._conn.execute("DELETE FROM artefacts WHERE key = ?", (row["key"],))
        self._conn.execute(
            f"INSERT OR REPLACE INTO jobs ({', '.join(_JOB_COLUMNS)}) VALUES ({', '.join('?' * len(_JOB_COLUMNS))})",
            values,
        )
        self._conn.executemany(
            "INSERT INTO artefacts VALUES (?, ?, ?)", [(row["key"], n, _dumps(d)) for n, d in artefacts.items()]
        )

    def end_run(self, run_id: int, *, status: str, counts: dict) -> None:
        with self._tx():
            self._conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = ? WHERE run_id = ?",
                (now_iso(), status, _dumps(counts), run_id),
            )

    # ------------------------------------------------------------------ read
    def statuses(self) -> dict:
        """``{key: status}`` of every stored job."""
        return dict(self._conn.execute("SELECT key, status FROM jobs"))

    def status_counts(self, run_id: int | None = None) -> dict:
        """``{status: n}`` over the jobs ``run_id`` planned (every job if None)."""
        if run_id is None:
            rows = self._conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status")
        else:
            rows = self._conn.execute(
                "SELECT jobs.status, COUNT(*) FROM jobs JOIN run_jobs ON run_jobs.key = jobs.key "
                "WHERE run_jobs.run_id = ? GROUP BY jobs.status", (run_id,))
        return dict(rows)

    def latest_run_id(self) -> int | None:
        row = self._conn.execute("SELECT MAX(run_id) FROM runs").fetchone()
        return row[0]

    def runs(self) -> list[dict]:
        """Every run, oldest first, JSON columns decoded."""
        return [_decode(r) for r in self._rows("SELECT * FROM runs ORDER BY run_id")]

    def jobs(self, *, run_id: int | str | None = "latest", status: str | None = None) -> list[dict]:
        """Job rows (JSON decoded), ordered by task, dataset, model, seed, fold.

        run_id : "latest" (the jobs the latest run planned, whichever run
            computed them), an int, or None for every stored job.
        """
        sql, args = "SELECT jobs.* FROM jobs", []
        if run_id == "latest":
            run_id = self.latest_run_id()
        if run_id is not None:
            sql += " JOIN run_jobs ON run_jobs.key = jobs.key AND run_jobs.run_id = ?"
            args.append(run_id)
        if status is not None:
            sql += (" WHERE" if "WHERE" not in sql else " AND") + " jobs.status = ?"
            args.append(status)
        sql += " ORDER BY task, dataset_label, model_label, seed, fold"
        return [_decode(r) for r in self._rows(sql, args)]

    def datasets(self) -> list[dict]:
        return [_decode(r) for r in self._rows("SELECT * FROM datasets ORDER BY task, label, random_state")]

    def artefacts(self, key: str) -> dict:
        """``{name: data}`` of one job's artefacts."""
        return {n: json.loads(d) for n, d in self._conn.execute("SELECT name, data FROM artefacts WHERE key = ?", (key,))}

    def meta(self) -> dict:
        out = dict(self._conn.execute("SELECT name, value FROM seqbench_meta"))
        out["metrics"] = json.loads(out.get("metrics", "{}"))
        return out

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``'s answer ("ok" for a sound file)."""
        return "; ".join(r[0] for r in self._conn.execute("PRAGMA integrity_check"))

    def _rows(self, sql: str, args=()) -> list[dict]:
        cur = self._conn.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def _decode(row: dict) -> dict:
    return {k: (json.loads(v) if k in _JSON_COLUMNS and isinstance(v, str) else v) for k, v in row.items()}


def _connect(path: Path, *, write: bool) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)  # transactions: _tx
        if write:
            # WAL + NORMAL: a commit is atomic and survives the process being
            # killed; only an OS crash or power cut can lose the last commits.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a seqbench results store ({exc})") from None
    return conn


def _lock(path: Path) -> int:
    """Take the writer lock (``<store>.lock``); raise if another run holds it."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StoreError(
            f"another seqbench run (pid {holder}) is writing to {path}; wait for it to finish "
            "or choose another output folder"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd
