"""Candidates' rights and retention (RGPD / CNIL référentiel « recrutement »).

* ``export_candidate(application)``: the right of access (art. 15), as a JSON-ready dict.
* ``erase_candidate(candidate, actor=None)``: the right to erasure (art. 17), also used by
  retention. Personal data is blanked or deleted; the applications stay, anonymous, with
  their opening, statuses and dates, so that recruitment statistics (funnel, time to hire)
  still add up.
* ``purge(now=None, dry_run=False)``: the retention rules. An application that was not
  successful (rejected, withdrawn, offer declined, cancelled) is kept 3 months after the
  end of the process; with the candidate's consent to the pool, the data is kept 2 years
  after the last contact.

What the export contains, and why (CNIL: a candidate may access every piece of data
about them, including the assessments on which the decision was based, but the right of
access must not adversely affect the rights of others, art. 15(4)):

* the candidate's identity, contact data, pool consent and dates;
* every application of the same person (records sharing the normalised e-mail address to
  which the self-service link was sent; a match on the phone number alone is *not* used,
  since a phone can be shared and the link does not prove it);
* each application's opening, status, stage label and dates, message, file names;
* the history: moves with their reasons, copies of the messages sent to them;
* interviews (date, duration, place) and scorecards: every score, the recommendation and
  the comment, because they are data about the candidate and the basis of the decision;
* **not** the identity of recruiters, interviewers or other actors: that is personal data
  of third parties (employees). Their role is given instead ("jury", "recruteur").
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import CharField, Count, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from recruitment.choices import ACTIVE, ApplicationStatus, Recommendation
from recruitment.models import Application, ApplicationEvent, Candidate, Scorecard

ANONYMOUS_NAME = "Anonyme"
RETENTION_MONTHS = 3
POOL_YEARS = 2
# Unsuccessful outcomes: the process is over for the candidate. "hired" is not here: a
# recruited candidate's file follows the personnel file's own retention.
UNSUCCESSFUL = [
    ApplicationStatus.REJECTED,
    ApplicationStatus.WITHDRAWN,
    ApplicationStatus.OFFER_DECLINED,
    ApplicationStatus.CANCELLED,
]
RULE_UNSUCCESSFUL = "unsuccessful_3_months"
RULE_POOL = "pool_2_years"
RULE_REQUEST = "request"
RULE_LABELS = {
    RULE_UNSUCCESSFUL: "3 mois après la fin du recrutement",
    RULE_POOL: "vivier : 2 ans sans contact",
    RULE_REQUEST: "demande du candidat",
}
BATCH_SIZE = 500


def months_before(moment, months):
    """``moment`` minus calendar months (the 31st of a shorter month becomes its last day)."""
    year, month = divmod(moment.year * 12 + (moment.month - 1) - months, 12)
    month += 1
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def _iso(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


# --- access -------------------------------------------------------------------------------


def person_records(candidate):
    """The candidate records of one person: same normalised e-mail, not yet anonymised."""
    if candidate.anonymised_at is not None:
        return Candidate.objects.filter(pk=candidate.pk)
    return Candidate.objects.filter(email_normalised=candidate.email_normalised, anonymised_at__isnull=True)


def export_candidate(application):
    """Everything held about the person who made ``application`` (see the module docstring)."""
    from recruitment.jsonld import organisation_name

    candidates = list(person_records(application.candidate).select_related("agent").order_by("pk"))
    applications = list(
        Application.objects.filter(candidate__in=candidates)
        .select_related("opening")
        .prefetch_related("events", "scorecards", "interviews")
        .order_by("submitted_at", "pk")
    )
    recommendation_labels = dict(Recommendation.choices)
    return {
        "generated_at": _iso(timezone.now()),
        "controller": organisation_name(),
        "about": _(
            "Données personnelles vous concernant traitées pour vos candidatures (droit d'accès, article 15 du RGPD). "
            "L'identité des recruteurs et des membres du jury n'est pas communiquée : ce sont les données "
            "personnelles de tiers."
        ),
        "retention": _(
            "Candidature non retenue : effacement 3 mois après la fin du recrutement. Vivier (avec votre accord) : "
            "2 ans après le dernier contact."
        ),
        "candidate": [
            {
                "id": c.pk,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "email": c.email,
                "phone": c.phone,
                "employee_number": c.agent.employee_number if c.agent else None,
                "pool_consent": c.pool_consent,
                "pool_consent_at": _iso(c.pool_consent_at),
                "last_contact_at": _iso(c.last_contact_at),
                "created_at": _iso(c.created_at),
            }
            for c in candidates
        ],
        "applications": [
            {
                "reference": a.reference,
                "candidate_id": a.candidate_id,
                "opening": {"reference": a.opening.reference, "title": a.opening.title},
                "status": a.status,
                "status_label": str(a.opening.stage_label(a.status)),
                "internal": a.is_internal,
                "submitted_at": _iso(a.submitted_at),
                "status_changed_at": _iso(a.status_changed_at),
                "closed_at": _iso(a.closed_at),
                "message": a.message,
                "files": {"cv": a.cv.name.rsplit("/", 1)[-1] if a.cv else None,
                          "cover_letter": a.cover_letter.name.rsplit("/", 1)[-1] if a.cover_letter else None},
                "events": [
                    {
                        "at": _iso(e.at),
                        "kind": e.kind,
                        "from_status": e.from_status or None,
                        "to_status": e.to_status or None,
                        "reason": e.reason,
                        "by": None if e.actor_id is None else "recruteur",
                        **(
                            {"message": {"to": e.message_to, "subject": e.message_subject, "body": e.message_body}}
                            if e.kind == "message" else {}
                        ),
                    }
                    for e in a.events.all()
                ],
                "interviews": [
                    {"starts_at": _iso(i.starts_at), "duration_minutes": i.duration_minutes, "location": i.location}
                    for i in a.interviews.all()
                ],
                "scorecards": [
                    {
                        "by": "jury",
                        "scores": {name: getattr(s, name) for name in Scorecard.CRITERIA},
                        "recommendation": str(recommendation_labels.get(s.recommendation, "")) or None,
                        "comment": s.comment,
                        "submitted_at": _iso(s.submitted_at),
                    }
                    for s in a.scorecards.all()
                ],
            }
            for a in applications
        ],
    }


def record_export(application, now=None):
    """Keep a trace that the candidate exercised their right of access (accountability)."""
    return ApplicationEvent.objects.create(
        application=application, kind="note", at=now or timezone.now(),
        reason=_("Export de ses données par le candidat (droit d'accès)"),
    )


# --- erasure ------------------------------------------------------------------------------


def _erase_batch(candidate_ids, *, actor, now, rule):
    """Anonymise these candidate records and their applications in a few bulk queries;
    returns ``{candidate_id: [application references]}``. Call inside a transaction."""
    rows = list(
        Application.objects.filter(candidate_id__in=candidate_ids)
        .order_by("candidate_id", "pk")
        .values_list("pk", "candidate_id", "reference", "status", "cv", "cover_letter")
    )
    reason = _("Effacement des données personnelles (%(rule)s)") % {"rule": RULE_LABELS[rule]}
    # 1. Free text about the person, written by anyone, goes: message copies, notes,
    #    recruiters' reasons, scorecard comments. System reasons ("Candidature déposée",
    #    "Recrutement clos") carry nothing personal and keep the statistics readable.
    events = ApplicationEvent.objects.filter(application__candidate_id__in=candidate_ids)
    events.update(message_subject="", message_body="", message_to="")
    events.filter(Q(kind="move", actor__isnull=False) | ~Q(kind__in=["move", "message", "erasure"])).update(reason="")
    Scorecard.objects.filter(application__candidate_id__in=candidate_ids).update(comment="")
    # 2. An application still in progress is withdrawn (the table's "withdraw", in bulk).
    from recruitment.actions import WithdrawForErasure

    WithdrawForErasure([(pk, status) for pk, _c, _r, status, _cv, _cl in rows], actor=actor, now=now).execute()
    # 3. The applications keep opening, statuses and dates; files and links go.
    Application.objects.filter(candidate_id__in=candidate_ids).update(
        cv="", cover_letter="", message="", self_service_token_hash="", self_service_expires_at=None, anonymised_at=now
    )
    # 4. The person.
    anonymous_email = Concat(Value("anonyme-"), Cast("pk", output_field=CharField()), Value("@invalid"),
                             output_field=CharField())
    Candidate.objects.filter(pk__in=candidate_ids).update(
        first_name=ANONYMOUS_NAME, last_name=ANONYMOUS_NAME, email=anonymous_email, email_normalised=anonymous_email,
        phone="", phone_normalised="", agent=None, duplicate_of=None, pool_consent=False, pool_consent_at=None,
        anonymised_at=now,
    )
    # A link from someone else's record to an anonymised one would re-identify it.
    Candidate.objects.filter(duplicate_of_id__in=candidate_ids).update(duplicate_of=None)
    ApplicationEvent.objects.bulk_create(
        [ApplicationEvent(application_id=pk, kind="erasure", reason=reason, actor=actor, at=now) for pk, *_rest in rows]
    )
    # 5. The files themselves (private storage; a missing file is not an error).
    storage = Application._meta.get_field("cv").storage
    for _pk, _c, _r, _s, cv, letter in rows:
        for name in (cv, letter):
            if name:
                storage.delete(name)
    erased = defaultdict(list)
    for _pk, candidate_id, reference, *_rest in rows:
        erased[candidate_id].append(reference)
    for candidate_id in candidate_ids:
        erased.setdefault(candidate_id, [])
    return dict(erased)


def erase_candidate(candidate, actor=None, now=None, rule=RULE_REQUEST):
    """Erase one candidate record's personal data (files included); idempotent.

    Returns the references of the applications kept anonymously."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Candidate.objects.select_for_update().filter(pk=candidate.pk, anonymised_at__isnull=True).first()
        if locked is None:
            return []
        references = _erase_batch([locked.pk], actor=actor, now=now, rule=rule)[locked.pk]
    candidate.refresh_from_db()
    return references


