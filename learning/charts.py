"""Server-side SVG charts (pygal) for the learning reports.

No JavaScript: pygal's inline config script is removed (the site's CSP forbids inline
scripts), so the chart renders the same in a page, as an image and in a PDF. Every chart
carries a <title> and a <desc> and is announced as one image; the pages also give the
data as a table.
"""

import pygal
from django.utils.translation import gettext as _
from pygal.style import Style

STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1e1e1e",
    foreground_strong="#1e1e1e",
    foreground_subtle="#595959",
    opacity="1",
    opacity_hover="1",
    colors=("#1f4e8c",),
    font_family="Marianne, Arial, Helvetica, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=14,
    title_font_size=18,
    transition="0ms",
)


def _tag(element):
    """Local name of an element (comments and processing instructions have none)."""
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def _accessible(title, description):
    """An xml filter: no script, <title> and <desc> first, role="img" labelled by them."""

    def apply(root):
        for parent in list(root.iter()):
            for child in list(parent):
                if _tag(child) == "script":
                    parent.remove(child)
        for child in list(root):  # pygal's own <title> comes after <defs>: rebuild it first
            if _tag(child) == "title":
                root.remove(child)
        chart_id = root.get("id") or "chart"
        title_el = root.makeelement("title", {"id": f"{chart_id}-title"})
        title_el.text = title
        desc_el = root.makeelement("desc", {"id": f"{chart_id}-desc"})
        desc_el.text = description
        root.insert(0, desc_el)
        root.insert(0, title_el)
        root.set("role", "img")
        root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
        root.set("focusable", "false")
        return root

    return apply


def completion_rate_chart(rows, *, title, standalone=False):
    """A horizontal bar per org unit: completion rate (%) of its current enrolments.

    ``rows`` come from ``learning.selectors.completion_by_unit``. Returns the SVG markup
    (with an XML declaration when ``standalone``, for an image/svg+xml response).
    """
    labels, values, parts = [], [], []
    for row in rows:
        name = row["unit"].name
        rate = None if row["rate"] is None else round(row["rate"] * 100, 1)
        labels.append(name)
        values.append(rate)
        parts.append(
            _("%(unit)s : %(rate)s %%") % {"unit": name, "rate": f"{rate:.0f}"}
            if rate is not None
            else _("%(unit)s : aucune inscription") % {"unit": name}
        )
    chart = pygal.HorizontalBar(
        style=STYLE,
        js=[],
        disable_xml_declaration=not standalone,
        title=title,
        show_legend=False,
        range=(0, 100),
        include_x_axis=True,
        print_values=True,
        width=800,
        height=max(240, 110 + 42 * len(rows)),
        truncate_label=40,
        no_data_text=_("Aucune donnée"),
        value_formatter=lambda value: f"{value:.0f} %",
    )
    # pygal draws the first series value at the bottom: reverse to read top-down like the table.
    chart.x_labels = list(reversed(labels))
    chart.add(_("Taux de complétion"), list(reversed(values)))
    description = _("Taux de complétion par unité. %(values)s.") % {"values": " ; ".join(parts)} if parts else ""
    chart.add_xml_filter(_accessible(title, description))
    return chart.render(is_unicode=True)
