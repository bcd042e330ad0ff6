"""Comparison reports from a results store: ``index.html`` (self-contained,
plots embedded), ``summary.md`` (the tables) and ``results.csv`` (one row
per job).

``write_report("reports/quick/results.sqlite")`` (or ``seqbench report
reports/quick/results.sqlite --out DIR``) reads only the store, and the
dataset cards for their published results; nothing is refitted. The report
is a list of sections (``SECTION_BUILDERS``), each a function of the store's
data returning a tree of plain-text blocks that the HTML and Markdown
writers render and escape; plot data and plot drawing are separate
(``_plotdata`` returns data, ``_render`` draws it).

Also the pieces of the long-range section: ``recurrent_dynamics_section``
and ``plot_gradient_flow`` (gradient norm through time, log scale); and
``plot_gates``, heat maps of one sequence's LSTM or GRU gates over time
(from ``seqbench.diagnostics.gate_activations``).

The names below are imported on first use (PEP 562): importing the package
does not load pandas or matplotlib.
"""

from __future__ import annotations

import importlib

__all__ = [
    "write_report",
    "build_report",
    "Report",
    "REPORT_FILES",
    "SECTION_BUILDERS",
    "default_sections",
    "Context",
    "Section",
    "Table",
    "Cell",
    "Paragraph",
    "Figure",
    "Code",
    "KeyValues",
    "ShadedText",
    "recurrent_dynamics_section",
    "plot_gradient_flow",
    "plot_gates",
]

_WHERE = {
    "write_report": "._write", "build_report": "._write", "Report": "._write", "REPORT_FILES": "._write",
    "SECTION_BUILDERS": "._sections", "default_sections": "._sections", "Context": "._context",
    "Section": "._blocks", "Table": "._blocks", "Cell": "._blocks", "Paragraph": "._blocks", "Figure": "._blocks",
    "Code": "._blocks", "KeyValues": "._blocks", "ShadedText": "._blocks",
    "recurrent_dynamics_section": "._long_range", "plot_gradient_flow": "._gradient_plot",
    "plot_gates": "._gate_plot",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
