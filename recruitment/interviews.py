"""Interviews and scorecards: scheduling (with ICS invitations), structured evaluations
(six criteria scored 1–5 against anchors, and a recommendation) and their summary.

Same rules as ``recruitment.services``: keyword-only arguments, permission checked here,
one transaction, an ``ApplicationEvent`` for every change, e-mails after commit. Moving the
application to the interview stage is the ``recruitment.actions.Move`` action.
"""

import datetime
from email.utils import parseaddr
from statistics import mean

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cms import ics
from cms.exceptions import Conflict
from cms.text import date_format, of
from recruitment import actions, permissions, services, workflow
from recruitment.choices import MOVABLE_STATES, TERMINAL, ApplicationStatus, MessageKind, OpeningState, Recommendation
from recruitment.models import Application, ApplicationEvent, Interview, Scorecard

MIN_DURATION, MAX_DURATION = 15, 480
# Stages at which an interview is planned without moving the application.
INTERVIEWED = (ApplicationStatus.INTERVIEW, ApplicationStatus.DECISION, ApplicationStatus.OFFER)
ICS_MIMETYPE = "text/calendar; method=REQUEST; charset=utf-8"

# Anchors of the 1–5 scale, shown on the scorecard form next to each level.
LEVELS = [
    (1, gettext_lazy("Insuffisant"), gettext_lazy("Ne répond pas aux attentes du poste sur ce critère.")),
    (2, gettext_lazy("À consolider"), gettext_lazy("Répond en partie aux attentes ; des manques importants.")),
    (3, gettext_lazy("Satisfaisant"), gettext_lazy("Répond aux attentes du poste.")),
    (4, gettext_lazy("Très satisfaisant"), gettext_lazy("Dépasse les attentes sur plusieurs points.")),
    (5, gettext_lazy("Excellent"), gettext_lazy("Dépasse nettement les attentes : un point fort remarquable.")),
]
LEVEL_LABELS = {value: label for value, label, _help in LEVELS}

# What each criterion asks (one sentence, shown on the form and in the summary).
CRITERIA_HELP = {
    "skills": gettext_lazy("Maîtrise des savoir-faire techniques et professionnels attendus sur le poste."),
    "aptitudes": gettext_lazy(
        "Qualités personnelles et relationnelles utiles au poste : sens du service public, travail en équipe, adaptabilité."
    ),
    "qualifications": gettext_lazy(
        "Diplômes, concours, habilitations et formations au regard des exigences du poste et du grade."
    ),
    "experience": gettext_lazy("Expériences professionnelles en lien avec les missions et leur niveau de responsabilité."),
    "potential": gettext_lazy("Capacité à apprendre, à progresser et à évoluer vers des responsabilités plus larges."),
    "mission_fit": gettext_lazy("Capacité à exercer les missions décrites dans la fiche de poste dès la prise de fonctions."),
}


def criteria():
    """[(field name, label, sentence)] in the order of ``Scorecard.CRITERIA``."""
    return [(name, capfirst(Scorecard._meta.get_field(name).verbose_name), CRITERIA_HELP[name]) for name in Scorecard.CRITERIA]


# --- scheduling --------------------------------------------------------------------------


def _check_interviewers(interviewer_ids, opening):
    from cms import roles

    ids = {int(pk) for pk in interviewer_ids or []}
    if not ids:
        raise ValidationError({"interviewer_ids": _("Choisissez au moins un membre du jury.")})
    users = list(get_user_model().objects.filter(pk__in=ids).prefetch_related("groups"))
    errors = []
    if len(users) != len(ids):
        errors.append(_("Membre du jury inconnu."))
    recruiter_ids = set(
        type(opening).recruiters.through.objects.filter(jobopeningpage_id=opening.pk).values_list("user_id", flat=True)
    )
    allowed_groups = {roles.INTERVIEWERS, roles.RECRUITERS, roles.HR}
    for user in users:
        name = user.get_full_name() or user.get_username()
        if not user.is_active:
            errors.append(_("Le compte %(of_name)s est désactivé.") % {"of_name": of(name)})
        elif not (user.is_superuser or user.pk in recruiter_ids or allowed_groups & {g.name for g in user.groups.all()}):
            errors.append(_("%(name)s n'est ni membre de jury, ni recruteur, ni RH.") % {"name": name})
    if errors:
        raise ValidationError({"interviewer_ids": errors})
    return sorted(users, key=lambda u: (u.last_name, u.first_name, u.pk))


def schedulable(status):
    """Whether an interview may be planned for an application in ``status``: at the interview
    stage or later (no move), or one declared move before it (screening, shortlisted)."""
    if status in TERMINAL:
        return False
    return status in INTERVIEWED or workflow.MOVES.between(status, ApplicationStatus.INTERVIEW) is not None


