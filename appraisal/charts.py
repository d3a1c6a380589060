"""Server-side SVG charts (pygal) for the appraisal HR dashboards.

No JavaScript: pygal's config script is left out and any <script> removed (the site's CSP
forbids inline scripts), so the chart renders the same inline in a page, as an image and in
a PDF. Every chart carries a <title> and a <desc> (the figures in words) and is announced
as one image; the dashboard also gives the data as a table.
"""

import pygal
from django.utils.translation import gettext as _
from pygal.style import Style

from appraisal.choices import AppraisalState as S

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
    return Style(
        background="transparent",
        plot_background="#ffffff",
        foreground="#1e1e1e",
        foreground_strong="#1e1e1e",
        foreground_subtle="#595959",
        opacity="1",
        opacity_hover="1",
        colors=tuple(STATE_COLOURS[state] for state in S.values),
        font_family="Marianne, Arial, Helvetica, sans-serif",
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        value_font_size=12,
        title_font_size=17,
        transition="0ms",
    )


def _tag(element):
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def _accessible(title, description):
    """An xml filter: no script, <title> and <desc> first, role="img" labelled by them."""

    def apply(root):
        for parent in list(root.iter()):
            for child in list(parent):
                if _tag(child) == "script":
                    parent.remove(child)
        for child in list(root):
            if _tag(child) in ("title", "desc"):
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
    chart = pygal.HorizontalStackedBar(
        style=_style(),
        js=[],
        disable_xml_declaration=not standalone,
        title=title,
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
    chart.add_xml_filter(_accessible(title, description))
    return chart.render(is_unicode=True)
