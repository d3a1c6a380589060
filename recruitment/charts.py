"""Server-side SVG chart (pygal) of the recruitment report: the funnel.

No JavaScript: pygal's config script is left out and any <script> removed (the site's CSP
forbids inline scripts), so the chart renders the same inline in a page, as an image and
in a PDF. The chart carries a <title> and a <desc> (the figures in words) and is announced
as one image; the report page also gives the data as a table. (The same treatment as
``learning.charts`` and ``appraisal.charts``, whose filter is private to those apps.)
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
    guide_stroke_color="#d9d9d9",
    major_guide_stroke_color="#d9d9d9",
)


def _tag(element):
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def accessible(title, description):
    """An xml filter: no script, <title> and <desc> first, role="img" labelled by them."""

    def apply(root):
        for parent in list(root.iter()):
            for child in list(parent):
                if _tag(child) == "script":
                    parent.remove(child)
        for child in list(root):
            if _tag(child) in ("title", "desc"):
                root.remove(child)
        for text in root.iter():  # printed values just after the end of their bar, not across it
            if _tag(text) == "text" and text.get("class") == "value" and text.get("x"):
                text.set("text-anchor", "start")
                text.set("x", f"{float(text.get('x')) + 6:.2f}")
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


def describe(funnel):
    """The figures in words: « Reçue : 120 ; Recevabilité : 90 (75 %) ; … »."""
    parts = []
    for stage in funnel:
        if stage.rate is None or stage is funnel[0]:
            parts.append(_("%(stage)s : %(count)s") % {"stage": stage.label, "count": stage.count})
        else:
            parts.append(
                _("%(stage)s : %(count)s (%(rate)s %%)")
                % {"stage": stage.label, "count": stage.count, "rate": f"{stage.rate * 100:.0f}"}
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
        share = f" ({value / received * 100:.0f} %)" if received else ""
        return f"{value:.0f}{share}"

    chart = pygal.HorizontalBar(
        style=STYLE,
        js=[],
        disable_xml_declaration=not standalone,
        title=title,
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
    chart.add_xml_filter(accessible(title, _("Entonnoir du recrutement. %(values)s.") % {"values": describe(funnel)}))
    return chart.render(is_unicode=True)
