"""The theme registry: each theme is a set of CSS design tokens (custom properties).

Apps or deployments may register more themes with `register(Theme(...))`. Colours set in
ThemeSettings override the theme's primary/accent tokens when they keep AA contrast.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    tokens: dict = field(default_factory=dict)


_THEMES: dict[str, Theme] = {}


def register(theme: Theme):
    _THEMES[theme.key] = theme
    return theme


def get(key):
    return _THEMES.get(key) or _THEMES["default"]


def choices():
    return [(t.key, t.label) for t in _THEMES.values()]


register(
    Theme(
        "default",
        _("Parcours (par défaut)"),
        {
            "color-primary": "#1f4e8c",
            "color-primary-contrast": "#ffffff",
            "color-accent": "#a3195b",
            "color-text": "#1e1e1e",
            "color-muted": "#555555",
            "color-bg": "#ffffff",
            "color-surface": "#f4f6fa",
            "color-border": "#8a8f98",
            "color-focus": "#ffbf47",
            "color-danger": "#b3261e",
            "color-success": "#1b6e3a",
            "font-body": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
            "radius": "6px",
        },
    )
)
register(
    Theme(
        "high_contrast",
        _("Contraste élevé"),
        {
            "color-primary": "#000000",
            "color-primary-contrast": "#ffffff",
            "color-accent": "#000000",
            "color-text": "#000000",
            "color-muted": "#000000",
            "color-bg": "#ffffff",
            "color-surface": "#ffffff",
            "color-border": "#000000",
            "color-focus": "#d40000",
            "color-danger": "#8b0000",
            "color-success": "#004d00",
            "font-body": "Arial, Helvetica, sans-serif",
            "radius": "0",
        },
    )
)


def _luminance(hex_colour):
    hex_colour = hex_colour.lstrip("#")
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a, b):
    """WCAG 2.1 contrast ratio between two #rrggbb colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
