"""Demo content of the appraisal app for ``manage.py seed_demo`` (seeder "appraisal.campaign").

:func:`seed_appraisal` ensures the default template, creates this year's campaign over the
whole organisation (started 75 days ago, interviews until 45 days from now) and launches it
with ``services.launch_campaign`` (bulk). Then:

* **The demo logins' stories**, played through the actions (appraisal/actions.py) with explicit ``now``
  values in the past so that every guard passes as it would have on those days (8 days'
  notice, hold after the interview, notification within 15 days, revision window):

  - ``agent``: evaluated by ``manager``: **notified** three days ago (to read, comment and
    sign), and last year's report **final** (campaign of last year over the agent's unit,
    :func:`last_year_final`), listed with its PDF on the agent's page;
  - ``manager``'s other reports: one convoked (interview to come), one convoked whose
    interview has taken place (to declare held), one held with a draft to finish, one
    notified (waiting for the agent), two acknowledged (waiting for ``reviewer``'s visa),
    one final whose agent requested a revision (``reviewer`` answers), one cancelled by
    ``hr``; the others stay to convoke;
  - ``manager``'s own appraisal is convoked by ``reviewer`` (interview in a few days).

  E-mails are not sent for these back-dated actions (``notify=False``); the final reports
  are archived by the ``archive_appraisal`` task once the seeding has committed.
* **Every other appraisal**: a realistic scatter of states applied with a few bulk
  ``UPDATE`` statements per state and date slice, the matching ``AppraisalTransition``
  rows and, from the notification on, the frozen ``AppraisalVersion`` with its content hash,
  inserted in batches. No per-appraisal call: 55,000 agents take a few seconds. Appraisals of the
  demo logins' teams (as evaluator or reviewer) are left out, so that their queues are
  exactly the stories above.

Idempotent: the campaign is keyed by (name, year); once it is launched, a second run
changes nothing. Report texts are French demo content (not run through gettext), like a
report an evaluator would write.
"""

import time
from datetime import timedelta
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import ngettext

from appraisal import services, workflow
from appraisal.actions import ACTIONS, CloseCampaign
from appraisal.choices import AppraisalState as S
from appraisal.choices import CampaignStatus
from appraisal.choices import RevisionState as R
from appraisal.defaults import ensure_default_template
from appraisal.models import Appraisal, AppraisalTransition, AppraisalVersion, Campaign
from cms.models import OrgUnit

CAMPAIGN_NAME = "Entretiens professionnels annuels"
STARTED_DAYS_AGO = 75
INTERVIEWS_UNTIL_IN_DAYS = 45
ENDS_IN_DAYS = 90
PLACE = "Bureau du responsable, 3e étage"

# Share (in %) of each state among the other appraisals.
PROFILE = (
    (S.CREATED, 30),
    (S.CONVOKED, 17),
    (S.HELD, 12),
    (S.NOTIFIED, 9),
    (S.ACKNOWLEDGED, 8),
    (S.FINAL, 22),
    (S.CANCELLED, 2),
)
DATE_SLICES = 10  # distinct dates per state
UPDATE_BATCH = 900  # ids per UPDATE (below SQLite's 999 parameters)
INSERT_BATCH = 2000

