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
