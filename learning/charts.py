"""Server-side SVG charts (pygal) for the learning reports.

The house style and the accessibility treatment (no script, <title> and <desc>, one
image) come from ``cms.charts``; this module only chooses the data and the labels.
"""

import pygal
from django.utils.translation import gettext as _

from cms import charts, numbers

STYLE = charts.style()


def completion_rate_chart(rows, *, title, standalone=False):
    """A horizontal bar per org unit: completion rate (%) of its current enrolments.

    ``rows`` come from ``learning.selectors.completion_by_unit``. Returns the SVG markup
    (with an XML declaration when ``standalone``, for an image/svg+xml response).
    """
    labels, values, parts = [], [], []
    for row in rows:
        name = row["unit"].name
        rate = row["percent"]  # the table's figure, rounded the same way
        labels.append(name)
        values.append(rate)
        parts.append(
            _("%(unit)s : %(rate)s") % {"unit": name, "rate": numbers.percent(rate)}
            if rate is not None
            else _("%(unit)s : aucune inscription") % {"unit": name}
        )
    chart = charts.chart(
        pygal.HorizontalBar,
        title=title,
        standalone=standalone,
        style=STYLE,
        show_legend=False,
        range=(0, 100),
        include_x_axis=True,
        print_values=True,
        width=900,
        height=max(240, 110 + 42 * len(rows)),
        truncate_label=48,
        y_labels=[0, 25, 50, 75, 100],  # the value axis of a horizontal bar: five labels that never overlap
        no_data_text=_("Aucune donnée"),
        value_formatter=numbers.percent,
    )
    # pygal draws the first series value at the bottom: reverse to read top-down like the table.
    chart.x_labels = list(reversed(labels))
    chart.add(_("Taux de complétion"), list(reversed(values)))
    description = _("Taux de complétion par unité. %(values)s.") % {"values": " ; ".join(parts)} if parts else ""
    return charts.render(chart, title, description, values_after_bars=True)