SERVICE_TEXTS = (
    "Agent rigoureux et fiable, attentif à la qualité du service rendu aux usagers. Respecte les délais "
    "et signale les difficultés à temps.",
    "Très bonne implication dans l'équipe ; disponible et solidaire lors des pics d'activité. Sens du "
    "service public affirmé.",
    "Travail sérieux et régulier. Doit encore gagner en autonomie sur les dossiers complexes, en "
    "s'appuyant davantage sur les ressources de l'équipe.",
    "Accueil des usagers de grande qualité, y compris dans les situations tendues. Ponctualité et "
    "assiduité exemplaires.",
)
EXPERIENCE_TEXTS = (
    "Prise en main du nouveau logiciel métier et tutorat d'un collègue arrivé en cours d'année.",
    "Participation au groupe de travail sur la simplification des procédures ; bonne connaissance de la "
    "réglementation acquise.",
    "Conduite d'un premier projet transversal avec les services techniques.",
)
CAREER_TEXTS = (
    "Souhaite préparer le concours interne de la catégorie supérieure dans les deux ans.",
    "Pas de souhait de mobilité à court terme ; intérêt pour des missions de tutorat.",
    "Envisage une mobilité vers une direction territoriale d'ici trois ans.",
)
OVERALL_TEXTS = (
    "Très bonne année : les objectifs fixés ont été atteints et l'agent s'est pleinement investi dans les "
    "projets du service. Sa valeur professionnelle est reconnue par l'équipe comme par les usagers.",
    "Année satisfaisante. L'agent maîtrise les missions de son poste ; l'autonomie sur les dossiers les plus "
    "complexes reste l'axe de progrès de l'année à venir.",
    "Année de qualité, marquée par une forte adaptabilité à la réorganisation du service. L'agent a su "
    "conserver un haut niveau d'exigence tout en aidant ses collègues.",
    "Bonne année dans l'ensemble, avec une réelle progression au second semestre. Les efforts engagés "
    "doivent être poursuivis, notamment sur l'organisation du travail.",
)
OBSERVATIONS = (
    "",
    "Entretien constructif ; je remercie mon responsable pour son écoute.",
    "Je souhaite que ma demande de formation à la préparation du concours soit retenue cette année.",
    "",
)
CANCEL_REASONS = (
    "Départ de la collectivité (mutation) avant la tenue de l'entretien.",
    "Agent placé en disponibilité depuis le début de la campagne.",
    "Congé de longue maladie couvrant toute la période de la campagne.",
)
LEVELS = ("lvl-3", "lvl-3", "lvl-4", "lvl-2")


# --------------------------------------------------------------------------- helpers


def _at(now, days_ago, hour=10, minute=0):
    """A local moment ``days_ago`` days before ``now`` (negative: in the future)."""
    local = timezone.localtime(now).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local - timedelta(days=days_ago)


def _pick(texts, variant):
    return texts[variant % len(texts)]


