"""Task metrics and the benchmark's shared vocabulary.

- every task's metrics as :class:`Metric` records (name, label, direction,
  function) in :data:`TASK_METRICS`, the tasks (:data:`TASKS`) and the model
  families (the :class:`Family` table :data:`FAMILIES`);
- forecasting: MAE, RMSE, MASE, sMAPE, interval coverage, and rolling-origin
  evaluation of a forecaster (``rolling_origin``, ``cut_at_origin``).
"""

from ._forecast import interval_coverage, mae, mase, mase_per_series, naive_scale, rmse, smape, smape_per_series
from ._rolling import cut_at_origin, origin_positions, rolling_origin
from ._tasks import (
    FAMILIES,
    TASK_METRICS,
    TASKS,
    Family,
    Metric,
    family,
    family_label,
    family_names,
    main_metric,
    metric_directions,
    metric_label,
    task_label,
)

__all__ = [
    "mae",
    "rmse",
    "mase",
    "smape",
    "mase_per_series",
    "smape_per_series",
    "interval_coverage",
    "naive_scale",
    "rolling_origin",
    "origin_positions",
    "cut_at_origin",
    "Family",
    "FAMILIES",
    "family",
    "family_label",
    "family_names",
    "TASKS",
    "task_label",
    "Metric",
    "TASK_METRICS",
    "main_metric",
    "metric_label",
    "metric_directions",
]
