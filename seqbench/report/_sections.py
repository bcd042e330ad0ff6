"""The report's sections, in order: a list of builders.

A builder is a function ``builder(ctx: Context) -> Section | None`` (None:
nothing to say, the section is left out). To add a section, write its
builder in its own module (as ``_long_range`` does) and
insert it into ``SECTION_BUILDERS`` where it should appear, or pass a list
to ``write_report(..., sections=...)``; the writers need no change.
"""

from __future__ import annotations

from ._comparison import comparison_section
from ._long_range import recurrent_dynamics_section
from ._plots_sections import confusion_section, cost_section, forecasts_section, learning_curves_section, oracle_section
from ._run_sections import environment_section, failed_section, run_section
from ._series import series_section
from ._tables import leaderboards_section, overview_section
from ._tuning_section import tuning_section

__all__ = ["SECTION_BUILDERS", "default_sections"]

SECTION_BUILDERS = [
    run_section,
    overview_section,
    leaderboards_section,
    tuning_section,
    comparison_section,
    series_section,
    cost_section,
    learning_curves_section,
    forecasts_section,
    confusion_section,
    oracle_section,
    recurrent_dynamics_section,
    failed_section,
    environment_section,
]


def default_sections() -> list:
    """A copy of ``SECTION_BUILDERS`` to extend or reorder."""
    return list(SECTION_BUILDERS)
