from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from cms import auth_security, dashboard
from cms.forms import ThrottledPasswordResetForm


@login_required
def mon_espace(request):
    return render(request, "cms/mon_espace.html", {"panels": dashboard.panels_for(request)})


class PasswordResetView(auth_views.PasswordResetView):
    """``/compte/password_reset/``: limited per address (by the form, silently) and per client
    address (429 past ``PASSWORD_RESET_MAX_PER_IP`` requests in 15 minutes)."""

    form_class = ThrottledPasswordResetForm

    def post(self, request, *args, **kwargs):
        allowed, retry_after = auth_security.take_password_reset_request(request)
        if not allowed:
            return auth_security.password_reset_limit_response(request, retry_after)
        return super().post(request, *args, **kwargs)


# --- error pages (handler403/404/500 in cms/urls.py): themed, French first ----------------------


def _reason(exception):
    """The sentence a view raised (``PermissionDenied("vous n'êtes pas …")``), or ""
    (Django's resolver puts a dict there; a bare ``Http404()`` has none)."""
    args = getattr(exception, "args", ())
    return args[0] if args and isinstance(args[0], str) else ""


def permission_denied(request, exception=None):
    return render(request, "403.html", {"exception": _reason(exception)}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", {"exception": _reason(exception), "request_path": request.path}, status=404)


def server_error(request):
    """Rendered without the request's context processors: an error there must not recurse."""
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render())
