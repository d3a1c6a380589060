"""Every write of the recruitment app: applications, moves, bulk actions with undo,
messages, closing an opening. Each move writes an ApplicationEvent in the same
transaction; e-mails leave after commit and their copy is kept in the event log."""

import hashlib
import re
import secrets

import filetype
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.text import strip_invisible
from recruitment import messages
from recruitment.choices import ACTIVE, PIPELINE, TERMINAL, ApplicationStatus, MessageKind, OpeningState
from recruitment.models import Application, ApplicationEvent, Candidate, MessageTemplate, Scorecard

MAX_CV_BYTES = 5 * 1024 * 1024
ALLOWED_DOCUMENTS = {"pdf": "PDF", "docx": "DOCX", "odt": "ODT"}
SELF_SERVICE_DAYS = 180


class Conflict(Exception):
    """Valid request, impossible now (API 409)."""


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
    if upload.size > MAX_CV_BYTES:
        raise ValidationError({field: _("Le fichier dépasse 5 Mo (%(size).1f Mo).") % {"size": upload.size / 1024 / 1024}})
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.extension not in ALLOWED_DOCUMENTS:
        found = kind.extension.upper() if kind else _("inconnu ou texte")
        raise ValidationError(
            {field: _("Le fichier « %(name)s » n'est pas un PDF, un DOCX ou un ODT (contenu détecté : %(found)s), "
                      "quel que soit son nom.") % {"name": upload.name, "found": found}}
        )
    return kind.extension


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
    if not opening.live or opening.state != OpeningState.OPEN:
        return False, _("Ce recrutement est clos.")
    if opening.application_deadline < today:
        return False, _("La date limite de candidature (%(date)s) est dépassée.") % {"date": opening.application_deadline}
    if opening.internal_only and not (user and user.is_authenticated and hasattr(user, "agent")):
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
    agent = getattr(user, "agent", None) if user is not None and user.is_authenticated else None
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


# --- pipeline moves ---------------------------------------------------------------------


def can_manage(user, opening):
    from cms import roles
    from cms.selectors import has_role

    if not user.is_authenticated:
        return False
    # The saved list, read from the table: ``opening.recruiters`` may hold unsaved, in-memory
    # changes (modelcluster), which neither grant rights nor support a ``pk`` lookup.
    recruiters = type(opening).recruiters.through.objects
    return has_role(user, roles.HR) or recruiters.filter(jobopeningpage_id=opening.pk, user_id=user.pk).exists()


def _check_move(application, to_status, reason, actor):
    current = application.status
    if to_status not in ApplicationStatus.values:
        raise ValidationError({"status": _("Statut inconnu : %(s)s.") % {"s": to_status}})
    if application.opening.state != OpeningState.OPEN:
        raise Conflict(_("Ce recrutement est clos (%(state)s) : plus aucun mouvement n'est possible.")
                       % {"state": OpeningState(application.opening.state).label})
    if to_status == current:
        raise Conflict(_("La candidature est déjà à l'étape « %(s)s ».") % {"s": application.opening.stage_label(current)})
    if to_status == ApplicationStatus.REJECTED and not reason:
        raise ValidationError({"reason": _("Le motif du refus est obligatoire.")})
    if current in TERMINAL and not reason:
        raise ValidationError({"reason": _("La réouverture d'une candidature close exige un motif.")})
    if current == ApplicationStatus.HIRED:
        raise Conflict(_("Une candidature recrutée ne peut plus changer d'étape."))
    if to_status == ApplicationStatus.WITHDRAWN and actor is not None:
        raise ValidationError({"status": _("Seul le candidat peut retirer sa candidature.")})
    if to_status == ApplicationStatus.CANCELLED:
        raise ValidationError({"status": _("Les candidatures sont annulées en clôturant le recrutement.")})
    if to_status in (ApplicationStatus.DECISION, ApplicationStatus.OFFER, ApplicationStatus.HIRED):
        pending = Scorecard.objects.filter(application=application, submitted_at__isnull=True).count()
        missing = application.interviews.exists() and not Scorecard.objects.filter(application=application).exists()
        if pending or missing:
            raise Conflict(_("Toutes les grilles d'évaluation des membres du jury doivent être soumises avant la décision."))
    if to_status in PIPELINE and current in PIPELINE and PIPELINE.index(to_status) < PIPELINE.index(current) and not reason:
        raise ValidationError({"reason": _("Un retour à une étape précédente exige un motif.")})


def _apply_move(application, to_status, actor, reason, note, now, batch=""):
    from_status = application.status
    application.status = to_status
    application.status_changed_at = now
    application.closed_at = now if to_status in TERMINAL else None
    application.save(update_fields=["status", "status_changed_at", "closed_at"])
    return ApplicationEvent.objects.create(
        application=application, kind="move", from_status=from_status, to_status=to_status,
        reason="\n".join(p for p in (reason, note) if p), actor=actor, at=now, batch=batch,
    )


