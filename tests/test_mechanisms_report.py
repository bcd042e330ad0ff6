"""The report's view inside the cells: the "Mechanisms" part of the long-range
section (holding gates of LSTM and GRU on the adding problem) and attention
weights on text under a classification leaderboard.

The runner's records are checked on real fitted estimators; then a tiny
suite goes through the runner, the store and the report, and the HTML is
read back: the sections are there, the words are escaped, no script.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest

from seqbench.bench import parse_suite, run_suite
from seqbench.bench._attention_text import attention_text_artefact
from seqbench.bench._gate_traces import add_gate_traces, gate_trace_artefact
from seqbench.datasets import make_adding_problem
from seqbench.models import RNNClassifier, RNNRegressor
from seqbench.models.neural import torch_session
from seqbench.report import Figure, Section, Table, build_report, write_report
from seqbench.report._blocks import ShadedText

from mechanism_helpers import tiny_reviews

CPU = dict(device="cpu", random_state=0)


@pytest.fixture(autouse=True)
def one_torch_thread():
    with torch_session(num_threads=1):
        yield


@pytest.fixture(scope="module")
def adding():
    return make_adding_problem(T=12, n_train=48, n_test=10, random_state=0)


# ----------------------------------------------------------------- the runner's records
@pytest.mark.parametrize("cell, gate", [("lstm", "f"), ("gru", "z")])
def test_gate_trace_record_summarises_the_holding_gate_around_the_markers(adding, cell, gate):
    reg = RNNRegressor(cell, hidden_size=5, max_epochs=2, **CPU).fit(adding.X_train, adding.y_train)
    record = gate_trace_artefact(reg, adding.X_train, adding.y_train, adding.X_test)
    json.dumps(record)  # JSON-ready
    assert record["cell"] == cell and record["gate"] == gate and record["steps"] == 12
    assert record["n_sequences"] == 10 and len(record["examples"]) == 3
    # recompute the trained summary from gate_activations directly
    from seqbench.diagnostics import gate_activations

    before, between = [], []
    for trace, x in zip(gate_activations(reg, adding.X_test), adding.X_test):
        first, second = np.flatnonzero(x[:, 1])
        mean = trace.layers[0][gate].mean(axis=1)
        if first > 0:
            before.append(mean[:first].mean())
        if second > first + 1:
            between.append(mean[first + 1 : second].mean())
    assert record["trained"]["mean_before"] == pytest.approx(np.mean(before), abs=1e-9)
    assert record["trained"]["mean_between"] == pytest.approx(np.mean(between), abs=1e-9)
    aligned = dict(zip(record["trained"]["offsets"], record["trained"]["aligned"]))
    assert 0 in aligned and all(0 < v < 1 for v in aligned.values())
    assert record["untrained"]["aligned"] != record["trained"]["aligned"]  # two networks
    first = record["examples"][0]
    assert len(first["units"]) == 12 and len(first["units"][0]) == 5 and len(first["markers"]) == 2
    assert "units" not in record["examples"][1]  # one example kept whole, the others as means


def test_gate_traces_only_for_gated_cells_on_the_adding_problem(adding):
    rnn = RNNRegressor("rnn", hidden_size=3, max_epochs=1, **CPU).fit(adding.X_train, adding.y_train)
    assert gate_trace_artefact(rnn, adding.X_train, adding.y_train, adding.X_test) is None
    artefacts = {}
    add_gate_traces(rnn, adding, artefacts)
    assert artefacts == {}
    lstm = RNNRegressor("lstm", hidden_size=3, max_epochs=1, **CPU).fit(adding.X_train, adding.y_train)
    add_gate_traces(lstm, adding, artefacts)
    assert set(artefacts) == {"gate_traces"}


def test_attention_record_keeps_words_weights_and_labels():
    data = tiny_reviews()
    clf = RNNClassifier("gru", pooling="attention", hidden_size=6, max_epochs=3, **CPU).fit(data.X_train,
                                                                                             data.y_train)
    record = attention_text_artefact(clf, data.X_test, data.y_test, n_sentences=3)
    json.dumps(record)
    sentences = record["sentences"]
    assert [s["index"] for s in sentences] == [0, 1, 2]
    assert sentences[1]["tokens"] == ["a", "fine", "warm", "film"] and sentences[1]["unknown"] == [False] * 4
    assert sentences[1]["label"] == "positive" and sentences[1]["predicted"] in ("positive", "negative")
    for s in sentences:
        assert len(s["weights"]) == len(s["tokens"]) and sum(s["weights"]) == pytest.approx(1.0, abs=1e-3)
    markup = sentences[0]
    assert markup["tokens"][:4] == ["a", "<", "b", ">"] and markup["unknown"][1:3] == [True, True]
    assert attention_text_artefact(RNNClassifier("gru", hidden_size=3, max_epochs=1, **CPU).fit(
        data.X_train, data.y_train), data.X_test, data.y_test) is None  # no attention pooling: nothing to show


# ----------------------------------------------------------------- through the runner and the report
MECHANISMS_SUITE = """
[suite]
name = "mechanisms"
seeds = [0]

