"""Sections about the run itself: its summary, the failed jobs with their
reasons and tracebacks, and the environment it ran in."""

from __future__ import annotations

from collections import Counter
from importlib import metadata

from ..metrics import task_label
from ..results import FAILED_STATUSES, suite_fingerprint
from ._blocks import Cell, Code, KeyValues, Paragraph, Section, Table
from ._context import Context
from ._format import count, first_line

__all__ = ["run_section", "failed_section", "environment_section", "traceback_excerpt", "fingerprint_text"]

TRACEBACK_HEAD = 10  # first lines of a traceback shown
TRACEBACK_TAIL = 4  # and its last lines, when it is longer
MAX_TRACEBACKS = 50  # distinct (model, status, reason) groups shown with a traceback


def run_section(ctx: Context) -> Section:
    data = ctx.data
    run = data.run or {}
    jobs = [j for j in data.jobs if j["status"] != "n/a"]
    counts = Counter(j["status"] for j in data.jobs)
    status_text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: kv[0] != "ok"))
    items = [
        ("suite", f"{run.get('suite', '?')} ({run.get('suite_path') or 'shipped'})"),
        ("run", f"{run.get('run_id', '?')} of {len(data.runs)} stored; {run.get('status', '?')}"),
        ("jobs", f"{len(jobs)} planned: {status_text or 'none'}"),
        ("tasks", ", ".join(task_label(t) for t in data.tasks)),
        ("datasets", count(len({(j['task'], j['dataset_label']) for j in data.jobs}))),
        ("models", count(len({(j['task'], j['model_label']) for j in data.jobs if j['status'] != 'n/a'}))),
        ("seeds", ", ".join(str(s) for s in sorted({j['seed'] for j in jobs if j.get('seed') is not None}))),
        ("started / finished", f"{run.get('started_at') or '?'} / {run.get('finished_at') or 'not finished'}"),
        ("suite fingerprint", fingerprint_text(run)),
    ]
    blocks = [KeyValues(items)]
    if run.get("status") not in (None, "finished"):
        blocks.insert(0, Paragraph(f"This run's status is “{run.get('status')}”: jobs that had not finished are "
                                   "missing, so the tables below are partial. Run the same command again to resume.",
                                   kind="warning"))
    failed = sum(counts.get(s, 0) for s in FAILED_STATUSES)
    if failed:
        blocks.append(Paragraph(f"{failed} job(s) failed; they are listed under “Failed jobs” with their reasons.",
                                kind="warning"))
    return Section("run", "This run", blocks, intro=(
        "seqbench fits every model family on the same datasets, seeds and splits. Start with “Which family wins "
        "where”, then the leaderboards; “Across datasets” says whether the differences are real."))


def fingerprint_text(run: dict) -> str:
    """``"<suite fingerprint>, commit <sha>"``: the content fingerprint of the
    suite the run stored (``seqbench.results.suite_fingerprint``) and the git
    commit of the seqbench source it ran, as recorded in its environment."""
    try:
        fingerprint = suite_fingerprint(run["suite_text"]) if run.get("suite_text") else None
    except ValueError:  # a stored text that is not TOML cannot be fingerprinted
        fingerprint = None
    source = (run.get("environment") or {}).get("source") or {}
    if source.get("commit"):
        commit = f"commit {source['commit']}" + (" with uncommitted changes" if source.get("dirty") else "")
    else:
        commit = "commit not recorded (not run from a git checkout, or by a seqbench that did not record it)"
    return f"{fingerprint or 'unknown (the store keeps no readable suite text)'}, {commit}"


def traceback_excerpt(text: str | None) -> str:
    """The first ``TRACEBACK_HEAD`` lines of a traceback and, if it is longer,
    a count of the lines left out and its last ``TRACEBACK_TAIL`` lines."""
    lines = (text or "").rstrip().splitlines()
    if len(lines) <= TRACEBACK_HEAD + TRACEBACK_TAIL:
        return "\n".join(lines)
    skipped = len(lines) - TRACEBACK_HEAD - TRACEBACK_TAIL
    return "\n".join(lines[:TRACEBACK_HEAD] + [f"    ... ({skipped} lines left out) ..."] + lines[-TRACEBACK_TAIL:])


