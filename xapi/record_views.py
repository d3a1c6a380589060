"""The learner's record in Mon espace: the xAPI statements about the signed-in user.

``/mon-espace/releve-xapi/``: a paginated, human-readable list (date, verb, activity, result);
``/mon-espace/releve-xapi/<id>/``: one statement's JSON; ``/mon-espace/releve-xapi/export.json``:
all of them, streamed, as a JSON array of statements in the xAPI format (portability). Only
the statements whose actor is the user's own xAPI account are ever read: another person's
statement answers 404, whatever id is asked for.
"""

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xapi import selectors

RECORD_PAGE_SIZE = 25
EXPORT_CHUNK = 500


@login_required
@require_GET
def record(request):
    queryset = selectors.statements_of_user(request.user).only(*selectors.LIST_FIELDS)
    page_obj = Paginator(queryset, RECORD_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [selectors.StatementRow.of(row) for row in page_obj.object_list]
    return render(request, "xapi/record.html", {"rows": rows, "page_obj": page_obj})


@login_required
@require_GET
def record_statement(request, statement_id):
    row = selectors.statements_of_user(request.user).filter(statement_id=statement_id).first()
    if row is None:
        raise Http404(_("Déclaration introuvable dans votre relevé."))
    context = {
        "statement": selectors.StatementRow.of(row),
        "raw": json.dumps(row.data, indent=2, ensure_ascii=False, sort_keys=True),
    }
    return render(request, "xapi/record_statement.html", context)


def json_array(values):
    """A JSON array written piece by piece (one statement at a time)."""
    yield "["
    for index, value in enumerate(values):
        yield ("," if index else "") + "\n" + json.dumps(value, ensure_ascii=False)
    yield "\n]\n"


@login_required
@require_GET
def record_export(request):
    """Every statement about the user, oldest first, streamed: one query (a server-side cursor on
    PostgreSQL), whatever their number."""
    data = (
        selectors.statements_of_user(request.user)
        .order_by("stored", "pk")
        .values_list("data", flat=True)
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    response = StreamingHttpResponse(json_array(data), content_type="application/json; charset=utf-8")
    filename = f"releve-xapi-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Experience-API-Version"] = "1.0.3"
    return response
