from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from cms import dashboard


@login_required
def mon_espace(request):
    return render(request, "cms/mon_espace.html", {"panels": dashboard.panels_for(request)})
