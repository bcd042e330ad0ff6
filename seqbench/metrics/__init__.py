"""Task metrics. Forecasting: MAE, RMSE, MASE, sMAPE, interval coverage, and
rolling-origin evaluation of a forecaster (``rolling_origin``)."""

from ._forecast import interval_coverage, mae, mase, naive_scale, rmse, smape
from ._rolling import rolling_origin

__all__ = ["mae", "rmse", "mase", "smape", "interval_coverage", "naive_scale", "rolling_origin"]
