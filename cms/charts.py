"""Server-side SVG charts (pygal) shared by every app: the house style and the accessibility
filter.

No JavaScript: pygal's config script is left out and any <script> removed (the site's CSP
forbids inline scripts), so a chart renders the same inline in a page, as an image and in a
PDF. Every chart carries a <title> and a <desc> (its figures in words) and is announced as
one image (``role="img"`` labelled by both); the pages also give the data as a table.

An app's chart module only chooses its data, labels and colours::

    chart = cms.charts.chart(pygal.HorizontalBar, title=title, standalone=standalone,
                             style=cms.charts.style(), show_legend=False, ...)
    chart.add(...)
    return cms.charts.render(chart, title, description)
"""

from pygal.style import Style

MARIANNE = "Marianne, Arial, Helvetica, sans-serif"
PRIMARY = "#1f4e8c"


def style(*, colors=(PRIMARY,), font_size=14, title_font_size=18, **overrides):
    """The house pygal style: transparent background, dark text (AA contrast), the
    Marianne font, no transition. ``font_size`` sets the label sizes; ``overrides`` any
    other Style option (``legend_font_size``, ``value_font_size``, guide colours…)."""
    options = {
        "background": "transparent",
        "plot_background": "#ffffff",
        "foreground": "#1e1e1e",
        "foreground_strong": "#1e1e1e",
        "foreground_subtle": "#595959",
        "opacity": "1",
        "opacity_hover": "1",
        "colors": tuple(colors),
        "font_family": MARIANNE,
        "label_font_size": font_size,
        "major_label_font_size": font_size,
        "value_font_size": font_size,
        "title_font_size": title_font_size,
        "transition": "0ms",
    }
    options.update(overrides)
    return Style(**options)


def chart(kind, *, title, standalone=False, **options):
    """A pygal chart of class ``kind`` without JavaScript; with an XML declaration only when
    ``standalone`` (an image/svg+xml response)."""
    return kind(js=[], disable_xml_declaration=not standalone, title=title, **options)


def _tag(element):
    """Local name of an element (comments and processing instructions have none)."""
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def accessible(title, description, *, values_after_bars=False):
    """An xml filter: no script, <title> and <desc> first, role="img" labelled by them.

    ``values_after_bars``: printed values are moved just after the end of their bar (a
    horizontal bar chart whose values would otherwise sit across the bar)."""

    def apply(root):
        for parent in list(root.iter()):
            for child in list(parent):
                if _tag(child) == "script":
                    parent.remove(child)
        for child in list(root):  # pygal's own <title> comes after <defs>: rebuild it first
            if _tag(child) in ("title", "desc"):
                root.remove(child)
        if values_after_bars:
            for text in root.iter():
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


def render(chart, title, description, **filter_options):
    """The chart's SVG markup, made accessible (see :func:`accessible`)."""
    chart.add_xml_filter(accessible(title, description, **filter_options))
    return chart.render(is_unicode=True)

