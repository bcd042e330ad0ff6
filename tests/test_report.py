"""Reports (seqbench.report) of a small stored run, checked against the store.

One tiny suite is really run through the runner (serial executor, this
process): three two-class datasets and a forecasting one; a logistic
regression labelled ``<script>alert(1)</script>``, a noisy variant, an
SGD-trained stand-in for a neural model (labelled LSTM; it records
``history_`` for the learning curves without torch's start-up), a model that raises with HTML in its
message (failed), one that returns NaN (diverged) and a pairing that cannot
exist (n/a). Every number the tests expect is recomputed from the store's
tables with sqlite3, json and scipy, not with the report's own code.
"""

from __future__ import annotations

import atexit
import csv
import functools
import html
import json
import re
import shutil
import sqlite3
import statistics
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import friedmanchisquare, rankdata

from bench_helpers import Capabilities, MeanClassifier
from seqbench.report import REPORT_FILES, Paragraph, Section, build_report, default_sections, write_report
from seqbench.cli import main
from seqbench.report._run_sections import run_section
from seqbench.report._tables import overview_section

ESCAPE_LABEL = "<script>alert(1)</script>"
ERROR_MARKUP = "<img src=x onerror=alert(2)>"
CLASSIFY_SETS = ("easy", "longer", "short")


class EpochClassifier(MeanClassifier):
    """Logistic regression on sequence means trained by SGD for ``max_epochs``
    epochs, recording ``history_`` as the neural estimators do (a dict per
    epoch with ``epoch``, ``train_loss`` and ``val_loss``). It stands in for
    a neural model so that this test needs neither torch nor its training
    time."""

    capabilities = Capabilities("classify", "neural", frozenset({"real"}), True)

    def __init__(self, max_epochs: int = 4, random_state=None):
        self.max_epochs = max_epochs
        self.random_state = random_state

    def fit(self, X, y):
        from sklearn.linear_model import SGDClassifier
        from sklearn.metrics import log_loss

        from bench_helpers import _means

        Z, y = _means(X), np.asarray(y)
        self.model_ = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=0.05,
                                    random_state=self.random_state)
        self.classes_ = np.unique(y)
        self.history_ = []
        for epoch in range(1, self.max_epochs + 1):
            self.model_.partial_fit(Z, y, classes=self.classes_)
            loss = float(log_loss(y, self.model_.predict_proba(Z), labels=self.classes_))
            self.history_.append({"epoch": epoch, "train_loss": loss, "val_loss": loss * 1.1})
        return self


class ExplodingClassifier(MeanClassifier):
    """Raises in fit, with markup in its message (for the escaping checks)."""

    capabilities = Capabilities("classify", "hmm", frozenset({"real"}), True)

    def fit(self, X, y):
        raise ValueError(f"exploded on purpose {ERROR_MARKUP}")


SUITE = f"""
[suite]
name = "report-tiny"
seeds = [0, 1, 2]

[evaluation.forecast]
protocol = "rolling_origin"
n_origins = 2
step = 2

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "easy"

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "longer"
options = {{ length = 12 }}

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "short"
options = {{ length = 2 }}

[[datasets]]
name = "bench_helpers:tiny_text"
label = "text"

[[datasets]]
name = "bench_helpers:tiny_forecast"
label = "waves"

[[models]]
name = "bench_helpers:MeanClassifier"
label = {json.dumps(ESCAPE_LABEL)}
datasets = {json.dumps(list(CLASSIFY_SETS))}

[[models]]
name = "bench_helpers:NoisyMeanClassifier"
label = "Noisy"
datasets = {json.dumps(list(CLASSIFY_SETS))}

[[models]]
name = "test_report:EpochClassifier"
label = "LSTM"
datasets = {json.dumps(list(CLASSIFY_SETS))}

[[models]]
name = "test_report:ExplodingClassifier"
label = "Exploding"
datasets = {json.dumps(list(CLASSIFY_SETS))}

[[models]]
name = "bench_helpers:Misbehaving"
label = "NaN model"
params = {{ mode = "nan" }}
datasets = ["easy"]

[[models]]
name = "bench_helpers:MeanClassifier"
label = "Means on text"
datasets = ["text"]

[[models]]
name = "bench_helpers:LastValueForecaster"
label = "Last value"
params = {{ horizon = 4 }}
"""


