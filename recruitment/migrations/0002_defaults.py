"""Recruitment roles and default texts.

* Recruiters and HR edit message templates (snippet): add / change / view.
* Interviewers open the Wagtail admin (their "Mes évaluations" page lives there).
* Default message templates in French and English for the acknowledgement, the interview
  invitation, the rejection and the offer (existing templates are never overwritten), written
  with the placeholders of ``recruitment.messages`` (``{candidat_prenom}``…). Databases that
  ran the first version of this migration got Django-template texts: migration 0003 rewrites
  them to exactly these texts.

Page permissions on job openings are ``GroupPagePermission`` rows on a page (the
``JobIndexPage``), which does not exist at migration time: the seed or the site set-up
grants them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODEL_PERMISSIONS = {
    "Recruiters": [("recruitment", "messagetemplate", ["add", "change", "view"])],
    "HR": [("recruitment", "messagetemplate", ["add", "change", "view"])],
}

SIGNATURE_FR = "Le service du recrutement"
SIGNATURE_EN = "The recruitment team"

TEMPLATES = [
    {
        "kind": "acknowledgement",
        "language": "fr",
        "subject": "Votre candidature au poste « {offre_titre} » (réf. {offre_reference}) a bien été reçue",
        "body": """Bonjour {candidat_prenom} {candidat_nom},

Nous vous remercions de l'intérêt que vous portez à notre collectivité. Votre candidature au poste « {offre_titre} » (référence {offre_reference}) nous est bien parvenue.

Elle va être étudiée avec attention par l'équipe chargée du recrutement. Vous serez informé·e par courriel de la suite qui lui sera donnée.

Vous pouvez à tout moment suivre votre candidature, la retirer ou demander l'effacement de vos données personnelles à l'adresse suivante :
{lien_suivi}

Nous vous prions d'agréer l'expression de nos salutations distinguées.

""" + SIGNATURE_FR,
    },
    {
        "kind": "acknowledgement",
        "language": "en",
        "subject": "We have received your application for “{offre_titre}” (ref. {offre_reference})",
        "body": """Dear {candidat_prenom} {candidat_nom},

Thank you for your interest in working with us. We have received your application for the position “{offre_titre}” (reference {offre_reference}).

It will be carefully reviewed by the recruitment team, and we will let you know by e-mail how it proceeds.

You can follow your application, withdraw it or ask for your personal data to be erased at any time here:
{lien_suivi}

Kind regards,

""" + SIGNATURE_EN,
    },
    {
        "kind": "interview",
        "language": "fr",
        "subject": "Invitation à un entretien – {offre_titre} (réf. {offre_reference})",
        "body": """Bonjour {candidat_prenom} {candidat_nom},

Votre candidature au poste « {offre_titre} » (référence {offre_reference}) a retenu notre attention, et nous avons le plaisir de vous inviter à un entretien :

- date : le {date_entretien} à {heure_entretien} ;
- durée prévue : {duree_entretien} minutes ;
- lieu : {lieu_entretien}.

Vous trouverez en pièce jointe une invitation à ajouter à votre agenda. Merci de vous munir d'une pièce d'identité.

Si cette date ne vous convient pas, ou si vous avez besoin d'un aménagement particulier pour cet entretien (notamment en raison d'un handicap), merci de nous le faire savoir dès que possible en répondant à ce message.

Nous vous prions d'agréer l'expression de nos salutations distinguées.

""" + SIGNATURE_FR,
    },
    {
        "kind": "interview",
        "language": "en",
        "subject": "Interview invitation – {offre_titre} (ref. {offre_reference})",
        "body": """Dear {candidat_prenom} {candidat_nom},

Your application for the position “{offre_titre}” (reference {offre_reference}) has caught our attention, and we are pleased to invite you to an interview:

- date: {date_entretien} at {heure_entretien} (Paris time);
- expected duration: {duree_entretien} minutes;
- place: {lieu_entretien}.

A calendar invitation is attached to this message. Please bring an identity document.

If this date does not suit you, or if you need any adjustment for the interview (for instance because of a disability), please let us know as soon as possible by replying to this message.

Kind regards,

""" + SIGNATURE_EN,
    },
    {
        "kind": "rejection",
        "language": "fr",
        "subject": "Votre candidature au poste « {offre_titre} » (réf. {offre_reference})",
        "body": """Bonjour {candidat_prenom} {candidat_nom},

