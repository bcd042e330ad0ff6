"""``write_report``: build the sections from a store and write index.html,
summary.md and results.csv, all or nothing.

The three files are written into a temporary folder beside the output
folder (same file system). A new output folder is then that temporary
folder renamed into place, one atomic step. An existing one (it usually
holds results.sqlite too, so it cannot be swapped whole) gets each file by
``os.replace``, which is atomic per file, after all three are complete: a
crash while the report is built or written leaves the previous report (or
none) untouched and no half-written file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from . import _sections
from ._blocks import Code, Paragraph, Section
from ._context import Context
from ._csv import results_frame, spreadsheet_safe
from ._html import render_html
from ._load import open_report_data
from ._markdown import render_markdown

__all__ = ["write_report", "build_report", "Report", "REPORT_FILES"]

REPORT_FILES = ("results.csv", "summary.md", "index.html")  # written in this order, index.html last


@dataclass
class Report:
    """A built report, ready for the writers."""

    title: str
    subtitle: str
    sections: list
    footer: str
    csv: object  # pandas DataFrame
    problems: list = field(default_factory=list)  # sections that could not be built: "name: error"


def _safe_build(builder, ctx: Context, problems: list) -> Section | None:
    """Run one builder; a bug in one section must not cost the whole report."""
    try:
        return builder(ctx)
    except Exception as exc:  # noqa: BLE001 - reported in the page and returned in Report.problems
        name = getattr(builder, "__name__", repr(builder))
        problems.append(f"{name}: {type(exc).__name__}: {exc}")
        return Section(f"problem-{len(problems)}", f"{name.replace('_', ' ')} (could not be drawn)", [
            Paragraph(f"This section failed to build: {type(exc).__name__}: {exc}. The rest of the report is "
                      "unaffected; please report this with the traceback below.", kind="warning"),
            Code(traceback.format_exc(), summary="traceback"),
        ])


def build_report(store_path, *, sections=None, alpha: float = 0.05, references=None) -> Report:
    """Read ``store_path`` and build every section (no files written).

    ``references``: the published results shown beside the leaderboards,
    ``{dataset name: [seqbench.datasets.Reference, ...]}``; None (default)
    takes them from the dataset cards."""
    builders = _sections.SECTION_BUILDERS if sections is None else sections
    with open_report_data(store_path) as data:
        ctx = Context(data, alpha=alpha, references=references)
        problems: list = []
        built = [s for s in (_safe_build(b, ctx, problems) for b in builders) if s is not None]
        run = data.run or {}
        jobs = [j for j in data.jobs if j["status"] != "n/a"]
        metric_names = list(dict.fromkeys(m for t in data.tasks for m in data.metric_names(t)))
        csv = results_frame(data.jobs, metric_names)
    title = f"seqbench report: {run.get('suite', Path(store_path).stem)}"
    subtitle = (f"run {run.get('run_id', '?')} ({run.get('status', '?')}), {len(jobs)} jobs, "
                f"{run.get('started_at') or '?'} to {run.get('finished_at') or '?'}")
    footer = (f"Written by seqbench {__version__} on {time.strftime('%Y-%m-%d %H:%M:%S %z')} from "
              f"{Path(store_path)}. Every number and plot comes from that results store; nothing was refitted.")
    return Report(title, subtitle, built, footer, csv, problems)


def _write_files(report: Report, folder: Path) -> None:
    spreadsheet_safe(report.csv).to_csv(folder / "results.csv", index=False)
    args = (report.title, report.subtitle, report.sections, report.footer)
    (folder / "summary.md").write_text(render_markdown(*args), encoding="utf-8")
    (folder / "index.html").write_text(render_html(*args), encoding="utf-8")


def _publish(tmp: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(tmp, out_dir)
        return
    if not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir} exists and is not a folder; choose another output folder")
    for name in REPORT_FILES:
        os.replace(tmp / name, out_dir / name)


def write_report(store_path, out_dir=None, *, sections=None, alpha: float = 0.05, references=None) -> Path:
    """Write ``index.html``, ``summary.md`` and ``results.csv`` for the store
    at ``store_path`` into ``out_dir`` (default: the store's folder), all or
    nothing (see the module docstring). Returns the path of index.html.

    ``sections``: the section builders (default ``SECTION_BUILDERS``);
    ``references``: as for :func:`build_report` (default: the dataset cards').
    Raises ``StoreError`` for a missing or foreign store, ``OSError`` when
    the folder cannot be written.
    """
    store_path = Path(store_path)
    out_dir = Path(out_dir) if out_dir is not None else store_path.parent
    report = build_report(store_path, sections=sections, alpha=alpha, references=references)
    for problem in report.problems:
        warnings.warn(f"seqbench report: a section could not be drawn: {problem}", RuntimeWarning, stacklevel=2)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.report-", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would become the new folder's mode
    try:
        _write_files(report, tmp)
        _publish(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / "index.html"
