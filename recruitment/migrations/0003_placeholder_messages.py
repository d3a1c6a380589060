"""Message templates become placeholder texts; the timeline stops keeping the candidate's link.

1. ``MessageTemplate`` subjects and bodies written for Django's template engine are rewritten
   to the placeholders of ``recruitment.messages.PLACEHOLDERS``: the variables the project
   seeded (migration 0002) and documented (``{{ candidate.first_name }}``,
   ``{{ opening.title }}``, ``{{ interview.starts_at|date:"…" }}``, ``{{ self_service_url }}``…)
   map to ``{candidat_prenom}``, ``{offre_titre}``, ``{date_entretien}``, ``{lien_suivi}``…;
   ``{% if self_service_url %}…{% endif %}`` keeps its content (the link is always there in
   the acknowledgement, the only message that has one). Anything else (another variable, a
   filter we cannot map, another tag) is left as written: it is now plain text, sent as is.
2. ``ApplicationEvent`` copies of sent messages that contain a self-service link
   (``…/candidat/<token>/``) get ``[lien personnel du candidat]`` instead: recruiters and HR
   read those copies, and the link lets whoever holds it withdraw or erase the application.

The functions are frozen here (not imported from the app) so that the migration keeps its
meaning when the app changes. Not reversible in content (the links are gone for good);
reversing only restores the schema.
"""

import re

from django.db import migrations, models

HIDDEN_LINK = "[lien personnel du candidat]"

SIMPLE = {
    "candidate.first_name": "{candidat_prenom}",
    "candidate.last_name": "{candidat_nom}",
    "application.reference": "{candidature_reference}",
    "opening.title": "{offre_titre}",
    "opening.reference": "{offre_reference}",
    "opening.org_unit": "{offre_service}",
    "opening.org_unit.name": "{offre_service}",
    "opening.location_name": "{offre_lieu}",
    "interview.duration_minutes": "{duree_entretien}",
    "interview.location": "{lieu_entretien}",
    "self_service_url": "{lien_suivi}",
}
STARTS_AT = {"fr": "{date_entretien} à {heure_entretien}", "en": "{date_entretien} at {heure_entretien}"}
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*((?:\|[^{}|]+?)?)\s*\}\}")
IF_LINK = re.compile(r"\{%\s*if\s+self_service_url\s*%\}(.*?)\{%\s*endif\s*%\}", re.S)
# A self-service link, absolute or not: …/candidat/<token>/ (token: secrets.token_urlsafe).
LINK = re.compile(r"(?:https?://[^\s/]+)?/(?:[^\s/]+/)*?candidat/[A-Za-z0-9_-]{16,}/?")


def to_placeholders(text, language="fr"):
    """A Django-template text rewritten with placeholders; what cannot be mapped stays as is."""

    def variable(match):
        name, filters = match.group(1), match.group(2).strip()
        if name == "interview.starts_at":
            if not filters:
                return STARTS_AT.get(language, STARTS_AT["fr"])
            if re.fullmatch(r"\|\s*date(?::.*)?", filters):
                return "{date_entretien}"
            if re.fullmatch(r"\|\s*time(?::.*)?", filters):
                return "{heure_entretien}"
            return match.group(0)
        if name in SIMPLE and not filters:
            return SIMPLE[name]
        return match.group(0)

    text = IF_LINK.sub(lambda match: match.group(1), text or "")
    return VARIABLE.sub(variable, text)


def hide_links(text):
    return LINK.sub(HIDDEN_LINK, text or "")


def rewrite_templates(apps, schema_editor):
    MessageTemplate = apps.get_model("recruitment", "MessageTemplate")
    for template in MessageTemplate.objects.all():
        subject = to_placeholders(template.subject, template.language)[:255]
        body = to_placeholders(template.body, template.language)
        if (subject, body) != (template.subject, template.body):
            MessageTemplate.objects.filter(pk=template.pk).update(subject=subject, body=body)


def hide_self_service_links(apps, schema_editor):
    ApplicationEvent = apps.get_model("recruitment", "ApplicationEvent")
    events = ApplicationEvent.objects.filter(
        models.Q(message_body__contains="/candidat/") | models.Q(message_subject__contains="/candidat/")
    ).values_list("pk", "message_subject", "message_body")
    for pk, subject, body in events.iterator(chunk_size=500):
        new_subject, new_body = hide_links(subject)[:255], hide_links(body)
        if (new_subject, new_body) != (subject, body):
            # A queryset update: the model's append-only save() is not involved.
            ApplicationEvent.objects.filter(pk=pk).update(message_subject=new_subject, message_body=new_body)


class Migration(migrations.Migration):

    dependencies = [
        ('recruitment', '0002_defaults'),
    ]

    operations = [
        migrations.AlterField(
            model_name='messagetemplate',
            name='body',
            field=models.TextField(help_text="Variables entre accolades, remplacées à l'envoi : {candidat_prenom} : prénom du candidat ; {candidat_nom} : nom de famille du candidat ; {candidature_reference} : référence de la candidature (par exemple C-1A2B3C4D) ; {offre_titre} : intitulé de l'offre ; {offre_reference} : référence de l'offre ; {offre_service} : direction, service ou bureau qui recrute ; {offre_lieu} : lieu de travail indiqué dans l'offre ; {date_entretien} : date de l'entretien en toutes lettres, par exemple « mardi 3 juin 2025 » (invitation à un entretien ; vide dans les autres messages) ; {heure_entretien} : heure de l'entretien, par exemple « 14 h 30 » (invitation à un entretien) ; {duree_entretien} : durée prévue de l'entretien, en minutes (invitation à un entretien) ; {lieu_entretien} : lieu de l'entretien ou lien de visioconférence (invitation à un entretien) ; {lien_suivi} : lien personnel du candidat pour suivre sa candidature, la retirer ou effacer ses données (accusé de réception seulement ; la copie gardée dans l'historique de la candidature le remplace par « [lien personnel du candidat] »). Tout autre texte est envoyé tel quel, y compris {{ … }} et {% … %} ; une variable inconnue est refusée à l'enregistrement.", verbose_name='texte'),
        ),
        migrations.AlterField(
            model_name='messagetemplate',
            name='subject',
            field=models.CharField(help_text='Les mêmes variables que le texte, par exemple {offre_titre} ou {offre_reference}.', max_length=255, verbose_name='objet'),
        ),
        migrations.RunPython(rewrite_templates, migrations.RunPython.noop),
        migrations.RunPython(hide_self_service_links, migrations.RunPython.noop),
    ]