Nous vous remercions de l'intérêt que vous avez porté au poste « {offre_titre} » (référence {offre_reference}) et du temps que vous avez consacré à votre candidature.

Après un examen attentif, nous sommes au regret de vous informer que nous ne pouvons pas y donner une suite favorable. Ce choix, lié aux exigences particulières du poste et au nombre de candidatures reçues, ne remet pas en cause la qualité de votre parcours.

Nous vous souhaitons pleine réussite dans vos projets professionnels et vous invitons à consulter régulièrement nos offres d'emploi.

Nous vous prions d'agréer l'expression de nos salutations distinguées.

""" + SIGNATURE_FR,
    },
    {
        "kind": "rejection",
        "language": "en",
        "subject": "Your application for “{offre_titre}” (ref. {offre_reference})",
        "body": """Dear {candidat_prenom} {candidat_nom},

Thank you for your interest in the position “{offre_titre}” (reference {offre_reference}) and for the time you spent on your application.

After careful consideration, we regret to inform you that we will not be taking your application further. This decision reflects the specific requirements of the position and the number of applications received; it is no judgement on the quality of your experience.

We wish you every success in your career and encourage you to keep an eye on our vacancies.

Kind regards,

""" + SIGNATURE_EN,
    },
    {
        "kind": "offer",
        "language": "fr",
        "subject": "Proposition pour le poste « {offre_titre} » (réf. {offre_reference})",
        "body": """Bonjour {candidat_prenom} {candidat_nom},

Nous avons le plaisir de vous informer qu'à l'issue de la procédure de recrutement, votre candidature au poste « {offre_titre} » (référence {offre_reference}) a été retenue.

Le service des ressources humaines va prendre contact avec vous dans les prochains jours pour vous présenter notre proposition (date de prise de fonctions, rémunération, modalités de nomination ou d'engagement) et la liste des pièces à fournir.

Nous vous remercions de nous faire connaître votre réponse dès que possible, en répondant à ce message.

Dans l'attente du plaisir de vous accueillir, nous vous prions d'agréer l'expression de nos salutations distinguées.

""" + SIGNATURE_FR,
    },
    {
        "kind": "offer",
        "language": "en",
        "subject": "Offer for the position “{offre_titre}” (ref. {offre_reference})",
        "body": """Dear {candidat_prenom} {candidat_nom},

We are delighted to let you know that, following our selection process, your application for the position “{offre_titre}” (reference {offre_reference}) has been successful.

Our human resources department will contact you in the coming days to present our offer (start date, salary, terms of appointment or contract) and the documents we will need from you.

We would be grateful if you could let us have your answer as soon as possible by replying to this message.

We look forward to welcoming you.

Kind regards,

""" + SIGNATURE_EN,
    },
]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("recruitment")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    for group_name, grants in MODEL_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        for app_label, model, actions in grants:
            for action in actions:
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, content_type__model=model,
                                           codename=f"{action}_{model}")
                )
    admin_ct, _created = ContentType.objects.get_or_create(app_label="wagtailadmin", model="admin")
    access_admin, _created = Permission.objects.get_or_create(
        content_type=admin_ct, codename="access_admin", defaults={"name": "Can access Wagtail admin"}
    )
    interviewers, _created = Group.objects.get_or_create(name="Interviewers")
    interviewers.permissions.add(access_admin)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=MODEL_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="recruitment",
                                                            content_type__model="messagetemplate"))
    interviewers = Group.objects.filter(name="Interviewers").first()
    if interviewers is not None:
        interviewers.permissions.remove(*Permission.objects.filter(content_type__app_label="wagtailadmin",
                                                                   codename="access_admin"))


def create_templates(apps, schema_editor):
    MessageTemplate = apps.get_model("recruitment", "MessageTemplate")
    for template in TEMPLATES:
        MessageTemplate.objects.get_or_create(
            kind=template["kind"], language=template["language"],
            defaults={"subject": template["subject"], "body": template["body"]},
        )


class Migration(migrations.Migration):

    dependencies = [
        ('recruitment', '0001_initial'),
        ('cms', '0002_roles'),
        ('wagtailadmin', '0001_create_admin_access_permissions'),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
        migrations.RunPython(create_templates, migrations.RunPython.noop),
    ]
