"""Published results in the report: a dataset's references appear as
"published" rows under its leaderboard (HTML and Markdown), set apart,
escaped, never ranked or starred and never in the Friedman input; the
overview says how far seqbench's best is from the best published value.

A tiny suite is run for real (serial executor, this process): three small
two-class datasets, one of which (``cited``) is given references, one with
markup in its method, source and note. The expected numbers are recomputed
from the store with sqlite3, not with the report's code.
"""

from __future__ import annotations

import functools
import html
import json
import re
import sqlite3
import statistics
from pathlib import Path

import pytest

from bench_helpers import tiny_classify
from test_reports_fresh import _FINGERPRINT
from seqbench.bench._resources import source_commit
from seqbench.datasets import Reference, get_card
from seqbench.report import Context, write_report
from seqbench.report._load import ReportData, open_report_data
from seqbench.report._stats import compare_task
from seqbench.report._tables import leaderboard_table
from seqbench.results import suite_fingerprint

SUITE = """
[suite]
plugins = ["bench_helpers", "test_report_published"]
name = "published-tiny"
seeds = [0, 1]

[[datasets]]
name = "test_report_published:referenced"
label = "cited"

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "plain"

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "long"
options = { length = 12 }

[[models]]
name = "bench_helpers:MeanClassifier"
label = "Means"

[[models]]
name = "bench_helpers:NoisyMeanClassifier"
label = "Noisy"

[[models]]
name = "bench_helpers:MeanClassifier"
label = "Weak"
params = { C = 0.001 }
"""

DATASET = "test_report_published:referenced"
PAYLOAD_METHOD = "<script>alert('published')</script> *1-NN* | [DTW]"
PAYLOAD_SOURCE = "<img src=x onerror=alert(3)> Evil & Sons, 2020"
PAYLOAD_NOTE = "<b>bold</b> claim"
REFERENCES = {DATASET: [
    Reference(method=PAYLOAD_METHOD, metric="accuracy", value=0.999, protocol="10-fold cross-validation",
              source=PAYLOAD_SOURCE, matches_split=False, note=PAYLOAD_NOTE),
    Reference(method="1-NN, Euclidean distance", metric="accuracy", value=0.55, protocol="the same split",
              source="Archive 2019", matches_split=True),
    Reference(method="Macro baseline", metric="f1_macro", value=0.6, protocol="the same split",
              source="Archive 2019", matches_split=True),
    Reference(method="Balanced", metric="balanced_accuracy", value=0.7, protocol="the same split",
              source="Archive 2019", matches_split=True),
]}


def referenced(random_state: int = 0):
    """The cited dataset: tiny_classify's data under another name."""
    return tiny_classify(length=4, random_state=random_state)


@functools.lru_cache(maxsize=None)
def _run(root: Path) -> Path:
    from seqbench.bench import run_suite

    (root / "published.toml").write_text(SUITE)
    summary = run_suite(root / "published.toml", out=root / "run", executor="serial", progress=False, threads=1,
                        stream=open(root / "run.log", "w"))
    write_report(summary.store, root / "report", references=REFERENCES)
    return summary.store


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("published")
    _run(root)
    return root


def _means(store: Path, dataset: str) -> dict:
    """{model: mean accuracy over seeds} from the store's rows."""
    per: dict = {}
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        for model, seed, metrics in conn.execute(
                "SELECT model_label, seed, metrics FROM jobs WHERE dataset_label = ? AND status = 'ok'", (dataset,)):
            per.setdefault(model, []).append(json.loads(metrics)["accuracy"])
    return {m: statistics.fmean(v) for m, v in per.items()}


def _board_rows(page: str, dataset: str) -> list:
    """The rows of one leaderboard as [(cell text, cell class), ...], header first."""
    start = page.index(f"<caption>{dataset}: ")
    table = page[start:page.index("</table>", start)]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = re.findall(r'<t[dh](?: class="([^"]*)")?(?: title="[^"]*")?>(.*?)</t[dh]>', row, flags=re.S)
        rows.append([(html.unescape(re.sub(r"<[^>]+>", " ", text)).split("  ")[0].strip(), cls) for cls, text in cells])
    return rows