def erasure_preview(candidate):
    """What ``erase_person`` would erase, for the confirmation step: the person's applications
    (opening, reference, stage, files, in progress or not). Two queries."""
    from recruitment.workflow import IN_PROGRESS

    applications = list(
        Application.objects.filter(candidate__in=person_records(candidate), anonymised_at__isnull=True)
        .select_related("opening")
        .order_by("submitted_at", "pk")
    )
    rows = [
        {
            "reference": a.reference, "title": a.opening.title, "stage": a.opening.stage_label(a.status),
            "in_progress": a.status in IN_PROGRESS, "files": sum(1 for f in (a.cv, a.cover_letter) if f),
        }
        for a in applications
    ]
    return {
        "applications": rows,
        "count": len(rows),
        "in_progress": sum(1 for row in rows if row["in_progress"]),
        "files": sum(row["files"] for row in rows),
    }


def erase_person(candidate, actor=None, now=None):
    """Self-service erasure: every record of the person (see ``person_records``)."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(person_records(candidate).select_for_update().values_list("pk", flat=True))
        erased = _erase_batch(ids, actor=actor, now=now, rule=RULE_REQUEST) if ids else {}
    return erased


# --- retention ----------------------------------------------------------------------------


@dataclass
class PurgeEntry:
    candidate_id: int
    rule: str
    since: datetime | None
    references: list = field(default_factory=list)

    def __str__(self):
        since = timezone.localtime(self.since).date().isoformat() if self.since else "?"
        return f"candidat #{self.candidate_id} [{RULE_LABELS[self.rule]}, depuis le {since}] : {', '.join(self.references) or '-'}"


def _eligible(now):
    """Two querysets of candidate records due for erasure at ``now``."""
    closed_before = months_before(now, RETENTION_MONTHS)
    pool_before = months_before(now, 12 * POOL_YEARS)
    unsuccessful = (
        Candidate.objects.filter(anonymised_at__isnull=True, pool_consent=False)
        .annotate(
            total=Count("applications"),
            done=Count("applications", filter=Q(applications__status__in=UNSUCCESSFUL,
                                                applications__closed_at__lt=closed_before)),
        )
        .filter(total__gt=0, total=F("done"))
    )
    pool = (
        Candidate.objects.filter(anonymised_at__isnull=True, pool_consent=True)
        .filter(Q(last_contact_at__lt=pool_before) | Q(last_contact_at__isnull=True, created_at__lt=pool_before))
        .exclude(applications__status__in=ACTIVE)
    )
    return {RULE_UNSUCCESSFUL: unsuccessful, RULE_POOL: pool}


def due_for_erasure(now=None):
    """What the retention rules would erase at ``now``: one query per rule (applications
    joined to their candidate), streamed; nothing per row."""
    now = now or timezone.now()
    entries = {}
    for rule, queryset in _eligible(now).items():
        rows = (
            Application.objects.filter(candidate_id__in=queryset.values("pk"))
            .order_by("candidate_id", "pk")
            .values_list("candidate_id", "reference", "closed_at", "candidate__last_contact_at", "candidate__created_at")
            .iterator(chunk_size=2000)
        )
        for candidate_id, reference, closed_at, last_contact_at, created_at in rows:
            entry = entries.get(candidate_id)
            if entry is None:
                since = closed_at if rule == RULE_UNSUCCESSFUL else (last_contact_at or created_at)
                entry = entries[candidate_id] = PurgeEntry(candidate_id, rule, since)
            entry.references.append(reference)
            if rule == RULE_UNSUCCESSFUL and closed_at and (entry.since is None or closed_at > entry.since):
                entry.since = closed_at  # the latest end of process counts
    return sorted(entries.values(), key=lambda e: e.candidate_id)


def purge(now=None, dry_run=False, actor=None, batch_size=BATCH_SIZE):
    """Apply the retention rules; returns the ``PurgeEntry`` list of what was (or, with
    ``dry_run``, would be) erased. Eligibility is checked again under lock, batch by batch,
    so a record reopened meanwhile is left alone."""
    now = now or timezone.now()
    entries = due_for_erasure(now)
    if dry_run or not entries:
        return entries
    done = []
    by_rule = defaultdict(list)
    for entry in entries:
        by_rule[entry.rule].append(entry)
    for rule, rule_entries in by_rule.items():
        for start in range(0, len(rule_entries), batch_size):
            batch = {e.candidate_id: e for e in rule_entries[start:start + batch_size]}
            with transaction.atomic():
                # Lock the plain rows first (PostgreSQL refuses FOR UPDATE with GROUP BY),
                # then check the rule again.
                list(Candidate.objects.select_for_update().filter(pk__in=list(batch)).values_list("pk", flat=True))
                still = list(_eligible(now)[rule].filter(pk__in=list(batch)).values_list("pk", flat=True))
                if still:
                    _erase_batch(still, actor=actor, now=now, rule=rule)
            done.extend(batch[pk] for pk in still)
    return sorted(done, key=lambda e: e.candidate_id)

