"""The data contract: every accepted form converts, every bad input is
rejected with a message naming the problem and the offending index."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from seqbench.data import (
    SequenceCollection,
    Tokenizer,
    check_classification_targets,
    check_regression_targets,
    check_sequences,
    MAX_LENGTH_RATIO,
    bucket_bounds,
    length_buckets,
    pad_sequences,
)

# --------------------------------------------------------------- good input


def test_ragged_multivariate_list():
    X = [np.zeros((3, 2)), np.ones((5, 2))]
    coll = check_sequences(X)
    assert coll.kind == "real" and coll.n_features == 2
    np.testing.assert_array_equal(coll.lengths, [3, 5])
    np.testing.assert_array_equal(coll[1], X[1])


def test_two_d_array_is_univariate_sequences():
    X = np.arange(12.0).reshape(3, 4)
    coll = check_sequences(X)
    assert coll.kind == "real" and coll.n_features == 1 and len(coll) == 3
    np.testing.assert_array_equal(coll[2][:, 0], [8, 9, 10, 11])


def test_integer_two_d_array_is_real_unless_symbols_requested():
    X = np.array([[0, 1, 2], [2, 1, 0]])
    assert check_sequences(X).kind == "real"
    coll = check_sequences(X, kind="symbol")
    assert coll.kind == "symbol" and coll[0].dtype == np.int64
    np.testing.assert_array_equal(coll[1], [2, 1, 0])


def test_three_d_array_is_batch_first():
    X = np.random.default_rng(0).normal(size=(4, 6, 3))
    coll = check_sequences(X)
    assert coll.n_features == 3
    np.testing.assert_array_equal(coll[3], X[3])


def test_list_of_integer_arrays_is_symbols():
    coll = check_sequences([np.array([0, 3, 1]), [2, 2]])
    assert coll.kind == "symbol" and [list(s) for s in coll] == [[0, 3, 1], [2, 2]]
    assert coll[0].dtype == np.int64


def test_symbol_ids_are_names_kept_exactly_up_to_the_int64_limit():
    """The contract sizes nothing by the ids (models number the ids they see):
    any id that fits int64 passes unchanged, exactly (no float round trip)."""
    big = [np.array([0, 2**62, 2**63 - 1]), [7, 2**63 - 1]]
    coll = check_sequences(big)
    assert coll.kind == "symbol" and coll[0].tolist() == [0, 2**62, 2**63 - 1] and coll[1].tolist() == [7, 2**63 - 1]
    with pytest.raises(ValueError, match="does not fit int64"):
        check_sequences([np.array([2**63], dtype=np.uint64)])


def test_integral_floats_accepted_as_symbols_when_asked():
    coll = check_sequences([np.array([0.0, 2.0])], kind="symbol")
    np.testing.assert_array_equal(coll[0], [0, 2])


def test_text_only_where_allowed():
    coll = check_sequences(["ab", "c"], allow_text=True)
    assert coll.kind == "text" and list(coll) == ["ab", "c"]


def test_concatenate_is_hmmlearn_form():
    X = [np.zeros((3, 2)), np.ones((5, 2))]
    concat, lengths = check_sequences(X).concatenate()
    assert concat.shape == (8, 2)
    np.testing.assert_array_equal(lengths, [3, 5])
    concat, lengths = check_sequences([np.array([1, 2]), np.array([0])]).concatenate()
    assert concat.shape == (3, 1) and concat.dtype == np.int64


def test_collection_slicing_and_passthrough():
    coll = check_sequences([np.zeros((3, 1)), np.ones((2, 1)), np.ones((4, 1))])
    sub = coll[[0, 2]]
    np.testing.assert_array_equal(sub.lengths, [3, 4])
    assert check_sequences(coll) .sequences == coll.sequences


def test_object_array_of_numbers_is_accepted():
    X = np.random.default_rng(0).uniform(size=(5, 4)).astype(object)
    coll = check_sequences(X)
    assert coll[0].dtype == np.float64


# ---------------------------------------------------------------- bad input
# (X, expected exception, a regex the message must match)
BAD_INPUT = [
    ("nan", [np.zeros((3, 2)), np.array([[1.0, np.nan]])], ValueError, r"sequence 1 contains NaN"),
    ("inf", [np.array([1.0, np.inf, 2.0])], ValueError, r"sequence 0 contains infinity"),
    ("inf_in_2d", np.array([[1.0, 2.0], [np.inf, 0.0]]), ValueError, r"sequence 1 .*inf"),
    ("empty_sequence", [np.zeros((3, 2)), np.zeros((0, 2))], ValueError, r"sequence 1 is empty"),
    ("empty_collection", [], ValueError, r"X is empty"),
    ("empty_array", np.zeros((0, 5)), ValueError, r"X is empty"),
    ("zero_columns", np.zeros((4, 0)), ValueError, r"0 feature\(s\)"),
    ("ragged_features", [np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((4, 3))], ValueError,
     r"ragged feature dimensions: sequence 2 has 3"),
    ("non_numeric", [np.zeros(3), np.array(["a", "b"])], TypeError, r"sequence 1 has non-numeric dtype"),
    ("object_dict", np.array([[1.0, {"a": 1}]], dtype=object), TypeError, r"non-numeric values"),
    ("four_d", np.zeros((2, 3, 4, 5)), ValueError, r"4-D array"),
    ("one_d", np.zeros(5), ValueError, r"1-D array"),
    ("three_d_sequence", [np.zeros((2, 2, 2))], ValueError, r"sequence 0 has 3 dimensions"),
    ("scalar_sequence", [np.zeros(2), 3.0], ValueError, r"sequence 1 is a scalar"),
    ("single_string", "hello", TypeError, r"single string"),
    ("none", None, TypeError, r"X is None"),
    ("strings_not_allowed", ["a b", "c"], TypeError, r"holds strings.*Tokenizer"),
    ("mixed_strings", [np.zeros(3), "abc"], TypeError, r"sequence 1 is a string"),
    ("sparse", scipy.sparse.csr_matrix(np.eye(3)), TypeError, r"sparse"),
    ("complex", np.ones((2, 3), dtype=complex), ValueError, r"Complex data not supported"),
    ("dict", {"a": 1}, TypeError, r"type dict"),
]


@pytest.mark.parametrize("case, X, exc, pattern", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_rejected_with_index(case, X, exc, pattern):
    with pytest.raises(exc, match=pattern):
        check_sequences(X)


SYMBOL_BAD = [
    ("negative", [np.array([0, 1]), np.array([2, -1])], r"sequence 1 holds a negative symbol id \(-1\)"),
    ("not_integer", [np.array([0.0, 1.5])], r"sequence 0 holds non-integer symbol ids \(e.g. 1.5\)"),
    ("two_d_symbols", [np.zeros((3, 2), dtype=int)], r"sequence 0 has shape \(3, 2\)"),
    ("nan_symbols", [np.array([0.0, np.nan])], r"sequence 0 contains NaN"),
]


@pytest.mark.parametrize("case, X, pattern", SYMBOL_BAD, ids=[c[0] for c in SYMBOL_BAD])
def test_bad_symbol_ids(case, X, pattern):
    with pytest.raises(ValueError, match=pattern):
        check_sequences(X, kind="symbol")


def test_wrong_feature_count_at_predict_names_index():
    with pytest.raises(ValueError, match=r"sequence 1 has 3 features per step, but the estimator was fitted with 2"):
        check_sequences([np.zeros((2, 2)), np.zeros((2, 3))], n_features=2)


def test_empty_text_names_index():
    with pytest.raises(ValueError, match=r"sequence 1 is an empty string"):
        check_sequences(["ok", ""], allow_text=True)


def test_labels_of_wrong_length():
    coll = check_sequences(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"y has 3 labels but X has 4 sequences"):
        check_classification_targets(coll, [0, 1, 0])
    with pytest.raises(ValueError, match=r"y has 5 targets but X has 4 sequences"):
        check_regression_targets(coll, np.zeros(5))


def test_single_label_class():
    coll = check_sequences(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"only one class \('a'\)"):
        check_classification_targets(coll, ["a"] * 4)


def test_labels_none_nan_and_continuous():
    coll = check_sequences(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="requires y to be passed"):
        check_classification_targets(coll, None)
    with pytest.raises(ValueError, match=r"NaN or inf at index 2"):
        check_classification_targets(coll, [0.0, 1.0, np.nan])
    with pytest.raises(ValueError, match="Unknown label type"):
        check_classification_targets(coll, [0.1, 0.7, 0.3])
    with pytest.raises(ValueError, match=r"NaN or inf at index 1"):
        check_regression_targets(coll, [0.0, np.inf, 1.0])


# ----------------------------------------------------- hypothesis properties

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def ragged_collections(draw):
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 6))
    return [
        draw(hnp.arrays(np.float64, (draw(st.integers(1, 7)), d), elements=finite)) for _ in range(n)
    ]


@settings(max_examples=60, deadline=None)
@given(ragged_collections())
def test_valid_real_collection_survives_unchanged(X):
    coll = check_sequences(X)
    assert coll.kind == "real" and len(coll) == len(X) and coll.n_features == X[0].shape[1]
    for original, converted in zip(X, coll):
        np.testing.assert_array_equal(converted, original)
    # converting twice changes nothing (the contract is idempotent)
    again = check_sequences(coll)
    for a, b in zip(coll, again):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=5), elements=finite))
def test_valid_3d_array_survives_unchanged(X):
    coll = check_sequences(X)
    np.testing.assert_array_equal(np.stack(coll.sequences), X)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 50), min_size=1, max_size=8), min_size=1, max_size=6))
def test_valid_symbol_collection_survives_unchanged(X):
    coll = check_sequences([np.array(s) for s in X])
    assert coll.kind == "symbol"
    assert [list(s) for s in coll] == X


@settings(max_examples=60, deadline=None)
@given(ragged_collections())
def test_padding_keeps_every_value(X):
    padded, lengths = pad_sequences(X, dtype=np.float64)
    assert padded.shape == (len(X), max(len(s) for s in X), X[0].shape[1])
    for i, s in enumerate(X):
        np.testing.assert_array_equal(padded[i, : lengths[i]], s)
        assert (padded[i, lengths[i]:] == 0).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=60), st.integers(1, 9), st.integers(0, 5))
def test_length_buckets_cover_each_index_once(lengths, batch_size, seed):
    batches = length_buckets(lengths, batch_size, random_state=seed)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert all(len(b) <= batch_size for b in batches)
    # buckets hold neighbours in sorted length order: the spread inside a
    # batch never exceeds the spread of the sorted lengths it was cut from
    lengths = np.asarray(lengths)
    sorted_lengths = np.sort(lengths)
    for b in batches:
        lo, hi = lengths[b].min(), lengths[b].max()
        assert np.count_nonzero((sorted_lengths > lo) & (sorted_lengths < hi)) <= len(b) - 2 or len(b) < 2


def test_length_buckets_mostly_uniform_batches():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 9, size=400)  # 4 distinct lengths
    batches = length_buckets(lengths, 32, random_state=0)
    mixed = sum(len(np.unique(lengths[b])) > 1 for b in batches)
    assert mixed <= 3  # at most one boundary batch between consecutive lengths


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=80), st.integers(1, 9), st.integers(0, 5))
def test_length_buckets_cap_the_ratio_of_longest_to_shortest(lengths, batch_size, seed):
    batches = length_buckets(lengths, batch_size, random_state=seed)
    lengths = np.asarray(lengths)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert all(lengths[b].max() <= MAX_LENGTH_RATIO * lengths[b].min() for b in batches)
    # each segment of lengths within the ratio adds at most one short batch
    n_segments = len(bucket_bounds(np.sort(lengths), len(lengths))) - 1
    assert len(batches) <= -(-len(lengths) // batch_size) + n_segments


def test_extreme_lengths_never_share_a_batch_and_close_lengths_still_do():
    assert sorted(map(len, length_buckets([100_000, 50], 32, random_state=0))) == [1, 1]
    assert [len(b) for b in length_buckets([50, 100], 32, random_state=0)] == [2]  # exactly the ratio: together
    # segments 1-2, 3-6, 7-14 (cut into 2 + 1), 15
    assert bucket_bounds([1, 2, 3, 6, 7, 13, 14, 15], 2).tolist() == [0, 2, 4, 6, 7, 8]
    with pytest.raises(ValueError, match="max_length_ratio must be >= 1, got 0.5"):
        bucket_bounds([1, 2], 2, 0.5)


# ----------------------------------------------------------------- tokenizer


def test_char_tokenizer_round_trip_and_unk():
    tok = Tokenizer(level="char").fit(["hello", "help"])
    assert tok.symbols_[0] == "<unk>"
    ids = tok.transform(["hole", "hz"])
    assert tok.inverse_transform(ids) == ["hole", "h<unk>"]
    assert tok.n_symbols_ == len(set("hellohelp")) + 1


def test_word_tokenizer_counts_and_limits():
    texts = ["the cat sat.", "The dog sat!", "the end"]
    tok = Tokenizer(level="word", lowercase=True, min_count=2).fit(texts)
    assert tok.symbols_[:3] == ["<unk>", "the", "sat"]
    np.testing.assert_array_equal(tok.transform(["the fish sat"])[0], [1, 0, 2])
    small = Tokenizer(level="word", lowercase=True, max_vocab=2).fit(texts)
    assert small.symbols_ == ["<unk>", "the"]


def test_tokenized_text_passes_the_contract():
    tok = Tokenizer(level="char").fit(["abc", "cab"])
    coll = check_sequences(tok.transform(["abcd", "b"]))
    assert coll.kind == "symbol" and coll[0][3] == 0  # "d" is <unk>, id 0


def test_tokenizer_errors():
    with pytest.raises(ValueError, match="level must be"):
        Tokenizer(level="byte").fit(["a"])
    with pytest.raises(TypeError, match="single string"):
        Tokenizer().fit("abc")
    with pytest.raises(TypeError, match="item 1 is int"):
        Tokenizer().fit(["a", 3])
    assert isinstance(check_sequences([np.zeros(2)]), SequenceCollection)