@dataclass
class TinyReport:
    store: Path
    out: Path


@functools.lru_cache(maxsize=None)
def tiny_report() -> TinyReport:
    """Run the tiny suite once per test session and write its report."""
    from seqbench.bench import run_suite

    root = Path(tempfile.mkdtemp(prefix="seqbench-report-test-"))
    atexit.register(shutil.rmtree, root, True)
    suite = root / "tiny.toml"
    suite.write_text(SUITE)
    summary = run_suite(suite, out=root / "run", executor="serial", progress=False, threads=1,
                        stream=open(root / "run.log", "w"))
    out = root / "report"
    write_report(summary.store, out)
    return TinyReport(summary.store, out)


# ------------------------------------------------------- reading the store
def _store_jobs(store: Path) -> list[dict]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        run = conn.execute("SELECT MAX(run_id) FROM runs").fetchone()[0]
        rows = conn.execute("SELECT jobs.* FROM jobs JOIN run_jobs USING (key) WHERE run_jobs.run_id = ?", (run,))
        return [dict(r) for r in rows]


def _expected(store: Path, dataset: str, metric: str) -> dict:
    """{model: (mean, std)} over seeds, folds averaged within each seed first."""
    per: dict = {}
    for job in _store_jobs(store):
        if job["dataset_label"] == dataset and job["status"] == "ok":
            value = json.loads(job["metrics"]).get(metric)
            if value is not None:
                per.setdefault(job["model_label"], {}).setdefault(job["seed"], []).append(value)
    out = {}
    for model, seeds in per.items():
        values = [sum(v) / len(v) for v in seeds.values()]
        out[model] = (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None)
    return out


def _fmt(mean, std) -> str:
    return f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"


# ------------------------------------------------------- reading the page
class _Tables(HTMLParser):
    """Every <table>: its caption, header and rows of (text, classes)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self._table, self._cell, self._classes, self._in_caption = [], None, None, "", False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = {"caption": "", "header": [], "rows": []}
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._table is not None:
            self._table["rows"].append([])
        elif tag in ("td", "th"):
            self._cell, self._classes = "", dict(attrs).get("class") or ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table["header"] = self._table["rows"].pop(0)
            self.tables.append(self._table)
            self._table = None
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._table["rows"][-1].append((self._cell.strip(), self._classes))
            self._cell = None

    def handle_starttag_br(self):
        pass

    def handle_data(self, data):
        if self._in_caption:
            self._table["caption"] += data
        elif self._cell is not None:
            self._cell += data


def _tables(out: Path) -> list[dict]:
    parser = _Tables()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    return parser.tables


def _leaderboard(out: Path, dataset: str) -> dict:
    """{model: {column: (text, classes)}} of one dataset's leaderboard."""
    table = next(t for t in _tables(out) if t["caption"].startswith(f"{dataset}:") and
                 any(h[0] == "jobs" for h in t["header"]))
    header = [h[0] for h in table["header"]]
    return {row[0][0]: dict(zip(header, row)) for row in table["rows"]}


