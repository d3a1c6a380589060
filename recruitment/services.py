"""Writes of the recruitment app other than moves: applying (with duplicate detection and
the candidate's self-service link) and messages (a copy of each kept in the event log).
Moves, bulk actions with undo and closing an opening are the actions of
``recruitment.actions``, over the table of ``recruitment.workflow``."""

import hashlib
import re
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cms import uploads
from cms.exceptions import Conflict
from cms.text import strip_invisible
from recruitment import messages, permissions
from recruitment.choices import ApplicationStatus, MessageKind, OpeningState
from recruitment.models import Application, ApplicationEvent, Candidate, MessageTemplate

MAX_CV_BYTES = 5 * 1024 * 1024
ALLOWED_DOCUMENTS = {"pdf": "PDF", "docx": "DOCX", "odt": "ODT"}
SELF_SERVICE_DAYS = 180


# --- normalisation and duplicates -------------------------------------------------------


def normalise_email(email):
    email = (email or "").strip().lower()
    local, _sep, domain = email.partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}" if domain else email


def normalise_phone(phone):
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def find_duplicates(email_normalised, phone_normalised):
    cond = Q(email_normalised=email_normalised)
    if len(phone_normalised) >= 9:
        cond |= Q(phone_normalised=phone_normalised)
    return Candidate.objects.filter(cond, anonymised_at__isnull=True).order_by("pk")


# --- uploads ----------------------------------------------------------------------------


def check_document(upload, field, required=True):
    """A CV or letter must be a real PDF, DOCX or ODT (checked by content) of at most 5 MB."""
    if upload is None:
        if required:
            raise ValidationError({field: _("Ce fichier est obligatoire.")})
        return None
    return uploads.sniff(upload, field=field, allowed=ALLOWED_DOCUMENTS, max_bytes=MAX_CV_BYTES)


# --- applying ---------------------------------------------------------------------------


def _reference():
    return "C-" + secrets.token_hex(4).upper()