def failed_section(ctx: Context) -> Section:
    failed = [j for j in ctx.data.jobs if j["status"] in FAILED_STATUSES]
    if not failed:
        return Section("failed", "Failed jobs", [Paragraph("No job failed.", kind="note")])
    rows = [[Cell(task_label(j["task"])), Cell(j["dataset_label"]), Cell(j["model_label"]),
             Cell(str(j.get("seed"))), Cell(str(j.get("fold"))), Cell(j["status"], state="failed"),
             Cell(first_line(j.get("error"), 300) or "(no reason stored)")] for j in failed]
    blocks = [Table(["task", "dataset", "model", "seed", "fold", "status", "reason"], rows,
                    caption=f"{len(failed)} failed job(s): raised an error (failed), produced NaN or inf "
                            "(diverged), or ran past the time limit (timeout).")]
    groups: dict = {}  # one traceback per model, status and reason
    for j in failed:
        groups.setdefault((j["model_label"], j["status"], first_line(j.get("error"))), []).append(j)
    for (model, status, reason), jobs in list(groups.items())[:MAX_TRACEBACKS]:
        where = ", ".join(f"{j['dataset_label']} seed {j.get('seed')}" + (f" fold {j['fold']}" if j.get("fold") else "")
                          for j in jobs[:6]) + (f" and {len(jobs) - 6} more" if len(jobs) > 6 else "")
        text = traceback_excerpt(jobs[0].get("traceback")) or (jobs[0].get("error") or "(no traceback stored)")
        blocks.append(Code(text, summary=f"{status}: {model}: {first_line(reason, 120)} "
                                         f"({len(jobs)} job{'s' if len(jobs) != 1 else ''}: {where})"))
    if len(groups) > MAX_TRACEBACKS:
        blocks.append(Paragraph(f"{len(groups) - MAX_TRACEBACKS} more distinct failures are left out here; "
                                "results.csv has every job's error and traceback.", kind="note"))
    return Section("failed", "Failed jobs", blocks)


def _report_versions() -> str:
    out = []
    for name in ("matplotlib", "scikit-posthocs"):
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} (not installed)")
    return ", ".join(out)


def environment_section(ctx: Context) -> Section:
    run = ctx.data.run or {}
    env = run.get("environment") or {}
    versions = env.get("versions") or {}
    gpu = env.get("gpu")
    gpu_text = "none" if not gpu else f"{gpu.get('name')} x{gpu.get('count', 1)} (CUDA {gpu.get('cuda')})"
    items = [
        ("seqbench", str(versions.get("seqbench", "?"))),
        ("Python", str(versions.get("python", "?"))),
        ("libraries", ", ".join(f"{k} {v}" for k, v in versions.items() if k not in ("seqbench", "python"))),
        ("report drawn with", _report_versions()),
        ("CPU", f"{env.get('cpu', '?')}; {env.get('cpu_count', '?')} CPUs, {env.get('available_cpus', '?')} available"),
        ("GPU", gpu_text),
        ("executor", f"{run.get('executor', '?')} with {run.get('n_workers', '?')} worker(s), "
                     f"{run.get('threads_per_worker') or 'default'} thread(s) each"),
        ("timeout per job", f"{run['timeout_s']:g} s" if run.get("timeout_s") else "none"),
        ("host / platform", f"{env.get('host', '?')} / {env.get('platform', '?')}"),
        ("suite", f"{run.get('suite', '?')}: {run.get('suite_path') or '(shipped)'}"),
        ("suite sha256", str(run.get("suite_sha256") or "?")),
        ("started", str(run.get("started_at") or "?")),
        ("finished", str(run.get("finished_at") or "not finished")),
        ("command", str(run.get("command") or "?")),
        ("results store", str(ctx.data.path)),
    ]
    job_runs = sorted({j.get("run_id") for j in ctx.data.jobs if j.get("run_id") is not None})
    if len(job_runs) > 1 or (job_runs and job_runs[0] != run.get("run_id")):
        items.append(("jobs computed by runs", ", ".join(str(r) for r in job_runs)))
    blocks = [KeyValues(items)]
    if run.get("suite_text"):
        blocks.append(Code(run["suite_text"], summary="suite file"))
    return Section("environment", "Environment", blocks)
