"""The Markdown writer: the report's tables and text for a code-hosting
site (plots stay in index.html). Text is escaped so that names from suites
and error messages cannot turn into markup or raw HTML."""

from __future__ import annotations

import re

from ._blocks import Cell, Code, Figure, KeyValues, Paragraph, Section, ShadedText, Table

__all__ = ["render_markdown", "md_escape"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """``text`` with Markdown's special characters backslash-escaped,
    ``&`` as an entity and line breaks as spaces (safe inside table cells)."""
    text = str(text).replace("&", "&amp;")
    return _SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def _cell(cell: Cell) -> str:
    text = md_escape(cell.text)
    text = f"**{text}** ★" if cell.best else text
    if cell.state == "published" and text.strip():  # set apart from ranked rows, as the HTML's class does
        text = f"*{text}*"
    return f"{text} ({md_escape(cell.sub)})" if cell.sub else text


def _table(t: Table) -> list[str]:
    lines = [f"*{md_escape(t.caption)}*", ""] if t.caption else []
    lines.append("| " + " | ".join(md_escape(str(c)) for c in t.columns) + " |")
    lines.append("|" + "|".join("---:" if i in t.numeric else "---" for i in range(len(t.columns))) + "|")
    for r in range(len(t.rows)):
        lines.append("| " + " | ".join(_cell(t.cell(r, c)) for c in range(len(t.rows[r]))) + " |")
    return lines + [""]


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _shaded(block: ShadedText) -> list[str]:
    """The sentence with its most weighted words (the top two shades) in bold."""
    words = [f"**{md_escape(t)}**" if level >= 8 else md_escape(t) for t, level in zip(block.tokens, block.levels())]
    return [" ".join(words), ""] + ([f"*{md_escape(block.caption)}*", ""] if block.caption else [])


def _block(block, level: int) -> list[str]:
    if isinstance(block, Section):
        return _section(block, level + 1)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Paragraph):
        text = md_escape(block.text)
        return [f"> {text}" if block.kind == "warning" else (f"*{text}*" if block.kind == "note" else text), ""]
    if isinstance(block, Figure):
        return [f"*(plot: {md_escape(block.alt)}; see index.html)*", ""]
    if isinstance(block, Code):
        fence = _fence(block.text)
        head = [f"{md_escape(block.summary)}:", ""] if block.summary else []
        return head + [fence + "text", block.text, fence, ""]
    if isinstance(block, ShadedText):
        return _shaded(block)
    if isinstance(block, KeyValues):
        return [f"- **{md_escape(k)}**: {md_escape(v)}" for k, v in block.items] + [""]
    raise TypeError(f"the Markdown writer cannot render a {type(block).__name__}")


def _section(s: Section, level: int) -> list[str]:
    lines = ["#" * min(level, 6) + " " + md_escape(s.title), ""]
    if s.intro:
        lines += [md_escape(s.intro), ""]
    for block in s.blocks:
        lines += _block(block, level)
    return lines


def render_markdown(title: str, subtitle: str, sections: list, footer: str) -> str:
    lines = [f"# {md_escape(title)}", "", md_escape(subtitle), "",
             "The plots are in index.html, beside this file; this summary has the tables.", ""]
    for s in sections:
        lines += _section(s, 2)
    lines += ["---", "", md_escape(footer), ""]
    return "\n".join(lines)
