"""The report as a small document tree that every writer renders.

Section builders return ``Section`` objects made of these blocks; the HTML
and Markdown writers are the only code that produces markup, and they
escape every piece of text. Blocks therefore hold plain text only (never
HTML), whatever its origin: suite labels, dataset cards, error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Cell", "Table", "Paragraph", "Figure", "Code", "KeyValues", "ShadedText", "Section", "Block"]


@dataclass
class Cell:
    """A table cell: plain ``text``; ``best`` marks the best value of its
    column; ``state`` is "" or one of "failed", "na", "muted", "published"
    (styling; "published" sets a published result's row apart);
    ``note`` is a longer explanation (a tooltip in HTML); ``sub`` a second,
    smaller line (in parentheses in Markdown)."""

    text: str
    best: bool = False
    state: str = ""
    note: str = ""
    sub: str = ""


@dataclass
class Table:
    """``columns`` (header texts) and ``rows`` of ``Cell`` (or str);
    ``numeric`` names the columns aligned right."""

    columns: list
    rows: list
    caption: str = ""
    numeric: tuple = ()

    def cell(self, row: int, col: int) -> Cell:
        value = self.rows[row][col]
        return value if isinstance(value, Cell) else Cell(str(value))


@dataclass
class Paragraph:
    """Plain text; ``kind`` is "" or "note" (a side remark) or "warning"."""

    text: str
    kind: str = ""


@dataclass
class Figure:
    """A PNG image (bytes) with its alternative text and caption."""

    png: bytes
    alt: str
    caption: str = ""
    width: int = 0  # pixels, from the PNG header
    height: int = 0


@dataclass
class Code:
    """Preformatted text (tracebacks, suite files); ``summary`` folds it
    away under that line in HTML (``<details>``)."""

    text: str
    summary: str = ""


@dataclass
class KeyValues:
    """A definition list: ``[(key, value), ...]``."""

    items: list


@dataclass
class ShadedText:
    """Words shaded by a weight each (attention on a sentence): ``tokens``
    plain strings, ``weights`` numbers >= 0 of the same length (shaded
    relative to the largest); ``caption`` a line under them."""

    tokens: list
    weights: list
    caption: str = ""

    def __post_init__(self):
        if len(self.tokens) != len(self.weights):
            raise ValueError(f"ShadedText has {len(self.tokens)} tokens but {len(self.weights)} weights; pass one "
                             "weight per token")

    def levels(self, n: int = 10) -> list[int]:
        """Each weight as a shade ``0..n-1`` (``n-1`` for the largest weight)."""
        top = max((float(w) for w in self.weights), default=0.0)
        if not top > 0:
            return [0] * len(self.weights)
        return [min(n - 1, max(0, int(float(w) / top * (n - 1) + 0.5))) for w in self.weights]


@dataclass
class Section:
    """A titled part of the report; ``blocks`` may hold nested sections.

    ``id`` is the HTML anchor (letters, digits and dashes only: it is made
    by the builder, never taken from user input).
    """

    id: str
    title: str
    blocks: list = field(default_factory=list)
    intro: str = ""


Block = Cell | Table | Paragraph | Figure | Code | KeyValues | ShadedText | Section
