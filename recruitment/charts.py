"""Server-side SVG chart (pygal) of the recruitment report: the funnel.

The house style and the accessibility treatment (no script, <title> and <desc> giving the
figures in words, one image) come from ``cms.charts``, as for the other apps' charts; this
module only chooses the data and the labels. The report page also gives the data as a table.
"""

import pygal
from django.utils.translation import gettext as _

from cms import charts, numbers

STYLE = charts.style(guide_stroke_color="#d9d9d9", major_guide_stroke_color="#d9d9d9")


def describe(funnel):
    """The figures in words: « Reçue : 120 ; Recevabilité : 90 (75 %) ; … »."""
    parts = []
    for stage in funnel:
        if stage.rate is None or stage is funnel[0]:
            parts.append(_("%(stage)s : %(count)s") % {"stage": stage.label, "count": stage.count})
        else:
            parts.append(
                _("%(stage)s : %(count)s (%(rate)s)")
                % {"stage": stage.label, "count": stage.count, "rate": numbers.ratio_percent(stage.rate)}
            )
    return " ; ".join(parts)


def funnel_chart(funnel, *, title, standalone=False):
    """A horizontal bar per pipeline stage, widest first: how many applications of the period
    reached it. ``funnel`` is ``Report.funnel``. Returns the SVG markup (with an XML
    declaration when ``standalone``, for an image/svg+xml response)."""
    received = funnel[0].count if funnel else 0

    def label(value):
        if value is None:
            return ""
        share = f" ({numbers.percent(value / received * 100)})" if received else ""
        return f"{value:.0f}{share}"

    chart = charts.chart(
        pygal.HorizontalBar,
        title=title,
        standalone=standalone,
        style=STYLE,
        show_legend=False,
        include_x_axis=True,
        print_values=True,
        width=800,
        height=max(260, 110 + 42 * len(funnel)),
        truncate_label=40,
        no_data_text=_("Aucune candidature sur la période"),
        print_values_position="top",
        value_formatter=lambda value: f"{value:.0f}",
        range=(0, max(received, 1)),
        margin_right=110,
    )
    # pygal draws the first value at the bottom: reverse to read top-down like the table.
    chart.x_labels = [str(stage.label) for stage in reversed(funnel)]
    chart.add(_("Candidatures"), [stage.count for stage in reversed(funnel)] if received else [], formatter=label)
    description = _("Entonnoir du recrutement. %(values)s.") % {"values": describe(funnel)}
    return charts.render(chart, title, description, values_after_bars=True)
