"""Published results beside seqbench's own: the ``[[reference]]`` entries of
the dataset cards, shown as "published" rows under each leaderboard and
compared with seqbench's best in the overview.

They are never ranked, starred or tested: they are not entries of the store,
and the rank tables, the Friedman and Nemenyi tests, the critical-difference
diagram, the stars and the overview's winners are all built from
``Context.entries`` alone. A reference is comparable with this run only if
it was measured on the card's own split (``matches_split``) and the suite
loaded the dataset as the card describes it (no options); otherwise each row
says how the protocols differ and the comparison is indicative only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..datasets import cards
from ..metrics import metric_label
from ._aggregate import Entry
from ._blocks import Cell, Paragraph, Table
from ._context import Context
from ._format import mean_std, num

__all__ = ["Published", "published_for", "published_rows", "published_note", "published_tables"]

PUBLISHED = "published"  # the Cell state of a published row (styled apart by both writers)


@dataclass(frozen=True)
class Published:
    """The references of one dataset label and how this run loaded the dataset.

    references : the card's ``Reference`` records, every metric.
    options : dataset options the suite set (a non-empty dict means the data
        differ from the card's split, so no reference is comparable).
    """

    references: tuple
    options: dict

    def comparable(self, ref) -> bool:
        return ref.matches_split and not self.options

    def protocol_text(self, ref) -> str:
        """Where the reference stands against this run's split, in words."""
        if self.options:
            return (f"{ref.protocol}; this suite loads the dataset with options {self.options}, not the card's "
                    "split: indicative only")
        if ref.matches_split:
            return "same train/test split as this table"
        return f"{ref.protocol}: not this split, indicative only"

    def with_metric(self, metric: str, greater_is_better: bool) -> list:
        """The references in ``metric``, best first."""
        refs = [r for r in self.references if r.metric == metric]
        return sorted(refs, key=lambda r: -r.value if greater_is_better else r.value)


def _card_references(name: str, task: str) -> tuple:
    card = cards().get(name)  # plug-in datasets (``module:function``) have no card
    return card.references if card is not None and card.task == task else ()


def published_for(ctx: Context, task: str, dataset: str) -> Published | None:
    """The published results for one leaderboard, or None if there are none."""
    jobs = [j for e in ctx.groups.get((task, dataset), []) for j in e.jobs]
    names = {j["dataset"] for j in jobs}
    if len(names) != 1:
        return None
    name = names.pop()
    if ctx.references is None:
        refs = _card_references(name, task)
    else:
        refs = tuple(ctx.references.get(name, ()))
    if not refs:
        return None
    options = next((j.get("dataset_options") for j in jobs if j.get("dataset_options")), None) or {}
    return Published(tuple(refs), dict(options))


def published_rows(pub: Published, metrics: list, greater: dict, n_tail: int) -> list:
    """Leaderboard rows (lists of ``Cell``) of the references in the table's
    ``metrics`` columns: model, family and jobs cells, one cell per metric
    (the value under its own metric, a dash elsewhere) and ``n_tail`` dashes
    for the cost columns. Nothing in them is ranked or starred."""
    rows = []
    for metric in metrics:
        for ref in pub.with_metric(metric, greater[metric]):
            dash = Cell("—", state=PUBLISHED)
            rows.append([
                Cell(f"{PUBLISHED}: {ref.method}", state=PUBLISHED, sub=f"{ref.source}; {pub.protocol_text(ref)}",
                     note=" ".join(t for t in (ref.protocol, ref.note) if t)),
                Cell(PUBLISHED, state=PUBLISHED), Cell("not run here", state=PUBLISHED),
                *[Cell(num(ref.value), state=PUBLISHED) if m == metric else dash for m in metrics],
                *[dash] * n_tail,
            ])
    return rows


def published_note(pub: Published, metrics: list) -> Paragraph:
    """What the published rows are, and which references the table leaves out."""
    shown = [r for r in pub.references if r.metric in metrics]
    other = sorted({r.metric for r in pub.references} - set(metrics))
    text = (f"The {len(shown)} row{'s' if len(shown) != 1 else ''} marked “published” (in italics) "
            f"{'are results' if len(shown) != 1 else 'is a result'} reported in the literature, from the dataset "
            "card: never ranked, never starred, not part of any test. Each says its source and whether its "
            "protocol matches this table's split; where it does not, the comparison is indicative only.")
    if not shown:
        text = "The dataset card lists published results, but none in this table's metrics."
    if other:
        hidden = len(pub.references) - len(shown)
        text += (f" The card also lists {hidden} published result{'s' if hidden != 1 else ''} in "
                 f"{', '.join(metric_label(m) for m in other)}, which this table does not report.")
    return Paragraph(text, kind="note")


def _gap(ours: float, theirs: float, greater: bool) -> str:
    gap = ours - theirs
    if gap == 0:
        return "level with it"
    ahead = gap > 0 if greater else gap < 0
    return f"{num(abs(gap))} {'ahead of' if ahead else 'behind'} it"


def published_tables(ctx: Context, task: str, winners: dict, main: str, greater: bool) -> list:
    """The overview's comparison with the literature, one table per metric:
    each dataset is compared in the main metric where its card cites one, else
    in the first metric its card cites and its winner reports (e.g. perplexity
    where the task's main metric is bits per symbol). ``winners``:
    ``{dataset: Entry or None}``."""
    by_metric: dict = {main: {}}
    for dataset, winner in winners.items():
        pub = published_for(ctx, task, dataset)
        cited = [] if pub is None else [r.metric for r in pub.references]
        metric = main if main in cited else next(
            (m for m in cited if winner is None or m in winner.mean), None)
        if metric is not None:
            by_metric.setdefault(metric, {})[dataset] = (winner, pub)
    return [_published_table(cases, metric, greater if metric == main else ctx.data.greater_is_better(task, metric))
            for metric, cases in by_metric.items() if cases]


def _published_table(cases: dict, main: str, greater: bool) -> Table:
    """Per dataset citing ``main``: seqbench's best (the overview's winner,
    mean over seeds), the best published value, the difference and whether
    the protocols match. ``cases``: ``{dataset: (Entry or None, Published)}``."""
    rows = []
    for dataset, (winner, pub) in cases.items():
        refs = pub.with_metric(main, greater)
        best = refs[0]
        ours = _ours_cell(winner, main)
        same = next((r for r in refs if pub.comparable(r)), None)
        if winner is None:
            gap = Cell("n/a: seqbench has no result here", state="na")
        else:
            extra = "" if same is None or same is best else (
                f"best on this split: {num(same.value)} ({same.method}); "
                f"{_gap(winner.mean[main], same.value, greater)}")
            gap = Cell(_gap(winner.mean[main], best.value, greater), sub=extra)
        protocol = Cell("same split" if pub.comparable(best) else "differs", sub=pub.protocol_text(best),
                        state="" if pub.comparable(best) else "muted")
        rows.append([Cell(dataset), ours, Cell(num(best.value), sub=f"{best.method} ({best.source})"), gap, protocol])
    return Table(["dataset", "seqbench's best", "best published", "difference", "protocol"], rows,
                 numeric=(1, 2),
                 caption=f"seqbench against the literature by {metric_label(main)} "
                         f"({'higher' if greater else 'lower'} is better): the winning contender's mean over "
                         "seeds beside the best published result on the dataset's card; where the protocols "
                         "differ the gap is indicative only")


def _ours_cell(winner: Entry | None, main: str) -> Cell:
    if winner is None:
        return Cell("no result", state="failed")
    return Cell(mean_std(winner.mean[main], winner.std.get(main)), sub=winner.model)
