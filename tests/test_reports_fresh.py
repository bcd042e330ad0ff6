"""The reference reports committed under reports/ are fresh.

Each report's summary.md records the content fingerprint of the suite its
run stored ("suite fingerprint: <sha256>, commit <sha>"; see
``seqbench.results.suite_fingerprint``). For every shipped suite with a
committed report folder, that fingerprint must equal the shipped suite
file's: a report made from an older version of its suite fails here, with
the command that regenerates it. The standard and quick reports must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

from seqbench.bench import shipped_suites
from seqbench.results import suite_fingerprint

REPORTS = Path(__file__).resolve().parent.parent / "reports"
REQUIRED = ("standard", "quick")  # the reference reports the repository ships
# the run section's line, as the Markdown writer renders it: "- **suite fingerprint**: <hex>, commit ..."
_FINGERPRINT = re.compile(r"^- \*\*suite fingerprint\*\*: ([0-9a-f]{64}),", re.M)


def _regenerate(name: str) -> str:
    return (f"regenerate it with `seqbench run --suite {name} --out reports/{name}` (it resumes from "
            f"reports/{name}/results.sqlite where that exists and writes the report when the run ends), then commit "
            f"reports/{name}/summary.md, results.csv and index.html")


def _problem(reports: Path, name: str, suite: Path) -> str | None:
    """Why ``reports/<name>`` does not match the suite file ``suite``, or None."""
    summary = (reports / name / "summary.md").read_text(encoding="utf-8")
    title = summary.splitlines()[0] if summary else ""
    if title != f"# seqbench report: {name}":
        return f"reports/{name}/summary.md is not a report of the suite {name!r} (its title is {title!r}); " \
               + _regenerate(name)
    found = _FINGERPRINT.findall(summary)
    if len(found) != 1:
        return (f"reports/{name}/summary.md records {len(found)} suite fingerprints, not one (written by a seqbench "
                "that did not record it?); " + _regenerate(name))
    shipped = suite_fingerprint(suite.read_text(encoding="utf-8"))
    if found[0] != shipped:
        return (f"reports/{name} is stale: it was made from another version of the shipped suite {name!r} "
                f"(recorded fingerprint {found[0][:12]}…, shipped {suite.name} {shipped[:12]}…); " + _regenerate(name))
    return None


def test_the_reference_reports_are_committed():
    missing = [f"reports/{name}/summary.md" for name in REQUIRED if not (REPORTS / name / "summary.md").is_file()]
    assert not missing, (f"missing reference report(s): {', '.join(missing)}; write each with "
                         "`seqbench run --suite NAME --out reports/NAME` and commit its summary.md, results.csv "
                         "and index.html")


def test_committed_reports_match_their_shipped_suites():
    suites = shipped_suites()
    checked = [name for name in suites if (REPORTS / name / "summary.md").is_file()]
    problems = [p for p in (_problem(REPORTS, name, Path(str(suites[name]))) for name in checked) if p]
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_stale_report(tmp_path):
    """The comparison itself can fail: a report of an edited suite is stale,
    while a comment-only edit leaves the fingerprint alone."""
    suite = tmp_path / "demo.toml"
    suite.write_text('[suite]\nname = "demo"\nseeds = [0, 1]\n', encoding="utf-8")
    (tmp_path / "demo").mkdir()
    fingerprint = suite_fingerprint(suite.read_text())
    (tmp_path / "demo" / "summary.md").write_text(
        f"# seqbench report: demo\n\n- **suite fingerprint**: {fingerprint}, commit abc\n", encoding="utf-8")
    assert _problem(tmp_path, "demo", suite) is None
    suite.write_text('# a comment\n[suite]\nseeds = [0, 1]   # spacing\nname = "demo"\n', encoding="utf-8")
    assert _problem(tmp_path, "demo", suite) is None
    suite.write_text('[suite]\nname = "demo"\nseeds = [0, 1, 2]\n', encoding="utf-8")
    problem = _problem(tmp_path, "demo", suite)
    assert problem.startswith("reports/demo is stale") and "`seqbench run --suite demo --out reports/demo`" in problem