def demo_answers(snapshot, variant=0, *, objectives=(), needs=(), partial=False):
    """A filled compte rendu for the campaign's frozen template (answers format of
    ``Appraisal.answers``: one key per section id). ``partial``: a draft in progress (the
    manière de servir only)."""
    answers = {}
    for section in snapshot:
        kind, sid, spec = section["type"], section["id"], section.get("value") or {}
        if partial and not (kind == "free_text" and spec.get("required")):
            continue
        if kind == "criteria_grid":
            levels = [level["id"] for level in spec.get("scale") or []]
            grid = {}
            for index, criterion in enumerate(spec.get("criteria") or []):
                wanted = LEVELS[(variant + index) % len(LEVELS)]
                level = wanted if wanted in levels else (levels[len(levels) // 2] if levels else "")
                grid[criterion["id"]] = {"level": level, "comment": ""}
            answers[sid] = grid
        elif kind == "free_text":
            if sid == "sec-experience":
                answers[sid] = _pick(EXPERIENCE_TEXTS, variant)
            elif sid == "sec-management":
                continue  # only for agents who manage: left empty
            else:
                answers[sid] = _pick(SERVICE_TEXTS, variant)
        elif kind == "career":
            answers[sid] = _pick(CAREER_TEXTS, variant)
        elif kind == "overall":
            answers[sid] = _pick(OVERALL_TEXTS, variant)
        elif kind == "objectives" and objectives:
            answers[sid] = [dict(o) for o in objectives]
        elif kind == "training_needs" and needs:
            answers[sid] = [dict(n) for n in needs]
    return answers


def _course_id(slug):
    """A published course of the learning demo, to name as a training need (or None)."""
    try:
        from learning.models import CoursePage
    except ImportError:  # pragma: no cover - learning is installed with the project
        return None
    return CoursePage.objects.live().filter(slug=slug).values_list("pk", flat=True).first()


# --------------------------------------------------------------------------- campaign


def ensure_campaign(context, template, now):
    """This year's campaign over the whole organisation; returns (campaign, created)."""
    today = timezone.localdate(now)
    campaign = Campaign.objects.filter(name=CAMPAIGN_NAME, year=today.year).first()
    if campaign is not None:
        return campaign, False
    campaign = Campaign.objects.create(
        name=CAMPAIGN_NAME,
        year=today.year,
        template=template,
        starts_on=today - timedelta(days=STARTED_DAYS_AGO),
        interviews_until=today + timedelta(days=INTERVIEWS_UNTIL_IN_DAYS),
        ends_on=today + timedelta(days=ENDS_IN_DAYS),
    )
    roots = [context.org_root] if context.org_root is not None else list(OrgUnit.get_root_nodes())
    campaign.org_units.set(roots)
    return campaign, True


# --------------------------------------------------------------------------- demo logins


class Stories:
    """The demo logins' appraisals, played through the actions in the past, without e-mails."""

    def __init__(self, campaign, context, now):
        self.campaign = campaign
        self.context = context
        self.now = now
        self.touched = []
        self.finals = []
        self.hr_user = context.users.get("hr")

    def act(self, appraisal, action, user, days_ago, hour=10, minute=0, **params):
        ACTIONS[action](
            appraisal.pk, user=user, params=params, now=_at(self.now, days_ago, hour, minute), notify=False
        ).execute()

    def convoke(self, appraisal, days_ago, interview_days_ago, hour=10):
        self.act(
            appraisal, "convoke", appraisal.evaluator.user, days_ago, 9, 0,
            interview_at=_at(self.now, interview_days_ago, hour), place=PLACE,
        )

    def to_held(self, appraisal, convoke_ago, interview_ago, answers):
        self.convoke(appraisal, convoke_ago, interview_ago)
        self.act(appraisal, "hold", appraisal.evaluator.user, interview_ago, 11, 30)
        if answers:
            services.save_draft(appraisal_id=appraisal.pk, actor=appraisal.evaluator.user, answers=answers)

    def to_notified(self, appraisal, convoke_ago, interview_ago, notify_ago, answers):
        self.to_held(appraisal, convoke_ago, interview_ago, answers)
        self.act(appraisal, "notify", appraisal.evaluator.user, notify_ago, 16, 0)

    def to_acknowledged(self, appraisal, convoke_ago, interview_ago, notify_ago, ack_ago, answers, observations=""):
        self.to_notified(appraisal, convoke_ago, interview_ago, notify_ago, answers)
        self.act(appraisal, "acknowledge", appraisal.agent.user, ack_ago, 14, 0, observations=observations)

    def to_final(self, appraisal, convoke_ago, interview_ago, notify_ago, ack_ago, visa_ago, answers, observations=""):
        self.to_acknowledged(appraisal, convoke_ago, interview_ago, notify_ago, ack_ago, answers, observations)
        self.act(appraisal, "visa", appraisal.reviewer.user, visa_ago, 17, 0)
        self.finals.append(appraisal.pk)

    def play(self):
        agents = self.context.agents
        agent, manager = agents.get("agent"), agents.get("manager")
        appraisals = Appraisal.objects.filter(campaign=self.campaign).select_related(
            "agent__user", "evaluator__user", "reviewer__user"
        )
        snapshot = self.campaign.template_snapshot
        if agent is not None:
            mine = appraisals.filter(agent=agent, state=S.CREATED).first()
            if mine is not None and mine.reviewer_id:
                objectives = [
                    {
                        "title": "Mettre en place le suivi dématérialisé des demandes des usagers",
                        "indicators": "100 % des demandes enregistrées dans l'outil ; délai moyen de réponse < 10 jours",
                        "due_on": _at(self.now, -240).date().isoformat(),
                    },
                    {
                        "title": "Former deux collègues à la nouvelle procédure de paiement",
                        "indicators": "Deux sessions réalisées ; procédure écrite et partagée",
                        "due_on": _at(self.now, -150).date().isoformat(),
                    },
                ]
                needs = [{"course": _course_id("cybersecurite"), "text": "Sensibilisation à la cybersécurité"}]
                answers = demo_answers(snapshot, 0, objectives=objectives, needs=needs)
                # notified three days ago: the agent reads it, writes observations and signs
                self.to_notified(mine, 20, 10, 3, answers)
                self.touched.append(mine.pk)
        if manager is not None:
            demo_ids = [a.pk for a in agents.values()]  # the demo logins keep their own story
            self.play_team(appraisals, manager, snapshot, exclude=demo_ids)
            own = appraisals.filter(agent=manager, state=S.CREATED).first()
            if own is not None:
                self.convoke(own, 3, -6, hour=15)  # the manager's own interview, with the reviewer, in six days
                self.touched.append(own.pk)
        return self.touched

    def play_team(self, appraisals, manager, snapshot, exclude):
        team = list(
            appraisals.filter(evaluator=manager, state=S.CREATED, reviewer__isnull=False)
            .exclude(agent_id__in=exclude)
            .order_by("agent__employee_number")
        )
        steps = [
            lambda a, v: self.convoke(a, 2, -9, hour=14),  # interview to come
            lambda a, v: self.convoke(a, 12, 2, hour=9),  # interview passed: to declare held
            lambda a, v: self.to_held(a, 16, 6, demo_answers(snapshot, v, partial=True)),  # draft to finish
            lambda a, v: self.to_notified(a, 18, 9, 4, demo_answers(snapshot, v)),  # waiting for the agent
            lambda a, v: self.to_acknowledged(a, 20, 11, 8, 6, demo_answers(snapshot, v), _pick(OBSERVATIONS, v)),
            lambda a, v: self.to_acknowledged(a, 19, 10, 7, 4, demo_answers(snapshot, v), _pick(OBSERVATIONS, v)),
            self.final_with_revision,
            self.cancelled,
        ]
        for variant, (appraisal, step) in enumerate(zip(team, steps, strict=False)):
            step(appraisal, variant)
            self.touched.append(appraisal.pk)

    def final_with_revision(self, appraisal, variant):
        self.to_final(appraisal, 24, 14, 9, 7, 5, demo_answers(self.campaign.template_snapshot, variant))
        self.act(
            appraisal, "request_revision", appraisal.agent.user, 2, 11, 0,
            reason="L'appréciation de la manière de servir ne tient pas compte de l'intérim assuré pendant trois "
            "mois au printemps. Je demande qu'elle soit complétée.",
        )

    def cancelled(self, appraisal, variant):
        if self.hr_user is None:
            return
        self.act(appraisal, "cancel", self.hr_user, 20, 15, 0, reason=_pick(CANCEL_REASONS, variant))


def last_year_final(context, template, now):
    """Last year's campaign for the demo ``agent``'s unit, over and closed: the agent's report
    final (played through the actions on last year's dates, so that the agent's page lists a
    past report and this year's launch carries its objectives over), the unit's other reports
    final too, in bulk like the scatter (``Scatter`` on last year's dates: convoked, held,
    notified, signed, visa), then the campaign closed by ``hr`` (``actions.CloseCampaign``), so
    that its reports leave the evaluators' lists and the late lists. Returns the campaign or None."""
    agent = context.agents.get("agent")
    hr_user = context.users.get("hr")
    if agent is None or agent.manager_id is None:
        return None
    today = timezone.localdate(now)
    campaign, created = Campaign.objects.get_or_create(
        name=CAMPAIGN_NAME,
        year=today.year - 1,
        defaults={
            "template": template,
            "starts_on": today - timedelta(days=STARTED_DAYS_AGO + 365),
            "interviews_until": today - timedelta(days=365 - INTERVIEWS_UNTIL_IN_DAYS),
            "ends_on": today - timedelta(days=365 - ENDS_IN_DAYS),
        },
    )
    if not created:
        return campaign
    campaign.org_units.set([agent.org_unit])
    if agent.category:
        Campaign.objects.filter(pk=campaign.pk).update(categories=[agent.category])
    services.launch_campaign(campaign_id=campaign.pk, actor=hr_user)
    campaign.refresh_from_db()
    stories = Stories(campaign, context, now)
    rows = Appraisal.objects.filter(campaign=campaign).select_related("agent__user", "evaluator__user", "reviewer__user")
    mine = rows.filter(agent=agent, reviewer__isnull=False).first()
    if mine is not None:
        objectives = [
            {
                "title": "Réduire le délai de traitement des dossiers de formation",
                "indicators": "Délai moyen inférieur à 15 jours",
                "due_on": _at(now, 100).date().isoformat(),
            },
        ]
        answers = demo_answers(campaign.template_snapshot, 1, objectives=objectives)
        stories.to_final(mine, 385, 375, 370, 366, 362, answers, observations=_pick(OBSERVATIONS, 1))
    # The others: final, in bulk with their transitions and versions, on last year's dates.
    others = rows.exclude(pk=getattr(mine, "pk", None)).filter(state=S.CREATED)
    scatter = Scatter(campaign, context.rng, now - timedelta(days=365), hr_user_id=getattr(hr_user, "pk", None))
    scatter.apply(
        list(
            others.filter(reviewer__isnull=False)
            .order_by("pk")
            .values_list("pk", "agent_id", "agent__user_id", "evaluator__user_id", "reviewer__user_id")
        ),
        profile=((S.FINAL, 100),),
    )
    # Without a reviewer no visa can be put: such reports were handled outside the application.
    unreviewed = list(others.filter(reviewer__isnull=True).values_list("pk", flat=True))
    _declared("cancel", S.CREATED, S.CANCELLED)
    reason, moment = "Entretien conduit sur support papier (pas d'autorité hiérarchique désignée).", _at(now, 390, 9)
    for chunk in _chunks(unreviewed, UPDATE_BATCH):
        Appraisal.objects.filter(pk__in=chunk).update(state=S.CANCELLED, cancelled_reason=reason, updated_at=moment)
    at = _db_value(AppraisalTransition, "at", moment)
    hr_id = getattr(hr_user, "pk", None)
    _insert(
        AppraisalTransition, TRANSITION_COLUMNS,
        [(pk, "cancel", S.CREATED, S.CANCELLED, hr_id, at, reason, 1, "") for pk in unreviewed],
    )  # fmt: skip
    if hr_user is not None:
        closed_on = _at(now, 365 - ENDS_IN_DAYS, 17)
        campaign = CloseCampaign(campaign.pk, user=hr_user, now=closed_on, notify=False).execute()
    return campaign


# --------------------------------------------------------------------------- bulk


def _slices(items, count):
    size = max(1, -(-len(items) // count))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Scatter:
    """Realistic states for the appraisals nobody plays by hand, in bulk."""

    def __init__(self, campaign, rng, now, hr_user_id=None):
        self.campaign = campaign
        self.rng = rng
        self.now = now
        self.hr_user_id = hr_user_id
        self.transitions = []
        self.counts = {}

    def rows(self, exclude_ids, demo_agent_ids):
        return list(
            Appraisal.objects.filter(campaign=self.campaign, state=S.CREATED, reviewer__isnull=False)
            .exclude(pk__in=exclude_ids)
            .exclude(agent_id__in=demo_agent_ids)
            .exclude(evaluator_id__in=demo_agent_ids)
            .exclude(reviewer_id__in=demo_agent_ids)
            .order_by("pk")
            .values_list("pk", "agent_id", "agent__user_id", "evaluator__user_id", "reviewer__user_id")
        )

    def dates(self, state):
        """Moments of one date slice (days ago; hours vary)."""
        r = self.rng.randint
        if state == S.CONVOKED:
            convoked = r(1, 30)
            return {"convoked": _at(self.now, convoked, 8, r(0, 59)), "interview": _at(self.now, convoked - r(8, 25), r(9, 16))}
        if state == S.CANCELLED:
            return {"cancelled": _at(self.now, r(5, 60), r(9, 17))}
        low = {S.HELD: 15, S.NOTIFIED: 22, S.ACKNOWLEDGED: 28, S.FINAL: 35}[state]
        convoked = r(low, 72)
        interview = convoked - r(8, min(14, convoked - 1))
        moments = {
            "convoked": _at(self.now, convoked, 8, r(0, 59)),
            "interview": _at(self.now, interview, r(9, 15)),
        }
        moments["held"] = moments["interview"] + timedelta(hours=1)
        notified = interview - r(1, 6)
        if state in (S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL):
            moments["notified"] = _at(self.now, notified, r(14, 17))
        if state in (S.ACKNOWLEDGED, S.FINAL):
            acknowledged = max(notified - r(1, 5), 2)
            moments["acknowledged"] = _at(self.now, acknowledged, r(9, 17))
            if state == S.FINAL:
                moments["visa"] = _at(self.now, max(acknowledged - r(1, 6), 1), r(9, 17))
        return moments

    @transaction.atomic
    def apply(self, rows, profile=PROFILE):
        """One transaction: all the states or none (and no commit per inserted row).
        ``profile``: the share (in %) of each state, ``PROFILE`` by default."""
        self.rng.shuffle(rows)
        start, cumulative = 0, 0
        for state, share in profile:
            cumulative += share
            end = round(len(rows) * cumulative / 100)
            group, start = rows[start:end], end
            if state == S.CREATED or not group:
                self.counts[state] = self.counts.get(state, 0) + len(group)
                continue
            for number, slice_rows in enumerate(_slices(group, DATE_SLICES)):
                self.apply_slice(state, slice_rows, number)
            self.counts[state] = len(group)
        self.flush()
        return self.counts

    def apply_slice(self, state, rows, variant):
        moments = self.dates(state)
        at = {name: _db_value(AppraisalTransition, "at", moment) for name, moment in moments.items()}
        if state == S.CANCELLED:
            _declared("cancel", S.CREATED, S.CANCELLED)
            reason = _pick(CANCEL_REASONS, variant)
            self.update(rows, {"state": S.CANCELLED, "cancelled_reason": reason, "updated_at": moments["cancelled"]})
            self.transitions += [
                (pk, "cancel", S.CREATED, S.CANCELLED, self.hr_user_id, at["cancelled"], reason, 1, "")
                for pk, *_users in rows
            ]
            return
        frozen = state in (S.NOTIFIED, S.ACKNOWLEDGED, S.FINAL)
        answers = demo_answers(self.campaign.template_snapshot, variant, partial=state == S.HELD)
        observations = _pick(OBSERVATIONS, variant) if state in (S.ACKNOWLEDGED, S.FINAL) else ""
        values = {
            "state": state,
            "convoked_at": moments["convoked"],
            "interview_at": moments["interview"],
            "interview_place": PLACE,
            "updated_at": max(m for m in moments.values() if m <= self.now),
        }
        if state != S.CONVOKED:
            values.update(held_at=moments["held"], answers=answers)
        if frozen:
            values.update(notified_at=moments["notified"], evaluator_signed_at=moments["notified"])
        if state in (S.ACKNOWLEDGED, S.FINAL):
            values.update(agent_signed_at=moments["acknowledged"], observations=observations)
        if state == S.FINAL:
            values["visa_at"] = moments["visa"]
        digests = {}
        if frozen:  # the frozen versions first: the UPDATE copies their hash
            stored_answers = _db_value(AppraisalVersion, "answers", answers)
            no_objectives = _db_value(AppraisalVersion, "objectives", [])
            signed_at = _db_value(AppraisalVersion, "signed_at", moments["notified"])
            versions = []
            for pk, agent_id, _agent_user, evaluator_user, _reviewer_user in rows:
                row = SimpleNamespace(pk=pk, campaign_id=self.campaign.pk, agent_id=agent_id, version=1, answers=answers)
                digests[pk] = workflow.content_hash(row, [])
                versions.append((pk, 1, stored_answers, no_objectives, digests[pk], evaluator_user, signed_at))
            _insert(AppraisalVersion, VERSION_COLUMNS, versions)
            values["content_hash"] = Subquery(
                AppraisalVersion.objects.filter(appraisal=OuterRef("pk"), number=1).values("content_hash")[:1]
            )
        self.update(rows, values)

        steps = [("convoke", S.CREATED, S.CONVOKED, "convoked", "evaluator")]
        if state != S.CONVOKED:
            steps.append(("hold", S.CONVOKED, S.HELD, "held", "evaluator"))
        if frozen:
            steps.append(("notify", S.HELD, S.NOTIFIED, "notified", "evaluator"))
        if state in (S.ACKNOWLEDGED, S.FINAL):
            steps.append(("acknowledge", S.NOTIFIED, S.ACKNOWLEDGED, "acknowledged", "agent"))
        if state == S.FINAL:
            steps.append(("visa", S.ACKNOWLEDGED, S.FINAL, "visa", "reviewer"))
        for action, before, after, _moment, _who in steps:
            _declared(action, before, after)
        for pk, _agent_id, agent_user, evaluator_user, reviewer_user in rows:
            users = {"agent": agent_user, "evaluator": evaluator_user, "reviewer": reviewer_user}
            digest = digests.get(pk, "")
            for action, before, after, moment, who in steps:
                signed = digest if moment not in ("convoked", "held") else ""
                self.transitions.append((pk, action, before, after, users[who], at[moment], "", 1, signed))
        if len(self.transitions) >= 10 * INSERT_BATCH:
            self.flush()

    def update(self, rows, values):
        ids = [row[0] for row in rows]
        for chunk in _chunks(ids, UPDATE_BATCH):
            Appraisal.objects.filter(pk__in=chunk).update(**values)

    def flush(self):
        if self.transitions:
            _insert(AppraisalTransition, TRANSITION_COLUMNS, self.transitions)
            self.transitions = []


TRANSITION_COLUMNS = ("appraisal", "action", "from_state", "to_state", "actor", "at", "note", "version", "content_hash")
VERSION_COLUMNS = ("appraisal", "number", "answers", "objectives", "content_hash", "signed_by", "signed_at")


def _db_value(model, name, value):
    """A value as the database expects it (dates, JSON), prepared once per slice."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _insert(model, names, rows):
    """Append-only rows, ``rows`` holding database-ready values in ``names`` order: ``COPY`` on
    PostgreSQL, else one prepared ``INSERT`` run with ``executemany``. The ORM's
    ``bulk_create`` spends most of its time building per-row SQL and model instances (several
    times slower at 55,000 appraisals)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
        for chunk in _chunks(rows, INSERT_BATCH * 5):
            cursor.executemany(sql, chunk)


# --------------------------------------------------------------------------- seeder


def seed_appraisal(context):
    now = timezone.now()
    template = ensure_default_template()
    campaign, created = ensure_campaign(context, template, now)
    if not created and campaign.status != CampaignStatus.DRAFT:
        context.log(f"  campagne « {campaign} » déjà en place : rien de nouveau")
        return {"campaign": campaign, "created": False}

    hr_user = context.users.get("hr")
    with transaction.atomic():
        previous = last_year_final(context, template, now)  # first: this year's launch carries its objectives
        if previous is not None:
            context.log(
                f"  campagne « {previous} » : comptes rendus définitifs (dont celui de l'agent de démonstration), "
                + ("campagne clôturée" if previous.status == CampaignStatus.CLOSED else "campagne en cours")
            )
        started = time.perf_counter()
        launched = services.launch_campaign(campaign_id=campaign.pk, actor=hr_user)
        launched_at = _at(now, STARTED_DAYS_AGO, 8, 30)
        Campaign.objects.filter(pk=campaign.pk).update(launched_at=launched_at)
        Appraisal.objects.filter(campaign=campaign).update(created_at=launched_at)
        campaign.refresh_from_db()
        report = launched.launch_report
        context.log(
            f"  campagne « {campaign} » lancée : "
            + ngettext("%(count)s entretien", "%(count)s entretiens", report["created"]) % {"count": report["created"]}
            + ", "
            + ngettext(
                "%(count)s agent sans responsable", "%(count)s agents sans responsable", len(report["without_manager"])
            )
            % {"count": len(report["without_manager"])}
            + f" ({time.perf_counter() - started:.1f} s)"
        )

        stories = Stories(campaign, context, now)
        touched = stories.play()  # back-dated: no e-mails (they would be misleading)
        finals = list(stories.finals) + list(
            Appraisal.objects.filter(campaign=previous, state=S.FINAL, agent=context.agents.get("agent"))
            .values_list("pk", flat=True) if previous else []
        )
        if finals:
            from appraisal import tasks

            transaction.on_commit(lambda: [tasks.archive_appraisal.enqueue(pk) for pk in finals])

        started = time.perf_counter()
        demo_ids = [agent.pk for agent in context.agents.values()]
        scatter = Scatter(campaign, context.rng, now, hr_user_id=getattr(hr_user, "pk", None))
        counts = scatter.apply(scatter.rows(touched, demo_ids))
        context.log(
            "  états : "
            + ", ".join(f"{S(state).label.lower()} {counts.get(state, 0)}" for state, _share in PROFILE)
            + f" ({time.perf_counter() - started:.1f} s)"
        )
    return {"campaign": campaign, "created": True, "stories": touched, "counts": counts}


def _declared(action, before, after):
    """The bulk history the demo writes follows the workflow's table, like the actions do."""
    transition = workflow.TABLE.find(action, before, R.NONE)
    if transition is None or (transition.target or before) != after:
        raise ValueError(f"demo history {action}: {before} → {after} is not declared in appraisal.workflow.TABLE")
