"""The HTML writer: one self-contained page (inline CSS, plots as base64
PNG data URIs, no script, no network).

Every text is escaped with ``html.escape`` here and only here; a
Content-Security-Policy forbids scripts and any request other than data:
images, as a second line of defence.
"""

from __future__ import annotations

import base64
import html
import re

from ._blocks import Cell, Code, Figure, KeyValues, Paragraph, Section, ShadedText, Table

__all__ = ["render_html"]

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --fg: #1d2330; --muted: #5b6474; --line: #d9dde4; --accent: #1f5fbf; --bad: #b42318; --bg-alt: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--fg); background: #fff; }
header { background: #14213d; color: #fff; padding: 20px 32px 14px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: #c9d3e6; }
nav { padding: 10px 32px; border-bottom: 1px solid var(--line); background: var(--bg-alt);
      position: sticky; top: 0; z-index: 2; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
nav a { color: var(--accent); text-decoration: none; font-size: 14px; }
nav a:hover { text-decoration: underline; }
main { padding: 8px 32px 48px; max-width: 1500px; }
section { margin-top: 8px; }
h2 { font-size: 22px; margin: 34px 0 6px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 18px; margin: 22px 0 6px; }
h4 { font-size: 15px; margin: 16px 0 4px; color: #333b4a; }
p.intro { color: var(--muted); margin: 4px 0 10px; max-width: 980px; }
p.note { color: var(--muted); font-size: 13.5px; max-width: 980px; }
p.warning { background: #fff6e5; border-left: 4px solid #e8a317; padding: 6px 10px; max-width: 980px; }
.table-wrap { overflow-x: auto; margin: 6px 0 14px; }
table { border-collapse: collapse; font-size: 13px; }
caption { caption-side: top; text-align: left; color: var(--muted); padding: 2px 0 6px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top;
         white-space: nowrap; }
th { background: var(--bg-alt); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { background: #e7f5e9; }
td.best strong { color: #14532d; }
td.failed { color: var(--bad); font-weight: 600; }
td.na, td.muted { color: #98a1b0; }
td.published { font-style: italic; color: #4a3f6b; background: #f6f4fa; }
td.wrap { white-space: normal; min-width: 240px; }
td .sub { color: var(--muted); font-size: 12px; font-weight: normal; }
tbody tr:hover td { background: #eef3fb; }
tbody tr:hover td.best { background: #d4eed8; }
figure { margin: 10px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; max-width: 980px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; font-size: 14px; }
dl.kv dt { font-weight: 600; }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
details { margin: 4px 0; }
summary { cursor: pointer; font-size: 13.5px; }
pre { background: var(--bg-alt); border: 1px solid var(--line); padding: 8px 10px; font-size: 12.5px;
      overflow-x: auto; white-space: pre; }
p.shaded { line-height: 2; max-width: 980px; margin: 6px 0 2px; }
p.shaded span { padding: 1px 2px; border-radius: 3px; }
p.shaded-caption { color: var(--muted); font-size: 13px; margin: 0 0 12px; }
.w0 { background: rgba(232, 163, 23, 0.00); }
.w1 { background: rgba(232, 163, 23, 0.09); }
.w2 { background: rgba(232, 163, 23, 0.19); }
.w3 { background: rgba(232, 163, 23, 0.28); }
.w4 { background: rgba(232, 163, 23, 0.38); }
.w5 { background: rgba(232, 163, 23, 0.47); }
.w6 { background: rgba(232, 163, 23, 0.57); }
.w7 { background: rgba(232, 163, 23, 0.66); }
.w8 { background: rgba(232, 163, 23, 0.76); }
.w9 { background: rgba(232, 163, 23, 0.85); }
footer { color: var(--muted); font-size: 12.5px; padding: 16px 32px; border-top: 1px solid var(--line); }
"""

_e = html.escape


def _id(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", value)


def _cell(cell: Cell, numeric: bool, tag: str = "td") -> str:
    classes = [c for c in ("num" if numeric else "", "best" if cell.best else "", cell.state,
                           "wrap" if len(cell.text) > 60 else "") if c]
    attrs = (f' class="{" ".join(classes)}"' if classes else "") + (f' title="{_e(cell.note)}"' if cell.note else "")
    text = f"<strong>{_e(cell.text)}</strong> ★" if cell.best else _e(cell.text)
    if cell.sub:
        text += f'<br><span class="sub">{_e(cell.sub)}</span>'
    return f"<{tag}{attrs}>{text}</{tag}>"


def _table(t: Table) -> str:
    num_class = ' class="num"'
    head = "".join(f"<th{num_class if i in t.numeric else ''}>{_e(str(c))}</th>" for i, c in enumerate(t.columns))
    body = "\n".join(
        "<tr>" + "".join(_cell(t.cell(r, c), c in t.numeric) for c in range(len(t.rows[r]))) + "</tr>"
        for r in range(len(t.rows))
    )
    caption = f"<caption>{_e(t.caption)}</caption>" if t.caption else ""
    return (f'<div class="table-wrap"><table>{caption}<thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{body}\n</tbody></table></div>")


def _figure(f: Figure) -> str:
    data = base64.b64encode(f.png).decode("ascii")
    size = f' width="{int(f.width)}" height="{int(f.height)}"' if f.width and f.height else ""
    caption = f"<figcaption>{_e(f.caption)}</figcaption>" if f.caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{_e(f.alt)}"{size}>{caption}</figure>'


def _shaded(block: ShadedText) -> str:
    """Each token in a span whose class ``w0``..``w9`` sets its shade; the weight in its title."""
    spans = " ".join(f'<span class="w{level}" title="{float(w):.3f}">{_e(str(token))}</span>'
                     for token, w, level in zip(block.tokens, block.weights, block.levels()))
    caption = f'<p class="shaded-caption">{_e(block.caption)}</p>' if block.caption else ""
    return f'<p class="shaded">{spans}</p>{caption}'


def _block(block, level: int) -> str:
    if isinstance(block, Section):
        return _section(block, level + 1)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Paragraph):
        cls = f' class="{_id(block.kind)}"' if block.kind else ""
        return f"<p{cls}>{_e(block.text)}</p>"
    if isinstance(block, Figure):
        return _figure(block)
    if isinstance(block, Code):
        pre = f"<pre>{_e(block.text)}</pre>"
        return f"<details><summary>{_e(block.summary)}</summary>{pre}</details>" if block.summary else pre
    if isinstance(block, ShadedText):
        return _shaded(block)
    if isinstance(block, KeyValues):
        items = "".join(f"<dt>{_e(str(k))}</dt><dd>{_e(str(v))}</dd>" for k, v in block.items)
        return f'<dl class="kv">{items}</dl>'
    raise TypeError(f"the HTML writer cannot render a {type(block).__name__}; "
                    "use the blocks of seqbench.report._blocks")


def _section(s: Section, level: int) -> str:
    h = min(level, 6)
    parts = [f'<section id="{_id(s.id)}"><h{h}>{_e(s.title)}</h{h}>']
    if s.intro:
        parts.append(f'<p class="intro">{_e(s.intro)}</p>')
    parts += [_block(b, level) for b in s.blocks]
    parts.append("</section>")
    return "\n".join(parts)


def _nav(sections: list) -> str:
    items = "".join(f'<li><a href="#{_id(s.id)}">{_e(s.title)}</a></li>' for s in sections)
    return f"<nav><ul>{items}</ul></nav>"


def render_html(title: str, subtitle: str, sections: list, footer: str) -> str:
    """The whole page for ``sections`` (a list of ``Section``)."""
    body = "\n".join(_section(s, 2) for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1><p>{_e(subtitle)}</p></header>\n{_nav(sections)}\n"
        f"<main>\n{body}\n</main>\n<footer>{_e(footer)}</footer>\n</body>\n</html>\n"
    )