def schedule_interview(*, application, starts_at, duration_minutes, location, interviewer_ids, actor, now=None):
    """Plan an interview: creates the Interview, an empty Scorecard per interviewer (kept if
    they already have one for this application), an ``interview`` event, moves the
    application to "interview" when it is earlier in the pipeline (from screening or
    shortlisted: the table of ``recruitment.workflow`` does not let an application skip the
    screening, so scheduling from received or admissibility is a Conflict), and after commit sends
    the ICS invitation to the candidate (MessageTemplate "interview", copy in the log) and
    to each interviewer."""
    now = now or timezone.now()
    application_id = application.pk if isinstance(application, Application) else application
    location = (location or "").strip()
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related("opening").get(pk=application_id)
        opening = actions.fresh_opening_status(application.opening)
        if actor is None or not permissions.can_manage(actor, opening):
            raise PermissionDenied(_("Vous ne gérez pas ce recrutement."))
        if opening.recruitment_state not in MOVABLE_STATES:
            raise Conflict(_("Ce recrutement est clos (%(state)s) : plus aucun entretien ne peut être planifié.")
                           % {"state": OpeningState(opening.recruitment_state).label})
        if application.status in TERMINAL:
            raise Conflict(_("Cette candidature est close (%(status)s) : rouvrez-la avant de planifier un entretien.")
                           % {"status": opening.stage_label(application.status)})
        if not schedulable(application.status):
            raise Conflict(workflow.refusal(application.status, ApplicationStatus.INTERVIEW, opening.stage_label))
        moves_to_interview = application.status not in INTERVIEWED
        errors = {}
        if starts_at is None:
            errors["starts_at"] = [_("La date et l'heure de l'entretien sont obligatoires.")]
        elif starts_at <= now:
            errors["starts_at"] = [_("L'entretien doit avoir lieu dans le futur.")]
        if duration_minutes is None or not MIN_DURATION <= int(duration_minutes) <= MAX_DURATION:
            errors["duration_minutes"] = [_("La durée doit être comprise entre %(min)s et %(max)s minutes.")
                                          % {"min": MIN_DURATION, "max": MAX_DURATION}]
        if not location:
            errors["location"] = [_("Le lieu (ou le lien de la visioconférence) est obligatoire.")]
        try:
            interviewers = _check_interviewers(interviewer_ids, opening)
        except ValidationError as error:
            errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)

        interview = Interview.objects.create(
            application=application, starts_at=starts_at, duration_minutes=int(duration_minutes), location=location,
            created_by=actor,
        )
        interview.interviewers.set(interviewers)
        existing = set(Scorecard.objects.filter(application=application).values_list("interviewer_id", flat=True))
        Scorecard.objects.bulk_create(
            [Scorecard(application=application, interviewer=user) for user in interviewers if user.pk not in existing]
        )
        ApplicationEvent.objects.create(
            application=application, kind="interview", actor=actor, at=now,
            reason=_("Entretien planifié le %(when)s (%(duration)s min), %(location)s. Jury : %(jury)s.") % {
                "when": date_format(timezone.localtime(starts_at), "DATETIME_FORMAT"),
                "duration": interview.duration_minutes, "location": location,
                "jury": ", ".join(u.get_full_name() or u.get_username() for u in interviewers),
            },
        )
        if moves_to_interview:
            actions.Move(application, user=actor, now=now,
                         params={"status": ApplicationStatus.INTERVIEW, "reason": _("Entretien planifié")}).execute()
        interview_id = interview.pk
        transaction.on_commit(lambda: send_invitations(interview_id=interview_id, actor_id=actor.pk))
    return interview


def _organizer(actor):
    if actor is not None and actor.email:
        return actor.get_full_name() or actor.get_username(), actor.email
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return name or "Parcours", address


def interview_ics(interview, *, attendees, organizer, summary):
    """An iCalendar invitation (METHOD:REQUEST): one event with its organizer and attendees
    (``[(name, email)]``). The UID is the interview's, so every copy is the same event."""
    return ics.invitation(
        uid=f"recruitment-interview-{interview.pk}@parcours",
        product="Recrutement",
        start=interview.starts_at,
        end=interview.starts_at + datetime.timedelta(minutes=interview.duration_minutes),
        summary=summary,
        location=interview.location,
        organizer=organizer,
        attendees=attendees,
        sequence=interview.sequence,
    )


