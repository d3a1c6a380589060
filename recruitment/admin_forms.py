"""Forms of the recruitment admin. They only shape the input: every rule is checked again
by the actions and services (``recruitment.actions``, ``recruitment.interviews``), whose
``ValidationError`` lands on the field it names (see ``add_service_errors``)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets import AdminDateTimeInput

from cms.converters import parse_id
from recruitment import interviews, messages, selectors, workflow
from recruitment.choices import ApplicationStatus, MessageKind, OpeningState, Recommendation
from recruitment.models import Application, MessageTemplate


def add_service_errors(form, error, aliases=None):
    """Attach a service ``ValidationError`` to the form, on the field it names when possible."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            name = aliases.get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows by id that refuses what is not a database id (1 … 2**63 − 1)
    as an invalid choice, before any query: a 20-digit number in the POST would otherwise
    reach the database (SQLite raises ``OverflowError``, PostgreSQL "bigint out of range")."""

    def _check_values(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            if parse_id(str(pk)) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": str(pk)[:40]}
                )
        return super()._check_values(value)


class MoveStatusField(forms.ChoiceField):
    """Offers the moves the table declares from the current status; accepts any status, so
    that a move that became impossible (another recruiter moved the application meanwhile)
    is refused by the action with its sentence rather than as an "invalid choice"."""

    def valid_value(self, value):
        return value in ApplicationStatus.values


class MoveForm(forms.Form):
    status = MoveStatusField(label=_("Nouvelle étape"))
    reason = forms.CharField(
        label=_("Motif"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire pour un refus, une réouverture ou un retour à une étape précédente. "
                    "Un refus envoie la réponse négative au candidat."),
    )
    note = forms.CharField(label=_("Note interne"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        opening = application.opening
        self.targets = workflow.targets(application.status)
        self.fields["status"].choices = [("", _("Choisir une étape"))] + [
            (status, opening.stage_label(status)) for status in self.targets
        ]


class BoardMoveForm(forms.Form):
    """A move chosen on a board card (a button or a drop): the status, and the reason once
    the confirmation step asks for it (``step``)."""

    status = MoveStatusField(label=_("Nouvelle étape"))
    reason = forms.CharField(label=_("Motif"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    note = forms.CharField(label=_("Note interne"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    step = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, application.opening.stage_label(s)) for s in workflow.targets(application.status)]


class BulkRejectForm(forms.Form):
    SEND, NO_MESSAGE = "send", "none"

    applications = IdsChoiceField(
        label=_("Candidatures sélectionnées"), queryset=Application.objects.none(),
        error_messages={"required": _("Cochez au moins une candidature.")},
    )
    reason = forms.CharField(label=_("Motif du refus"), widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("Le motif du refus est obligatoire.")})
    message = forms.ChoiceField(label=_("Message au candidat"), widget=forms.RadioSelect, initial=SEND)
    #: Set by the confirmation step (which names the applications): without it, nothing is done yet.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, opening, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].queryset = Application.objects.filter(opening=opening)
        template = MessageTemplate.objects.filter(kind=MessageKind.REJECTION, language="fr").first()
        if template is None:
            send_label = _("Envoyer la réponse négative (aucun modèle défini : rien ne partira)")
        else:
            subject = messages.fill(template.subject, messages.opening_values(opening))
            send_label = _("Envoyer la réponse négative « %(subject)s »") % {"subject": subject}
        self.fields["message"].choices = [(self.SEND, send_label), (self.NO_MESSAGE, _("Ne pas envoyer de message"))]

    @property
    def send(self):
        return self.cleaned_data.get("message") == self.SEND


class BulkMoveForm(forms.Form):
    """Several applications of the board moved to one stage: the selection, then (a step
    offering the moves allowed for every one of them) the stage and the reason, then the
    confirmation (``confirm``)."""

    applications = IdsChoiceField(
        label=_("Candidatures sélectionnées"), queryset=Application.objects.none(),
        error_messages={"required": _("Cochez au moins une candidature.")},
    )
    status = MoveStatusField(label=_("Nouvelle étape"), widget=forms.RadioSelect,
                             error_messages={"required": _("Choisissez l'étape de destination.")})
    reason = forms.CharField(
        label=_("Motif"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire pour un retour à une étape précédente ou une réouverture ; conservé dans "
                    "l'historique de chaque candidature."),
    )
    note = forms.CharField(label=_("Note interne"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    #: Set by the confirmation step (which says how many applications move where).
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, opening, **kwargs):
        super().__init__(*args, **kwargs)
        self.opening = opening
        self.fields["applications"].queryset = Application.objects.filter(opening=opening)
        self.targets = []

    def offer_targets(self, applications):
        """The stages every selected application may be moved to (a rejection has its own form,
        with the message to the candidates)."""
        from recruitment.actions import common_targets

        names = workflow.RECRUITER_MOVES - {"reject"}
        self.targets = common_targets([a.status for a in applications], names)
        self.fields["status"].choices = [(s, self.opening.stage_label(s)) for s in self.targets]
        return self.targets


class CloseOpeningForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Issue du recrutement"), widget=forms.RadioSelect,
        choices=[(OpeningState.FILLED, _("Poste pourvu")), (OpeningState.CANCELLED, _("Recrutement annulé"))],
    )
    #: Set by the confirmation step (which says how many applications are cancelled): without
    #: it, nothing is done yet.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class InterviewerChoiceField(IdsChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name() or obj.get_username()
        return f"{name} ({obj.email})" if obj.email else name


class ScheduleInterviewForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Date et heure"), widget=AdminDateTimeInput)
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"), initial=45, min_value=interviews.MIN_DURATION, max_value=interviews.MAX_DURATION
    )
    location = forms.CharField(label=_("Lieu ou lien de visioconférence"), max_length=255)
    interviewers = InterviewerChoiceField(
        label=_("Membres du jury"), queryset=selectors.jury_candidates(), widget=forms.CheckboxSelectMultiple,
        help_text=_("Chacun reçoit l'invitation et une grille d'évaluation à remplir."),
        error_messages={"required": _("Choisissez au moins un membre du jury.")},
    )

    def __init__(self, *args, opening=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interviewers"].queryset = selectors.jury_candidates(opening)


class ScorecardForm(forms.Form):
    """Six criteria (radio buttons 1–5 with their anchors), an opinion and a comment."""

    recommendation = forms.ChoiceField(label=_("Avis"), widget=forms.RadioSelect, choices=Recommendation.choices,
                                       error_messages={"required": _("Choisissez un avis.")})
    comment = forms.CharField(label=_("Commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("Appuyez votre avis sur des faits observés pendant l'entretien."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        levels = [(str(value), f"{value} — {label} : {sentence}") for value, label, sentence in interviews.LEVELS]
        criteria_fields = {}
        for name, label, sentence in interviews.criteria():
            criteria_fields[name] = forms.TypedChoiceField(
                label=label, help_text=sentence, choices=levels, coerce=int, widget=forms.RadioSelect,
                error_messages={"required": _("Ce critère est obligatoire."),
                                "invalid_choice": _("La note doit être un nombre entier de 1 à 5.")},
            )
        self.fields = {**criteria_fields, **self.fields}

    def criteria_fields(self):
        return [self[name] for name in interviews.Scorecard.CRITERIA]

    def scores(self):
        return {name: self.cleaned_data.get(name) for name in interviews.Scorecard.CRITERIA}