# ------------------------------------------------------------------ tests
def test_writes_the_three_files_and_one_csv_row_per_job():
    report = tiny_report()
    assert sorted(p.name for p in report.out.iterdir()) == sorted(REPORT_FILES)
    jobs = {j["key"]: j for j in _store_jobs(report.store)}
    with open(report.out / "results.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(jobs) and {r["key"] for r in rows} == set(jobs)
    for row in rows:
        job = jobs[row["key"]]
        assert row["status"] == job["status"]
        if job["status"] == "ok":
            main = json.loads(job["metrics"])[job["main_metric"]]
            assert float(row["main_value"]) == pytest.approx(main, rel=1e-12)
            assert float(row[f"metric_{job['main_metric']}"]) == pytest.approx(main, rel=1e-12)
    statuses = {r["status"] for r in rows}
    assert {"ok", "failed", "diverged", "n/a"} <= statuses


@pytest.mark.parametrize("dataset", CLASSIFY_SETS)
def test_leaderboard_numbers_match_the_store(dataset):
    report = tiny_report()
    board = _leaderboard(report.out, dataset)
    columns = (("accuracy", "accuracy ↑ (main)"), ("f1_macro", "macro-F1 ↑"), ("log_loss", "log-loss ↓"))
    for metric, column in columns:
        expected = _expected(report.store, dataset, metric)
        assert expected, f"no {metric} stored for {dataset}"
        for model, (mean, std) in expected.items():
            assert board[model][column][0].startswith(_fmt(mean, std)), (model, metric)
        # the best value is marked, and only it (ties share the mark)
        greater = metric != "log_loss"
        best = max(m for m, _ in expected.values()) if greater else min(m for m, _ in expected.values())
        marked = {model for model, row in board.items() if "best" in row[column][1]}
        assert marked == {m for m, (v, _) in expected.items() if np.isclose(v, best)}
        assert all(board[m][column][0].endswith("★") for m in marked)
    # seconds, parameter count, failed and n/a rows
    fit = statistics.fmean(j["fit_seconds"] for j in _store_jobs(report.store)
                           if j["dataset_label"] == dataset and j["model_label"] == "LSTM")
    assert float(board["LSTM"]["fit s"][0]) == pytest.approx(fit, rel=6e-3)  # 3 significant figures
    params = {j["n_parameters"] for j in _store_jobs(report.store) if j["model_label"] == "LSTM"}
    assert board["LSTM"]["parameters"][0] == f"{params.pop():,}"
    assert board["Exploding"]["jobs"][0] == "failed 3/3"
    assert board["Exploding"]["accuracy ↑ (main)"][0] == "failed"
    assert "failed" in board["Exploding"]["accuracy ↑ (main)"][1]


def test_diverged_and_na_pairings_are_shown_as_such():
    report = tiny_report()
    easy = _leaderboard(report.out, "easy")
    assert easy["NaN model"]["jobs"][0] == "diverged 3/3"
    assert easy["NaN model"]["accuracy ↑ (main)"][0] == "diverged"
    text = _leaderboard(report.out, "text")
    assert text["Means on text"]["jobs"][0] == "n/a"
    assert all(cell[0] == "n/a" for col, cell in text["Means on text"].items() if col not in ("model", "family"))
    assert "does not accept text sequences" in (report.out / "index.html").read_text()


def test_ranks_and_friedman_match_scipy_on_the_store():
    report = tiny_report()
    means = {d: _expected(report.store, d, "accuracy") for d in CLASSIFY_SETS}
    models = [ESCAPE_LABEL, "Noisy", "LSTM", "Exploding"]  # NaN model ran on one dataset only: not ranked
    # a model whose every job failed ranks last
    scores = np.array([[means[d].get(m, (-np.inf, None))[0] for m in models] for d in CLASSIFY_SETS])
    ranks = rankdata(-scores, axis=1)
    average = dict(zip(models, ranks.mean(axis=0)))
    table = next(t for t in _tables(report.out) if t["caption"].startswith("Rank of each model")
                 and "accuracy" in t["caption"])
    shown = {row[0][0]: float(row[-1][0].rstrip(" ★")) for row in table["rows"]}
    assert shown == pytest.approx({m: round(r, 2) for m, r in average.items()}, abs=0.006)
    statistic, p = friedmanchisquare(*ranks.T)
    page = html.unescape((report.out / "index.html").read_text())
    assert f"χ² = {statistic:.2f}" in page
    assert "NaN model (not run on longer; not run on short)" in page
    # the forecasting task has one dataset: the test is not drawn, and the page says so
    assert "this task has 1 dataset and" in page
    assert "alt=\"critical-difference diagram for the classify task\"" in page
    assert "critical-difference diagram for the forecast task" not in page


def test_plots_are_embedded_pngs():
    page = (tiny_report().out / "index.html").read_text()
    for alt in ("classify: accuracy against fit time", "classify: training loss per epoch",
                "forecasts against the truth on waves", "confusion matrices on easy",
                "distance to the oracle on easy", "critical-difference diagram for the classify task"):
        assert f'alt="{alt}' in page, alt
    assert page.count('<img src="data:image/png;base64,iVBORw0KGgo') >= 8
    assert "http://" not in page and "https://" not in page  # nothing to fetch


def test_oracle_distance_is_score_minus_the_samples_oracle():
    report = tiny_report()
    with sqlite3.connect(f"file:{report.store}?mode=ro", uri=True) as conn:
        oracle = {c: json.loads(m).get("oracle", {}).get("accuracy") for c, m in
                  conn.execute("SELECT checksum, meta FROM datasets")}
    per_seed: dict = {}
    for job in _store_jobs(report.store):
        if job["dataset_label"] == "easy" and job["model_label"] == "Noisy" and job["status"] == "ok":
            per_seed[job["seed"]] = json.loads(job["metrics"])["accuracy"] - oracle[job["dataset_checksum"]]
    table = next(t for t in _tables(report.out) if t["caption"].startswith("easy: oracle accuracy"))
    row = next(r for r in table["rows"] if r[0][0] == "Noisy")
    values = list(per_seed.values())
    assert row[2][0] == _fmt(statistics.fmean(values), statistics.stdev(values))


def test_failed_jobs_section_lists_status_reason_and_traceback():
    report = tiny_report()
    failed = [j for j in _store_jobs(report.store) if j["status"] in ("failed", "diverged", "timeout")]
    table = next(t for t in _tables(report.out) if "failed job(s)" in t["caption"])
    assert len(table["rows"]) == len(failed) == 12  # Exploding: 3 datasets x 3 seeds; NaN model: 3 seeds
    reasons = {r[6][0] for r in table["rows"]}
    assert f"ValueError: exploded on purpose {ERROR_MARKUP}" in reasons
    assert any(r.startswith("diverged:") for r in reasons)
    page = (report.out / "index.html").read_text()
    # one traceback per model, status and reason, naming the jobs it stands for
    assert page.count("<summary>failed: Exploding: ") == 1 and page.count("<summary>diverged: NaN model: ") == 1
    assert ("(9 jobs: easy seed 0, easy seed 1, easy seed 2, longer seed 0, longer seed 1, longer seed 2 "
            "and 3 more)") in page
    assert "Traceback (most recent call last):" in page


def test_escaping_of_suite_names_and_error_messages():
    report = tiny_report()
    page = (report.out / "index.html").read_text()
    assert ESCAPE_LABEL not in page and ERROR_MARKUP not in page
    assert html.escape(ESCAPE_LABEL) in page and html.escape(ERROR_MARKUP) in page
    assert "<script" not in page.lower()
    assert "default-src 'none'" in page  # and no script could run even if one slipped through
    summary = (report.out / "summary.md").read_text()
    # outside fenced code blocks (which Markdown shows literally: the suite file, tracebacks)
    prose = re.sub(r"^(`{3,})text\n.*?^\1$", "", summary, flags=re.S | re.M)
    assert "```" not in prose
    assert ESCAPE_LABEL not in prose and ERROR_MARKUP not in prose
    assert r"\<script\>alert(1)\</script\>" in prose


def test_summary_markdown_has_the_tables_and_numbers():
    report = tiny_report()
    summary = (report.out / "summary.md").read_text()
    for dataset in CLASSIFY_SETS:
        for model, (mean, std) in _expected(report.store, dataset, "accuracy").items():
            assert _fmt(mean, std) in summary
    for title in ("## Which family wins where", "## Leaderboards", "## Across datasets", "## Failed jobs",
                  "## Environment"):
        assert title in summary
    assert "| model | family | jobs | accuracy ↑ (main) |" in summary


def test_environment_section_names_versions_machine_and_suite():
    report = tiny_report()
    page = html.unescape((report.out / "index.html").read_text())
    with sqlite3.connect(f"file:{report.store}?mode=ro", uri=True) as conn:
        sha, env = conn.execute("SELECT suite_sha256, environment FROM runs").fetchone()
    env = json.loads(env)
    for text in (sha, env["cpu"], f"numpy {env['versions']['numpy']}", f"torch {env['versions']['torch']}",
                 "matplotlib ", "scikit-posthocs ", 'name = "report-tiny"'):
        assert text in page, text


# -------------------------------------------------- atomicity and sections
def test_a_crash_leaves_the_previous_report_untouched(tmp_path, monkeypatch):
    report = tiny_report()
    out = tmp_path / "report"
    shutil.copytree(report.out, out)
    before = {name: (out / name).read_bytes() for name in REPORT_FILES}

    def crash(ctx):
        raise KeyboardInterrupt  # not an ordinary section error: the whole build stops

    with pytest.raises(KeyboardInterrupt):
        write_report(report.store, out, sections=[run_section, overview_section, crash])
    import seqbench.report._write as writer

    def broken_html(*args):
        raise OSError("disk full")

    monkeypatch.setattr(writer, "render_html", broken_html)  # after results.csv and summary.md are written
    for target in (out, tmp_path / "new"):
        with pytest.raises(OSError, match="disk full"):
            write_report(report.store, target, sections=[run_section])
    assert {name: (out / name).read_bytes() for name in REPORT_FILES} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder, no half "new"


def test_sections_are_pluggable_and_a_failing_one_does_not_cost_the_report(tmp_path):
    report = tiny_report()

    def dynamics(ctx):
        return Section("dynamics", "Recurrent dynamics", [Paragraph(f"{len(ctx.entries)} entries")])

    def buggy(ctx):
        raise ZeroDivisionError("a bug in a section")

    with pytest.warns(RuntimeWarning, match="buggy: ZeroDivisionError"):
        index = write_report(report.store, tmp_path / "r", sections=[run_section, dynamics, buggy])
    page = index.read_text()
    assert '<section id="dynamics"><h2>Recurrent dynamics</h2>' in page
    assert "buggy (could not be drawn)" in page and "a bug in a section" in page
    assert "## Recurrent dynamics" in (tmp_path / "r" / "summary.md").read_text()
    built = build_report(report.store, sections=[dynamics])
    assert [s.title for s in built.sections] == ["Recurrent dynamics"] and built.problems == []
    groups = {(j["task"], j["dataset_label"], j["model_label"]) for j in _store_jobs(report.store)}
    assert built.sections[0].blocks[0].text == f"{len(groups)} entries"


def test_a_store_without_jobs_still_gets_every_section(tmp_path):
    from types import SimpleNamespace

    from seqbench.bench import ResultsStore

    store = tmp_path / "results.sqlite"
    suite = SimpleNamespace(name="empty", path=None, sha256="0" * 64, text="[suite]\nname = 'empty'\n")
    with ResultsStore.open_writer(store) as writer:
        writer.begin_run(suite=suite, executor="serial", n_workers=1, threads=1, timeout=None, options={},
                         command="test", environment={})
    built = build_report(store)
    ids = [section.id for section in built.sections]
    # every section but the long-range and across-series ones, which appear only with their data
    assert built.problems == [] and len(ids) == len(default_sections()) - 2
    assert "recurrent-dynamics" not in ids and "across-series" not in ids
    index = write_report(store)
    page = html.unescape(index.read_text())
    assert "This run's status is “running”" in page and "No job is stored for this run yet." in page
    assert len(list(csv.DictReader(open(tmp_path / "results.csv")))) == 0


def test_report_command(tmp_path, capsys, monkeypatch):
    import seqbench.report._sections as sections

    monkeypatch.setattr(sections, "SECTION_BUILDERS", [run_section])  # the full build is tested above
    report = tiny_report()
    assert main(["report", str(report.store), "--out", str(tmp_path / "cli")]) == 0
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == sorted(REPORT_FILES)
    assert "index.html" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "missing.sqlite")]) == 1
    assert "missing.sqlite does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["report", str(report.store), "--alpha", "1.5"])
    assert usage.value.code == 2 and "--alpha: must be between 0 and 1" in capsys.readouterr().err


def test_report_command_module_is_light_to_import():
    import subprocess
    import sys

    code = ("import sys, seqbench.cli; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'scipy', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # `seqbench --help` stays fast