def test_published_rows_are_shown_apart_and_never_starred(report):
    page = (report / "report" / "index.html").read_text(encoding="utf-8")
    header, *rows = _board_rows(page, "cited")
    column = [h for h, _ in header].index("accuracy ↑ (main)")
    published = [r for r in rows if r[0][0].startswith("published: ")]
    ours = [r for r in rows if not r[0][0].startswith("published: ")]
    # the two accuracy references, best first, after every seqbench row; f1 under its own column
    assert [r[0][0] for r in published] == [f"published: {PAYLOAD_METHOD}", "published: 1-NN, Euclidean distance",
                                            "published: Macro baseline"]
    assert rows.index(published[0]) == len(ours)
    assert [r[column][0] for r in published] == ["0.999", "0.550", "—"]
    assert all("published" in cls and "best" not in cls for r in published for _, cls in r)
    # the star stays on seqbench's best (ties share it) although the payload's 0.999 is higher
    means = _means(_run(report), "cited")
    starred = {r[0][0] for r in ours if "best" in r[column][1]}
    assert starred == {m for m, v in means.items() if v == max(means.values())} and max(means.values()) < 0.999
    # the protocol difference is said in the row
    assert "10-fold cross-validation: not this split, indicative only" in html.unescape(page)
    assert "same train/test split as this table" in html.unescape(page)
    # the other datasets have no references and no published rows
    assert not any(r[0][0].startswith("published") for r in _board_rows(page, "plain")[1:])


