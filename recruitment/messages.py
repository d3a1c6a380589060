"""The placeholders of recruitment message templates (``MessageTemplate``): the one list,
used to validate a template when it is saved, to write the help text of the admin form,
by docs/recruitment-messages.md (a test keeps them in step) and to fill the messages.

A template is filled by ``cms.placeholders.substitute`` over plain strings computed here
from the application; the template engine never sees a recruiter's text, so a template can
neither read an object's attributes nor run a tag. Nothing here imports the models: the
functions take the instances they describe.
"""

from django.utils import formats, timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cms import placeholders

# name → what it becomes (French first; shown in the admin and the documentation).
PLACEHOLDERS = {
    "candidat_prenom": gettext_lazy("prénom du candidat"),
    "candidat_nom": gettext_lazy("nom de famille du candidat"),
    "candidature_reference": gettext_lazy("référence de la candidature (par exemple C-1A2B3C4D)"),
    "offre_titre": gettext_lazy("intitulé de l'offre"),
    "offre_reference": gettext_lazy("référence de l'offre"),
    "offre_service": gettext_lazy("direction, service ou bureau qui recrute"),
    "offre_lieu": gettext_lazy("lieu de travail indiqué dans l'offre"),
    "date_entretien": gettext_lazy("date de l'entretien en toutes lettres, par exemple « mardi 3 juin 2025 » "
                                   "(invitation à un entretien ; vide dans les autres messages)"),
    "heure_entretien": gettext_lazy("heure de l'entretien, par exemple « 14 h 30 » (invitation à un entretien)"),
    "duree_entretien": gettext_lazy("durée prévue de l'entretien, en minutes (invitation à un entretien)"),
    "lieu_entretien": gettext_lazy("lieu de l'entretien ou lien de visioconférence (invitation à un entretien)"),
    "lien_suivi": gettext_lazy("lien personnel du candidat pour suivre sa candidature, la retirer ou effacer ses "
                               "données (accusé de réception seulement ; la copie gardée dans l'historique de la "
                               "candidature le remplace par « [lien personnel du candidat] »)"),
}

# What the copy kept in the application's history shows instead of the candidate's link.
HIDDEN_LINK = gettext_lazy("[lien personnel du candidat]")


def _help_text():
    listing = " ; ".join(f"{{{name}}} : {description}" for name, description in PLACEHOLDERS.items())
    rest = _("Tout autre texte est envoyé tel quel, y compris %(examples)s ; une variable inconnue est refusée "
             "à l'enregistrement.") % {"examples": "{{ … }} et {% … %}"}
    intro = _("Variables entre accolades, remplacées à l'envoi :")
    return f"{intro} {listing}. {rest}"


HELP_TEXT = lazy(_help_text, str)()


def validate(text):
    """Raise ``ValidationError`` naming any placeholder that is not in ``PLACEHOLDERS``."""
    placeholders.validate(text, PLACEHOLDERS)


def fill(text, values):
    return placeholders.substitute(text, values).strip()


def _interview_date(starts_at):
    local = timezone.localtime(starts_at)
    if (translation.get_language() or "").startswith("fr") and local.day == 1:
        return formats.date_format(local, "l") + " 1er " + formats.date_format(local, "F Y")
    return formats.date_format(local, "l j F Y")


def _interview_time(starts_at):
    local = timezone.localtime(starts_at)
    if (translation.get_language() or "").startswith("fr"):  # French typography: « 14 h 30 », « 9 h 05 », « 14 h »
        return f"{local.hour} h {local.minute:02d}" if local.minute else f"{local.hour} h"
    return formats.time_format(local, "H:i")


def opening_values(opening):
    """The placeholders that depend on the opening only (e.g. to preview a subject)."""
    return {
        "offre_titre": opening.title,
        "offre_reference": opening.reference,
        "offre_service": opening.org_unit.name if opening.org_unit_id else "",
        "offre_lieu": opening.location_name,
    }


def values_for(application, *, language="fr", interview=None, self_service_url=""):
    """The plain strings of every placeholder for ``application`` (with its ``candidate``
    and ``opening``), formatted in ``language``. Interview placeholders are empty without
    an ``interview``; ``lien_suivi`` is ``self_service_url`` (empty unless given)."""
    candidate, opening = application.candidate, application.opening
    with translation.override(language):
        values = {
            "candidat_prenom": candidate.first_name,
            "candidat_nom": candidate.last_name,
            "candidature_reference": application.reference,
            **opening_values(opening),
            "date_entretien": "",
            "heure_entretien": "",
            "duree_entretien": "",
            "lieu_entretien": "",
            "lien_suivi": self_service_url,
        }
        if interview is not None:
            values.update(
                date_entretien=_interview_date(interview.starts_at),
                heure_entretien=_interview_time(interview.starts_at),
                duree_entretien=str(interview.duration_minutes),
                lieu_entretien=interview.location,
            )
    return {name: str(value or "") for name, value in values.items()}


def hide_link(values, language="fr"):
    """``values`` for the copy kept in the history: the candidate's link is masked."""
    with translation.override(language):
        hidden = str(HIDDEN_LINK)
    return {**values, "lien_suivi": hidden if values.get("lien_suivi") else ""}
