"""Server-side SVG charts (pygal) for the appraisal HR dashboards.

The house style and the accessibility treatment (no script, <title> and <desc> giving the
figures in words, one image) come from ``cms.charts``; this module only chooses the data,
the labels and one colour per state. The dashboard also gives the data as a table.
"""

import pygal
from django.utils.translation import gettext as _

from appraisal.choices import AppraisalState as S
from cms import charts

# One colour per state, from "not started" (greys) to "done" (green); cancelled in red.
STATE_COLOURS = {
    S.CREATED: "#8a8a8a",
    S.CONVOKED: "#8fb3de",
    S.HELD: "#3a6fb0",
    S.NOTIFIED: "#e0a030",
    S.ACKNOWLEDGED: "#8e63b5",
    S.FINAL: "#2e7d32",
    S.CANCELLED: "#b3261e",
}


def _style():
    return charts.style(
        colors=[STATE_COLOURS[state] for state in S.values],
        font_size=13,
        legend_font_size=13,
        value_font_size=12,
        title_font_size=17,
    )


def describe(rows):
    """The chart's figures in words: « Unité : 3 À convoquer, 2 Visé (définitif) ; … »."""
    parts = []
    for row in rows:
        counts = [f"{row['counts'][state]} {S(state).label}" for state in S.values if row["counts"][state]]
        parts.append(
            _("%(unit)s : %(counts)s") % {"unit": row["unit"].name, "counts": ", ".join(counts) or _("aucun entretien")}
        )
    return " ; ".join(parts)


def progress_chart(rows, *, title, standalone=False):
    """A horizontal stacked bar per org unit: its appraisals by state.

    ``rows`` come from ``appraisal.selectors.unit_progress`` (or ``progress_by_unit``).
    Returns the SVG markup (with an XML declaration when ``standalone``, for an
    image/svg+xml response).
    """
    chart = charts.chart(
        pygal.HorizontalStackedBar,
        title=title,
        standalone=standalone,
        style=_style(),
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        print_values=False,
        width=860,
        height=max(300, 190 + 38 * len(rows)),
        truncate_label=42,
        truncate_legend=30,
        include_x_axis=True,
        no_data_text=_("Aucune donnée"),
        value_formatter=lambda value: f"{value:.0f}",
        min_scale=1,
        max_scale=10,
    )
    # pygal draws the first value at the bottom: reverse to read top-down like the table.
    ordered = list(reversed(rows))
    chart.x_labels = [row["unit"].name for row in ordered]
    for state in S.values:
        chart.add(str(S(state).label), [row["counts"][state] or None for row in ordered])
    description = (_("Entretiens par état et par unité. %(values)s.") % {"values": describe(rows)}) if rows else ""
    return charts.render(chart, title, description)
