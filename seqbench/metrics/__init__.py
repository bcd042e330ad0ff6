"""Task metrics. Forecasting: MAE, RMSE, MASE, sMAPE, interval coverage, and
rolling-origin evaluation of a forecaster (``rolling_origin``)."""

from ._forecast import interval_coverage, mae, mase, mase_per_series, naive_scale, rmse, smape, smape_per_series
from ._rolling import rolling_origin

__all__ = [
    "mae", "rmse", "mase", "smape", "mase_per_series", "smape_per_series", "interval_coverage", "naive_scale",
    "rolling_origin",
]  # fmt: skip