[[datasets]]
name = "adding_problem"
options = { T = 10, n_train = 48, n_test = 12 }
sweep = { T = [10, 20] }

[[models]]
name = "RNNRegressor"
label = "LSTM"
params = { cell = "lstm", hidden_size = 4, max_epochs = 1 }
[[models]]
name = "RNNRegressor"
label = "GRU"
params = { cell = "gru", hidden_size = 4, max_epochs = 1 }
"""

ATTENTION_SUITE = """
[suite]
plugins = ["mechanism_helpers"]
name = "attention"
seeds = [0]

[[datasets]]
name = "mechanism_helpers:tiny_reviews"
label = "reviews"

[[models]]
name = "RNNClassifier"
label = "GRU + attention"
params = { cell = "gru", pooling = "attention", hidden_size = 4, max_epochs = 2 }
[[models]]
name = "RNNClassifier"
label = "GRU, last state"
params = { cell = "gru", hidden_size = 4, max_epochs = 1 }
"""


def _run(tmp_path_factory, text: str, name: str):
    out = tmp_path_factory.mktemp(name)
    run_suite(parse_suite(text, path=f"{name}.toml"), out=out, executor="serial", progress=False,
              stream=io.StringIO())
    return out / "results.sqlite"


@pytest.fixture(scope="module")
def mechanisms_store(tmp_path_factory):
    return _run(tmp_path_factory, MECHANISMS_SUITE, "mechanisms")


@pytest.fixture(scope="module")
def attention_store(tmp_path_factory):
    return _run(tmp_path_factory, ATTENTION_SUITE, "attention")


def _find(sections, id_prefix):
    for s in sections:
        if s.id.startswith(id_prefix):
            return s
        found = _find([b for b in s.blocks if isinstance(b, Section)], id_prefix)
        if found is not None:
            return found
    return None


def test_mechanisms_sit_beside_the_gradient_flow_at_the_length_nearest_100(mechanisms_store):
    report = build_report(mechanisms_store)
    long_range = _find(report.sections, "recurrent-dynamics")
    ids = [b.id for b in long_range.blocks if isinstance(b, Section)]
    assert "mechanisms" in ids and ids.index("mechanisms") > ids.index("gradient-flow-adding-problem")
    mechanisms = _find([long_range], "mechanisms")
    assert "T = 20" in mechanisms.title  # 20 is nearer 100 than 10
    figure, table = mechanisms.blocks
    assert isinstance(figure, Figure) and figure.png.startswith(b"\x89PNG")
    assert isinstance(table, Table)
    rows = {table.cell(r, 0).text: [table.cell(r, c).text for c in range(len(table.columns))]
            for r in range(len(table.rows))}
    assert rows["LSTM"][1] == "forget gate f" and rows["GRU"][1] == "update gate z"
    rise = float(rows["LSTM"][-1])
    assert rise == pytest.approx(float(rows["LSTM"][7]) - float(rows["LSTM"][6]), abs=2e-3)


def test_attention_sentences_are_shaded_and_escaped_under_the_classification_leaderboard(attention_store):
    report = build_report(attention_store)
    leaderboards = _find(report.sections, "leaderboards")
    attention = _find([leaderboards], "attention-classify")
    shaded = [b for b in attention.blocks if isinstance(b, ShadedText)]
    assert len(shaded) == 5 and shaded[1].tokens == ["a", "fine", "warm", "film"]
    assert shaded[0].tokens[1] == "< (unknown)"  # out of vocabulary, read as <unk>
    index = write_report(attention_store)
    html = index.read_text()
    assert "<script" not in html.lower() and "<b>" not in html  # the review's markup shows as text
    assert re.search(r'<span class="w\d" title="[0-9.]+">&lt; \(unknown\)</span>', html)
    spans = re.findall(r'<span class="w(\d)" title="([0-9.]+)">([^<]*)</span>', html)
    assert len(spans) >= sum(len(s.tokens) for s in shaded)
    assert max(int(level) for level, _, _ in spans) == 9  # each sentence's largest weight is the darkest
    markdown = (index.parent / "summary.md").read_text()
    assert "attention on text" in markdown and "\\< (unknown)" in markdown
