"""The moves of an application, declared as data (``cms.actions.TransitionTable``).

The pipeline is received → (admissibility →) screening → (shortlisted →) interview →
(decision →) offer → hired. The stages in brackets are optional: a move forward may skip
them, never a required one (screening, interview, offer). So an application never jumps
from "received" to the interview, the decision, the offer or the hire. ``FORWARD`` lists
every forward move explicitly:

================  ==========================================
from              forward to
================  ==========================================
received          admissibility, screening
admissibility     screening
screening         shortlisted, interview
shortlisted       interview
interview         decision, offer
decision          offer
offer             hired
================  ==========================================

And from any stage still in progress (received … offer):

- back to any earlier stage ("back", reason required);
- rejected ("reject", reason required; the rejection message leaves after commit);
- withdrawn ("withdraw": the candidate only, through their personal link, no user);
- cancelled ("cancel": only by closing the opening, for all its applications at once);
- from the offer only: offer declined ("decline_offer").

A closed application (rejected, withdrawn, offer declined, cancelled) may be reopened at
any stage in progress ("reopen", reason required). Hired is final.

Actors: ``RECRUITER`` (listed on the opening) and ``HR`` move; ``CANDIDATE`` withdraws.
``recruitment.permissions.roles_on`` says which roles a user holds on an opening. Each
pair (from, to) is at most one transition: ``MOVES.between(from, to)``; ``refusal(from,
to)`` is the sentence for a pair the table does not declare.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cms.actions import Transition, TransitionTable
from recruitment.choices import ApplicationStatus as S

RECRUITER, HR, CANDIDATE = "recruiter", "hr", "candidate"
MANAGERS = frozenset({RECRUITER, HR})

#: Stages in progress, in pipeline order (everything but hired and the closed statuses).
IN_PROGRESS = (S.RECEIVED, S.ADMISSIBILITY, S.SCREENING, S.SHORTLISTED, S.INTERVIEW, S.DECISION, S.OFFER)
#: Closed without a hire: may be reopened.
CLOSED = (S.REJECTED, S.WITHDRAWN, S.OFFER_DECLINED, S.CANCELLED)
#: Stages a move forward may skip.
OPTIONAL = frozenset({S.ADMISSIBILITY, S.SHORTLISTED, S.DECISION})

#: Every forward move (the next stage, or a later one over optional stages only).
FORWARD = {
    S.RECEIVED: (S.ADMISSIBILITY, S.SCREENING),
    S.ADMISSIBILITY: (S.SCREENING,),
    S.SCREENING: (S.SHORTLISTED, S.INTERVIEW),
    S.SHORTLISTED: (S.INTERVIEW,),
    S.INTERVIEW: (S.DECISION, S.OFFER),
    S.DECISION: (S.OFFER,),
    S.OFFER: (S.HIRED,),
}


def _transitions():
    for source, targets in FORWARD.items():
        for target in targets:
            yield Transition("hire" if target == S.HIRED else "advance", {source}, target, MANAGERS)
    for index, target in enumerate(IN_PROGRESS):
        later = IN_PROGRESS[index + 1 :]
        if later:
            yield Transition("back", later, target, MANAGERS, reason_required=True)
    yield Transition("reject", IN_PROGRESS, S.REJECTED, MANAGERS, reason_required=True)
    yield Transition("decline_offer", {S.OFFER}, S.OFFER_DECLINED, MANAGERS)
    yield Transition("withdraw", IN_PROGRESS, S.WITHDRAWN, {CANDIDATE})
    yield Transition("cancel", IN_PROGRESS, S.CANCELLED, MANAGERS)
    for target in IN_PROGRESS:
        yield Transition("reopen", CLOSED, target, MANAGERS, reason_required=True)


MOVES = TransitionTable(S, _transitions())

#: The transitions a recruiter takes one application at a time (``actions.Move``).
RECRUITER_MOVES = frozenset({"advance", "hire", "back", "reject", "decline_offer", "reopen"})

#: What a missing reason is called, per transition.
REASON_REQUIRED = {
    "reject": gettext_lazy("Le motif du refus est obligatoire."),
    "back": gettext_lazy("Un retour à une étape précédente exige un motif."),
    "reopen": gettext_lazy("La réouverture d'une candidature close exige un motif."),
}


def targets(status, names=RECRUITER_MOVES):
    """The statuses an application in ``status`` may be moved to by a recruiter, in the
    table's order (forward first, then back, then the closing moves)."""
    return [t.target for t in MOVES if status in t.sources and t.name in names]


def card_moves(status, label=None, names=RECRUITER_MOVES):
    """The moves offered on a board card in ``status``: ``(forward, other)``, two lists of
    ``{"status", "label", "name", "reason_required"}`` in the table's order (forward: advance
    and hire; other: back, reject, offer declined, reopen). ``label`` names a stage."""
    label = label or stage_label
    forward, other = [], []
    for t in MOVES:
        if status in t.sources and t.name in names:
            move = {"status": t.target, "label": label(t.target), "name": t.name, "reason_required": t.reason_required}
            (forward if t.name in ("advance", "hire") else other).append(move)
    return forward, other


def stage_label(status):
    return S(status).label


def refusal(source, target, label=stage_label):
    """Why the table has no move from ``source`` to ``target`` (``label``: how a stage is
    named, e.g. the opening's renamed stages)."""
    if source == target:
        return _("La candidature est déjà à l'étape « %(s)s ».") % {"s": label(source)}
    if source == S.HIRED:
        return _("Une candidature recrutée ne peut plus changer d'étape.")
    if target == S.WITHDRAWN:
        return _("Seul le candidat peut retirer sa candidature.")
    if target == S.CANCELLED:
        return _("Les candidatures sont annulées en clôturant le recrutement.")
    if target == S.OFFER_DECLINED:
        return _("Seule une candidature à l'étape « %(offer)s » peut voir la proposition déclinée.") % {
            "offer": label(S.OFFER)
        }
    if target == S.HIRED:
        return _("Un recrutement suit une proposition : placez d'abord la candidature à l'étape « %(offer)s ».") % {
            "offer": label(S.OFFER)
        }
    if source in CLOSED and target == S.REJECTED:
        return _("Cette candidature est déjà close.")
    if source in IN_PROGRESS and target in IN_PROGRESS:
        start, end = IN_PROGRESS.index(source), IN_PROGRESS.index(target)
        skipped = [s for s in IN_PROGRESS[start + 1 : end] if s not in OPTIONAL]
        if skipped:
            return _("La candidature ne peut pas passer de « %(from)s » à « %(to)s » sans passer par l'étape « %(skipped)s ».") % {
                "from": label(source), "to": label(target), "skipped": label(skipped[0])
            }
    return _("La candidature ne peut pas passer de « %(from)s » à « %(to)s ».") % {"from": label(source), "to": label(target)}