def send_invitations(*, interview_id, actor_id=None, language="fr"):
    """The candidate's invitation (MessageTemplate "interview" + ICS, copy kept in the log)
    and one e-mail with the ICS to each interviewer. Returns the number of e-mails sent."""
    interview = (
        Interview.objects.select_related("application__candidate", "application__opening", "created_by")
        .prefetch_related("interviewers")
        .get(pk=interview_id)
    )
    application, opening = interview.application, interview.application.opening
    candidate = application.candidate
    organizer = _organizer(interview.created_by)
    interviewers = [u for u in interview.interviewers.all() if u.email]
    sent = 0
    with translation.override(language):
        if candidate.email and not candidate.anonymised_at:
            ics = interview_ics(
                interview, organizer=organizer, attendees=[(str(candidate), candidate.email)],
                summary=_("Entretien de recrutement — %(title)s (%(reference)s)") % {
                    "title": opening.title, "reference": opening.reference},
            )
            event = services.send_message(
                application_id=application.pk, kind=MessageKind.INTERVIEW, actor_id=actor_id, language=language,
                interview=interview, attachments=[("entretien.ics", ics, ICS_MIMETYPE)],
            )
            sent += event is not None
        if interviewers:
            ics = interview_ics(
                interview, organizer=organizer,
                attendees=[(u.get_full_name() or u.get_username(), u.email) for u in interviewers],
                summary=_("Jury de recrutement — %(name)s — %(title)s (%(reference)s)") % {
                    "name": candidate, "title": opening.title, "reference": opening.reference},
            )
            url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("recruitment_admin:my_scorecards")
            for user in interviewers:
                text = render_to_string("recruitment/email/interview_jury.txt", {
                    "interviewer": user, "interview": interview, "application": application, "opening": opening,
                    "candidate": candidate, "url": url, "starts_at": timezone.localtime(interview.starts_at),
                }).strip()
                subject, _sep, body = text.partition("\n")
                message = EmailMessage(subject=subject.strip(), body=body.strip(), to=[user.email])
                message.attach("entretien.ics", ics, ICS_MIMETYPE)
                message.send()
                sent += 1
    return sent


# --- scorecards --------------------------------------------------------------------------


def _score(value):
    """(number, error): a whole number from 1 to 5, given as an int or as digits."""
    invalid = _("La note doit être un nombre entier de 1 à 5.")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, _("Ce critère est obligatoire.")
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None, invalid
    if not 1 <= number <= 5:
        return None, invalid
    return number, None


def first_interview_at(application_id, interviewer):
    """When the interviewer's first interview of the application starts (None: no interview)."""
    return (
        Interview.objects.filter(application_id=application_id, interviewers=interviewer)
        .order_by("starts_at").values_list("starts_at", flat=True).first()
    )


def not_before_interview(interview_at):
    return _("Cette grille pourra être soumise après l'entretien du %(date)s.") % {
        "date": date_format(timezone.localtime(interview_at), "DATETIME_FORMAT")}


def submit_scorecard(*, scorecard_id, actor, scores, recommendation, comment="", now=None):
    """Only the interviewer it belongs to; all six criteria scored 1–5; a recommendation;
    a submitted scorecard is final."""
    now = now or timezone.now()
    with transaction.atomic():
        scorecard = Scorecard.objects.select_for_update(of=("self",)).select_related("application").get(pk=scorecard_id)
        if actor is None or not actor.is_authenticated or scorecard.interviewer_id != actor.pk:
            raise PermissionDenied(_("Cette grille d'évaluation appartient à un autre membre du jury."))
        if scorecard.submitted_at is not None:
            raise Conflict(_("Cette grille a déjà été soumise : elle est définitive."))
        interview_at = first_interview_at(scorecard.application_id, actor)
        if interview_at is not None and interview_at > now:
            raise Conflict(not_before_interview(interview_at))
        errors, values = {}, {}
        scores = scores or {}
        for name in Scorecard.CRITERIA:
            values[name], error = _score(scores.get(name))
            if error:
                errors[name] = [error]
        if recommendation not in Recommendation.values:
            errors["recommendation"] = [_("Choisissez un avis.") if not recommendation else _("Avis inconnu.")]
        if errors:
            raise ValidationError(errors)
        for name, value in values.items():
            setattr(scorecard, name, value)
        scorecard.recommendation = recommendation
        scorecard.comment = (comment or "").strip()
        scorecard.submitted_at = now
        scorecard.save()
        ApplicationEvent.objects.create(
            application=scorecard.application, kind="scorecard", actor=actor, at=now,
            reason=_("Grille d'évaluation soumise (avis : %(rec)s).") % {"rec": Recommendation(recommendation).label},
        )
    return scorecard


def scorecard_summary(application):
    """Scorecards of an application (one query): per criterion the scores of each
    interviewer and the average of the submitted ones, the count of each recommendation,
    and whether every scorecard is in."""
    cards = list(
        Scorecard.objects.filter(application=application).select_related("interviewer")
        .order_by("interviewer__last_name", "interviewer__first_name", "pk")
    )
    submitted = [card for card in cards if card.submitted_at]
    rows = []
    for name, label, sentence in criteria():
        scores = [getattr(card, name) if card.submitted_at else None for card in cards]
        given = [getattr(card, name) for card in submitted if getattr(card, name) is not None]
        rows.append({"key": name, "label": label, "help": sentence, "scores": scores,
                     "average": round(mean(given), 2) if given else None})
    averages = [row["average"] for row in rows if row["average"] is not None]
    recommendations = [
        {"value": value, "label": label, "count": sum(1 for card in submitted if card.recommendation == value)}
        for value, label in Recommendation.choices
    ]
    return {
        "scorecards": cards,
        "criteria": rows,
        "averages": {row["key"]: row["average"] for row in rows},
        "overall_average": round(mean(averages), 2) if averages else None,
        "recommendations": recommendations,
        "submitted": len(submitted),
        "total": len(cards),
        "all_submitted": bool(cards) and len(submitted) == len(cards),
    }
