"""Display preferences (high contrast, larger text): read for every page by the context
processor, written by ``save`` (the one write path). Signed-in users keep them in the
database (remembered on every device), anonymous visitors in their session."""

from dataclasses import dataclass
from urllib.parse import urlencode

SESSION_KEY = "themes.display"


@dataclass(frozen=True)
class Display:
    high_contrast: bool = False
    large_text: bool = False

    @property
    def query(self):
        """The theme stylesheet's query string for these preferences ("" for none)."""
        params = {}
        if self.high_contrast:
            params["contrast"] = "high"
        if self.large_text:
            params["text"] = "large"
        return urlencode(params)


def for_request(request):
    """The request's preferences (at most one query, cached on the request)."""
    cached = getattr(request, "_parcours_display", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    display = Display()
    if user is not None and user.is_authenticated:
        from themes.models import DisplayPreference

        row = DisplayPreference.objects.filter(user=user).values("high_contrast", "large_text").first()
        if row:
            display = Display(**row)
    elif hasattr(request, "session"):
        display = Display(**{key: bool(value) for key, value in (request.session.get(SESSION_KEY) or {}).items()
                             if key in ("high_contrast", "large_text")})
    request._parcours_display = display
    return display


def save(request, *, high_contrast, large_text):
    """Store the preferences of the request's user (or session) and return them."""
    display = Display(high_contrast=bool(high_contrast), large_text=bool(large_text))
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from themes.models import DisplayPreference

        DisplayPreference.objects.update_or_create(
            user=user, defaults={"high_contrast": display.high_contrast, "large_text": display.large_text}
        )
    else:
        request.session[SESSION_KEY] = {"high_contrast": display.high_contrast, "large_text": display.large_text}
    request._parcours_display = display
    return display


def context(request):
    """Context processor: ``display`` for base.html (the stylesheet's query, the body classes)."""
    return {"display": for_request(request)}