def new_self_service_token(application, now=None):
    """A random token for the candidate's link; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    application.self_service_token_hash = hashlib.sha256(token.encode()).hexdigest()
    application.self_service_expires_at = (now or timezone.now()) + timezone.timedelta(days=SELF_SERVICE_DAYS)
    return token


def application_for_token(token, now=None):
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    application = Application.objects.select_related("candidate", "opening").filter(self_service_token_hash=digest).first()
    if application is None or application.self_service_expires_at < (now or timezone.now()):
        return None
    return application


def opening_accepts_applications(opening, user=None, now=None):
    today = timezone.localdate(now)
    deadline_passed = opening.application_deadline < today
    if opening.live and (deadline_passed or opening.recruitment_state == OpeningState.APPLICATIONS_CLOSED):
        return False, _("Les candidatures sont closes : la date limite était le %(date)s.") % {
            "date": date_format(opening.application_deadline, "j F Y")}
    if not opening.live or opening.recruitment_state != OpeningState.OPEN:
        return False, _("Ce recrutement est clos.")
    if opening.internal_only and not permissions.is_agent(user):
        return False, _("Cette offre est réservée aux agents de la collectivité.")
    return True, ""


def submit_application(*, opening, first_name, last_name, email, phone="", cv=None, cover_letter=None, message="",
                       consent_pool=False, user=None, now=None):
    """Validate everything first (nothing is written on error), then create the candidate
    (linked to duplicates) and the application. Returns (application, self_service_token)."""
    now = now or timezone.now()
    ok, why = opening_accepts_applications(opening, user, now)
    if not ok:
        raise Conflict(why)
    # Names lose bidi controls and zero-width characters here, for the form and the API alike:
    # invisible, they could make a name display as somebody else's.
    first_name, last_name = strip_invisible(first_name), strip_invisible(last_name)
    errors = {}
    for name, value in (("first_name", first_name), ("last_name", last_name), ("email", email)):
        if not (value or "").strip():
            errors[name] = [_("Ce champ est obligatoire.")]
    if email and "email" not in errors:
        try:
            validate_email(email.strip())
        except ValidationError:
            errors["email"] = [_("Adresse e-mail invalide.")]
    if phone and len(normalise_phone(phone)) < 9:
        errors["phone"] = [_("Numéro de téléphone invalide.")]
    for field, upload, required in (("cv", cv, True), ("cover_letter", cover_letter, False)):
        try:
            check_document(upload, field, required)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    email_n, phone_n = normalise_email(email), normalise_phone(phone)
    agent = permissions.agent_of(user)
    with transaction.atomic():
        duplicates = list(find_duplicates(email_n, phone_n)[:5])
        original = duplicates[0] if duplicates else None
        if original is not None and original.applications.filter(opening=opening).exclude(
            status__in=[ApplicationStatus.WITHDRAWN, ApplicationStatus.CANCELLED]
        ).exists():
            raise Conflict(_("Une candidature avec cette adresse e-mail ou ce téléphone existe déjà pour cette offre."))
        candidate = Candidate.objects.create(
            first_name=first_name, last_name=last_name, email=email.strip(), email_normalised=email_n,
            phone=phone.strip(), phone_normalised=phone_n, agent=agent, duplicate_of=original,
            pool_consent=bool(consent_pool), pool_consent_at=now if consent_pool else None, last_contact_at=now,
        )
        application = Application(
            opening=opening, candidate=candidate, reference=_reference(), message=message.strip(),
            is_internal=agent is not None, possible_duplicate=original is not None,
            submitted_at=now, status_changed_at=now,
        )
        token = new_self_service_token(application, now)
        application.cv.save(f"{application.reference}.{check_document(cv, 'cv')}", cv, save=False)
        if cover_letter is not None:
            application.cover_letter.save(
                f"{application.reference}-lettre.{check_document(cover_letter, 'cover_letter', False)}", cover_letter, save=False
            )
        application.save()
        ApplicationEvent.objects.create(
            application=application, kind="move", to_status=ApplicationStatus.RECEIVED, at=now,
            reason=_("Candidature déposée") + (_(" (doublon possible)") if original else ""),
        )
        transaction.on_commit(
            lambda: send_message(application_id=application.pk, kind=MessageKind.ACKNOWLEDGEMENT, token=token)
        )
    return application, token


# --- messages ----------------------------------------------------------------------------


def message_template(kind, language):
    """The template of ``kind`` in ``language``, else in French, else ``None``."""
    return MessageTemplate.objects.filter(kind=kind, language=language).first() or MessageTemplate.objects.filter(
        kind=kind, language="fr"
    ).first()


def self_service_url(token):
    """The candidate's absolute link (from the configured public base URL), or ``""``."""
    from django.conf import settings
    from django.urls import NoReverseMatch, reverse

    if not token:
        return ""
    try:
        return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("recruitment:self_service", kwargs={"token": token})
    except NoReverseMatch:
        return ""


def send_message(*, application_id, kind, token=None, actor_id=None, interview=None, language="fr", attachments=None):
    """Fill a MessageTemplate, send it and keep a copy in the event log.

    The e-mail carries the candidate's self-service link (when ``token`` is given); the copy
    kept in the log, which recruiters and HR read, shows ``messages.HIDDEN_LINK`` instead,
    so nobody but the candidate can act through the link. ``interview``: the ``Interview``
    of an invitation. ``attachments``: optional ``(filename, content, mimetype)`` triples
    (e.g. an ICS invitation)."""
    from django.core.mail import EmailMessage

    application = Application.objects.select_related("candidate", "opening__org_unit").get(pk=application_id)
    candidate = application.candidate
    if candidate.anonymised_at or not candidate.email:
        return None
    template = message_template(kind, language)
    if template is None:
        return None
    values = messages.values_for(application, language=template.language, interview=interview,
                                 self_service_url=self_service_url(token))
    subject, body = messages.fill(template.subject, values), messages.fill(template.body, values)
    kept = messages.hide_link(values, template.language)
    kept_subject, kept_body = messages.fill(template.subject, kept), messages.fill(template.body, kept)
    email = EmailMessage(subject=" ".join(subject.split()), body=body, to=[candidate.email])
    for attachment in attachments or ():
        email.attach(*attachment)
    email.send()
    now = timezone.now()
    Candidate.objects.filter(pk=candidate.pk).update(last_contact_at=now)
    return ApplicationEvent.objects.create(
        application=application, kind="message", actor_id=actor_id, at=now,
        message_subject=" ".join(kept_subject.split())[:255], message_body=kept_body, message_to=candidate.email,
        reason=str(MessageKind(kind).label),
    )