def move(*, application_id, to_status, actor, reason="", note="", now=None):
    now = now or timezone.now()
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related("opening").get(pk=application_id)
        if actor is not None and not can_manage(actor, application.opening):
            raise PermissionDenied(_("Vous ne gérez pas ce recrutement."))
        _check_move(application, to_status, (reason or "").strip(), actor)
        _apply_move(application, to_status, actor, (reason or "").strip(), (note or "").strip(), now)
        if to_status in (ApplicationStatus.REJECTED, ApplicationStatus.OFFER):
            kind = MessageKind.REJECTION if to_status == ApplicationStatus.REJECTED else MessageKind.OFFER
            transaction.on_commit(lambda: send_message(application_id=application.pk, kind=kind, actor_id=actor.pk if actor else None))
    return application


def withdraw(*, token, now=None):
    """The candidate withdraws through their self-service link."""
    now = now or timezone.now()
    application = application_for_token(token, now)
    if application is None:
        raise PermissionDenied(_("Ce lien n'est plus valable."))
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related("opening").get(pk=application.pk)
        if application.status in TERMINAL:
            raise Conflict(_("Cette candidature est déjà close."))
        _apply_move(application, ApplicationStatus.WITHDRAWN, None, _("Retrait par le candidat"), "", now)
    return application


def bulk_reject(*, application_ids, actor, reason, send=True, now=None):
    """Reject many applications at once (one batch id, so the whole batch can be undone)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Le motif du refus est obligatoire.")})
    batch = secrets.token_hex(8)
    with transaction.atomic():
        applications = list(
            Application.objects.select_for_update(of=("self",)).select_related("opening").filter(pk__in=application_ids)
        )
        for application in applications:
            if not can_manage(actor, application.opening):
                raise PermissionDenied(_("Vous ne gérez pas ce recrutement."))
            _check_move(application, ApplicationStatus.REJECTED, reason, actor)
        for application in applications:
            _apply_move(application, ApplicationStatus.REJECTED, actor, reason, "", now, batch=batch)
        if send:
            ids = [a.pk for a in applications]
            transaction.on_commit(lambda: [send_message(application_id=i, kind=MessageKind.REJECTION) for i in ids])
    return batch, len(applications)


def undo_batch(*, batch, actor, now=None):
    """Put every application of a bulk action back where it was (messages already sent stay sent)."""
    now = now or timezone.now()
    with transaction.atomic():
        events = list(ApplicationEvent.objects.filter(batch=batch, kind="move").select_related("application__opening"))
        if not events:
            raise ValidationError({"batch": _("Action groupée inconnue.")})
        for event in events:
            application = Application.objects.select_for_update().get(pk=event.application_id)
            if not can_manage(actor, event.application.opening):
                raise PermissionDenied(_("Vous ne gérez pas ce recrutement."))
            if event.application.opening.state != OpeningState.OPEN:
                raise Conflict(_("Ce recrutement est clos : l'action groupée ne peut plus être annulée."))
            if application.status != event.to_status:
                raise Conflict(_("La candidature %(ref)s a changé depuis : annulation impossible.") % {"ref": application.reference})
            _apply_move(application, event.from_status, actor, _("Annulation de l'action groupée"), "", now, batch=f"undo-{batch}"[:32])
    return len(events)


def close_opening(*, opening, state, actor, now=None):
    """Filled or cancelled: remaining active applications become ``cancelled`` in bulk."""
    now = now or timezone.now()
    if state not in (OpeningState.FILLED, OpeningState.CANCELLED):
        raise ValidationError({"state": _("État de clôture invalide.")})
    if not can_manage(actor, opening):
        raise PermissionDenied(_("Vous ne gérez pas ce recrutement."))
    with transaction.atomic():
        type(opening).objects.filter(pk=opening.pk).update(state=state)
        remaining = list(Application.objects.select_for_update().filter(opening=opening, status__in=ACTIVE).values_list("pk", "status"))
        Application.objects.filter(pk__in=[pk for pk, _s in remaining]).update(
            status=ApplicationStatus.CANCELLED, status_changed_at=now, closed_at=now
        )
        ApplicationEvent.objects.bulk_create(
            [
                ApplicationEvent(application_id=pk, kind="move", from_status=status, to_status=ApplicationStatus.CANCELLED,
                                 reason=_("Recrutement clos : %(s)s") % {"s": OpeningState(state).label}, actor=actor, at=now)
                for pk, status in remaining
            ]
        )
    opening.state = state
    return len(remaining)


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
