"""Certificates: the private PDF download and the public verification page.

The PDF sits on the private storage and is only ever served here, as an attachment, to
the agent, the managers above them (any level) and HR; anyone else gets a 404, so that
the existence of someone else's certificate does not leak. The public verification page
shows the status and no more than the name, the course and the dates.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from learning.models import Enrollment
from learning.permissions import can_view_certificate


def certificate_response(user, enrollment_id):
    """The certificate of ``enrollment_id`` as a PDF attachment for ``user`` (the agent,
    the managers above them, HR and holders of ``view_all_completions``), or Http404:
    shared by the site's download and the API's ``certificates/{id}.pdf``."""
    enrollment = Enrollment.objects.filter(pk=enrollment_id).only("pk", "certificate_code").first()
    if enrollment is None or not enrollment.certificate_code or not can_view_certificate(user, enrollment_id):
        raise Http404
    from learning.certificates import ensure_certificate_file  # rendered on first download if the task has not run

    enrollment = ensure_certificate_file(enrollment.pk)
    if not enrollment.certificate_file:
        raise Http404
    try:
        handle = enrollment.certificate_file.storage.open(enrollment.certificate_file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    filename = f"attestation-{slugify(enrollment.course.title)[:60] or 'formation'}-{enrollment.certificate_code}.pdf"
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required
@require_GET
def certificate_download(request, enrollment_id):
    return certificate_response(request.user, enrollment_id)


@require_GET
def certificate_verify(request, code):
    """Public: "valide" or "expirée", the agent's name, the course and the dates; else 404."""
    from learning.certificates import normalise_code, verification_status

    info = verification_status(code)
    response = render(
        request,
        "learning/certificate_verify.html",
        {"info": info, "code": normalise_code(code)[:32]},
        status=200 if info is not None else 404,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response