def test_card_text_is_escaped_in_html_and_markdown(report):
    page = (report / "report" / "index.html").read_text(encoding="utf-8")
    for raw in ("<script>alert('published')", "<img src=x", "<b>bold"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#x27;published&#x27;)&lt;/script&gt;" in page
    assert 'title="10-fold cross-validation &lt;b&gt;bold&lt;/b&gt; claim"' in page
    md = (report / "report" / "summary.md").read_text(encoding="utf-8")
    # every "<" of the card's text is backslash-escaped, and so are "*", "|" and "["
    assert not re.search(r"(?<!\\)<(script|img|b>)", md)
    assert "*1-NN*" not in md and "| [DTW]" not in md
    row = next(line for line in md.splitlines() if "published: " in line and "alert" in line)
    assert row.startswith(r"| *published: \<script\>alert('published')\</script\> \*1-NN\* \| \[DTW\]* (")
    assert r"\<img src=x onerror=alert(3)\> Evil &amp; Sons, 2020" in row
    assert "| *0.999* |" in row and "★" not in row


def test_published_results_stay_out_of_ranks_and_the_friedman_test(report):
    store = _run(report)
    with open_report_data(store) as data:
        plain = compare_task(Context(data, references={}), "classify")
        cited = compare_task(Context(data, references=REFERENCES), "classify")
    assert list(cited.ranks.columns) == list(plain.ranks.columns) == ["Means", "Noisy", "Weak"]
    assert cited.ranks.equals(plain.ranks) and cited.friedman == plain.friedman
    assert cited.friedman is not None  # three datasets and three models: the test is drawn
    page = html.unescape((report / "report" / "index.html").read_text(encoding="utf-8"))
    rank_table = page[page.index("Rank of each model"):page.index("Nemenyi")]
    assert "published" not in rank_table and "1-NN" not in rank_table


def test_overview_says_how_far_seqbench_is_from_the_best_published(report):
    means = _means(_run(report), "cited")
    top = max(means.values())
    best_model = min(m for m, v in means.items() if v == top)  # ties go to the first name, as in the overview
    md = (report / "report" / "summary.md").read_text(encoding="utf-8")
    table = md[md.index("*seqbench against the literature"):md.index("## Leaderboards")]
    lines = [line for line in table.splitlines() if line.startswith("| cited")]
    assert len(lines) == 1 and "| plain" not in table and "| long" not in table
    gap, gap_same = 0.999 - means[best_model], means[best_model] - 0.55
    assert f"({best_model})" in lines[0]
    assert f"{gap:.3f} behind it" in lines[0]
    assert f"best on this split: 0.550 (1-NN, Euclidean distance); {gap_same:.3f} ahead of it" in lines[0]
    assert "| differs (10-fold cross-validation: not this split, indicative only) |" in lines[0]


def test_references_in_other_metrics_are_mentioned_not_shown(report):
    md = (report / "report" / "summary.md").read_text(encoding="utf-8")
    assert "The card also lists 1 published result in balanced\\_accuracy, which this table does not report" in md
    assert "published: Balanced" not in md


def _job(dataset: str, model: str, seed: int, accuracy: float) -> dict:
    return {"task": "classify", "dataset": dataset, "dataset_label": "GunPoint", "dataset_options": {},
            "model_label": model, "family": "baseline", "status": "ok", "seed": seed, "fold": 0,
            "metrics": {"accuracy": accuracy}}


def test_references_come_from_the_dataset_card_by_default():
    """Without a mapping the report reads the card of the job's dataset name."""
    metrics = {"classify": {"main": "accuracy", "greater_is_better": {"accuracy": True}}}
    jobs = [_job("gunpoint", "M", s, a) for s, a in ((0, 0.9), (1, 0.92))]
    data = ReportData(Path("none"), jobs, {}, metrics, None, [], {})
    table = leaderboard_table(Context(data), "classify", "GunPoint")
    cited = [r for r in table.rows if r[0].text.startswith("published: ")]
    expected = [r for r in get_card("gunpoint").references if r.metric == "accuracy"]
    assert len(cited) == len(expected) > 0
    assert sorted(float(r[3].text) for r in cited) == sorted(round(r.value, 3) for r in expected)
    # a dataset the suite loaded with options is not the card's split: flagged, whatever the reference says
    altered = [{**j, "dataset_options": {"n_train": 10}} for j in jobs]
    rows = leaderboard_table(Context(ReportData(Path("none"), altered, {}, metrics, None, [], {})),
                             "classify", "GunPoint").rows
    assert all("not the card's split" in r[0].sub for r in rows if r[0].text.startswith("published: "))


def test_summary_records_the_suite_fingerprint_and_the_commit(report):
    """The line the staleness test (test_reports_fresh.py) reads."""
    md = (report / "report" / "summary.md").read_text(encoding="utf-8")
    assert _FINGERPRINT.findall(md) == [suite_fingerprint(SUITE)]
    line = next(x for x in md.splitlines() if x.startswith("- **suite fingerprint**"))
    source = source_commit()  # this process runs the same source as the run did
    if source is None:
        assert line.endswith("commit not recorded (not run from a git checkout, or by a seqbench that did not "
                             "record it)")
    else:
        assert f", commit {source['commit']}" in line


def test_a_dataset_cited_only_in_another_metric_gets_its_own_overview_table():
    """The Penn Treebank's card cites perplexities while language models are
    ranked by bits per symbol: the overview compares it in perplexity, in a
    second table, rather than leaving it out."""
    from seqbench.report._published import published_tables

    metrics = {"classify": {"main": "accuracy", "greater_is_better": {"accuracy": True, "f1_macro": True}}}
    jobs = [{**_job(name, "M", s, a), "dataset_label": name, "metrics": {"accuracy": a, "f1_macro": a - 0.1}}
            for name in ("main-cited", "f1-cited", "uncited") for s, a in ((0, 0.8), (1, 0.9))]
    references = {
        "main-cited": [Reference(method="A", metric="accuracy", value=0.95, protocol="p", source="S, 2020",
                                 matches_split=True)],
        "f1-cited": [Reference(method="B", metric="f1_macro", value=0.70, protocol="p", source="S, 2021",
                               matches_split=True)],
    }
    ctx = Context(ReportData(Path("none"), jobs, {}, metrics, None, [], {}), references=references)
    winners = {d: ctx.groups[("classify", d)][0] for d in ("main-cited", "f1-cited", "uncited")}
    by_main, by_f1 = published_tables(ctx, "classify", winners, "accuracy", True)
    assert [r[0].text for r in by_main.rows] == ["main-cited"] and "by accuracy" in by_main.caption
    assert [r[0].text for r in by_f1.rows] == ["f1-cited"] and "by macro-F1" in by_f1.caption
    assert by_f1.rows[0][1].text == "0.750 ± 0.071" and by_f1.rows[0][3].text == "0.050 ahead of it"
