"""Forecast metrics against hand-computed values, and rolling-origin evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sklearn.linear_model import Ridge

from seqbench.metrics import interval_coverage, mae, mase, naive_scale, rmse, rolling_origin, smape
from seqbench.models.baseline._forecaster import NaiveForecaster

Y_TRUE = np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 10.0]])  # 2 univariate series, horizon 3
Y_PRED = np.array([[2.0, 2.0, 1.0], [10.0, 13.0, 6.0]])  # errors 1,0,2 and 0,3,4


def test_mae_rmse_by_hand():
    assert mae(Y_TRUE, Y_PRED) == pytest.approx(10 / 6)
    assert rmse(Y_TRUE, Y_PRED) == pytest.approx(np.sqrt((1 + 0 + 4 + 0 + 9 + 16) / 6))
    # every accepted shape gives the same answer
    assert mae(Y_TRUE[..., None], Y_PRED[..., None]) == mae(Y_TRUE, Y_PRED)
    assert mae(Y_TRUE[0], Y_PRED[0]) == pytest.approx(1.0)


def test_smape_by_hand_and_zero_convention():
    # 200 * mean(|e| / (|y| + |yhat|))
    expected = 200 * np.mean([1 / 3, 0, 2 / 4, 0, 3 / 23, 4 / 16])
    assert smape(Y_TRUE, Y_PRED) == pytest.approx(expected)
    assert smape([0.0, 1.0], [0.0, 1.0]) == 0.0  # 0/0 counts as 0
    assert smape([1.0], [-1.0]) == pytest.approx(200.0)  # the upper bound


def test_mase_scales_each_series_by_its_own_naive_error():
    hist = [np.array([0.0, 1.0, 3.0]), np.array([0.0, 10.0, 0.0, 10.0])]
    # naive (m=1) in-sample MAE: series 0 (1 + 2)/2 = 1.5; series 1: 10
    per_series = [np.mean([1, 0, 2]) / 1.5, np.mean([0, 3, 4]) / 10]
    assert mase(Y_TRUE, Y_PRED, y_train=hist) == pytest.approx(np.mean(per_series))
    # seasonal scaling with m=2: series 1's history is 2-periodic, series 0 has |3-0| = 3
    with pytest.raises(ValueError, match=r"series 1, feature 0 has zero in-sample naive error"):
        mase(Y_TRUE, Y_PRED, y_train=hist, season=2)
    np.testing.assert_allclose(naive_scale(np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])), [2.0, 1.5])


def test_mase_bad_input():
    with pytest.raises(ValueError, match="y_train holds 1 series but y_true holds 2"):
        mase(Y_TRUE, Y_PRED, y_train=[np.arange(5.0)])
    with pytest.raises(ValueError, match=r"series 0: a history of 2 steps .* season 2"):
        mase(Y_TRUE[:1], Y_PRED[:1], y_train=[np.array([1.0, 2.0])], season=2)
    with pytest.raises(ValueError, match="season must be an integer >= 1"):
        mase(Y_TRUE, Y_PRED, y_train=[np.arange(5.0)] * 2, season=0)
    with pytest.raises(ValueError, match="y_true has shape .* but y_pred has shape"):
        mae(Y_TRUE, Y_PRED[:, :2])
    with pytest.raises(ValueError, match="NaN or inf"):
        rmse([1.0, np.nan], [1.0, 2.0])


def test_interval_coverage():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert interval_coverage(y, y - 1, y + 1) == 1.0
    assert interval_coverage(y, [0.0, 2.0, 3.5, 5.0], [1.0, 3.0, 4.0, 6.0]) == 0.5  # bounds count as inside
    with pytest.raises(ValueError, match="lower is above upper"):
        interval_coverage(y, y + 1, y - 1)


def test_rolling_origin_expanding_window_on_a_known_series():
    # a line: the drift forecast is exact at every origin, the last-value one is off by h
    series = 2.0 * np.arange(40) + 1.0
    df = rolling_origin(NaiveForecaster("drift"), series, horizon=3, n_origins=4, step=5)
    assert isinstance(df, pd.DataFrame)
    assert list(df["origin"]) == [22, 27, 32, 37]  # last origin leaves exactly `horizon` steps
    assert (df["n_train"] == df["origin"]).all()  # the window starts at the first step
    np.testing.assert_allclose(df[["mae", "rmse", "mase", "smape"]].to_numpy(), 0.0, atol=1e-12)
    last = rolling_origin(NaiveForecaster("last"), series, horizon=3, n_origins=4, step=5, coverage=0.9)
    np.testing.assert_allclose(last["mae"], 2.0 * np.mean([1, 2, 3]))
    np.testing.assert_allclose(last["mase"], 2.0)  # errors 2,4,6 over an in-sample naive error of 2
    assert set(last.columns) >= {"coverage", "fit_seconds", "predict_seconds"}


def test_rolling_origin_without_refit_fits_once():
    series = np.sin(np.arange(60) / 3.0)
    df = rolling_origin(NaiveForecaster("seasonal", season=5), series, 4, 3, refit=False)
    assert (df["fit_seconds"].iloc[1:] == 0.0).all()
    refit = rolling_origin(NaiveForecaster("seasonal", season=5), series, 4, 3, refit=True)
    np.testing.assert_allclose(df["mae"], refit["mae"])  # naive forecasts do not depend on the fit


def test_rolling_origin_bad_input():
    with pytest.raises(ValueError, match="too short for 10 origins"):
        rolling_origin(NaiveForecaster(), np.arange(12.0), horizon=3, n_origins=10)
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        rolling_origin(NaiveForecaster(), np.arange(12.0), horizon=0, n_origins=2)
    with pytest.raises(TypeError, match="no horizon parameter"):
        rolling_origin(Ridge(), np.arange(12.0), horizon=1, n_origins=2)


def test_tagging_sentence_accuracy_counts_sentences_tagged_entirely_right():
    """Three sentences (3, 1 and 2 tags long); one wrong tag in the first and
    none elsewhere: token accuracy 5/6, sentence accuracy 2/3."""
    from seqbench.metrics import TASK_METRICS

    tag = {m.name: m.function for m in TASK_METRICS["tag"]}
    y_true = np.array([1, 2, 3, 4, 5, 6])
    y_pred = np.array([1, 0, 3, 4, 5, 6])
    lengths = np.array([3, 1, 2])
    assert tag["accuracy"](y_true=y_true, y_pred=y_pred) == pytest.approx(5 / 6)
    assert tag["sentence_accuracy"](y_true=y_true, y_pred=y_pred, lengths=lengths) == pytest.approx(2 / 3)
    # the wrong tag in the last sentence instead: still one sentence of three lost
    y_pred = np.array([1, 2, 3, 4, 5, 0])
    assert tag["sentence_accuracy"](y_true=y_true, y_pred=y_pred, lengths=lengths) == pytest.approx(2 / 3)
    assert tag["sentence_accuracy"](y_true=y_true, y_pred=y_true, lengths=lengths) == 1.0
