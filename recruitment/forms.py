"""Public forms of the recruitment app: the job search filters and the application form.

The application form only checks what a browser sends (required fields, lengths, an
e-mail shape); everything else, including the content check of the CV, belongs to
``services.submit_application``, whose ``ValidationError`` is mapped back onto the
form's fields by the view.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from cms.choices import Category
from recruitment import permissions
from recruitment.choices import EmploymentType

DOCUMENT_ACCEPT = ".pdf,.docx,.odt"
DOCUMENT_HELP = _("PDF, DOCX ou ODT, 5 Mo au maximum. Le contenu du fichier est vérifié, pas seulement son nom.")


class OpeningFilterForm(forms.Form):
    """GET filters of the job listing. Invalid values are ignored rather than shown as errors."""

    q = forms.CharField(label=_("Mots-clés"), required=False, max_length=100,
                        help_text=_("Intitulé, missions, profil ou corps."))
    direction = forms.ChoiceField(label=_("Direction"), required=False)
    category = forms.ChoiceField(label=_("Catégorie"), required=False)
    employment_type = forms.ChoiceField(label=_("Temps de travail"), required=False)
    location = forms.ChoiceField(label=_("Lieu"), required=False)

    def __init__(self, data=None, *, directions=(), localities=(), **kwargs):
        super().__init__(data, **kwargs)
        self.fields["direction"].choices = [("", _("Toutes les directions"))] + [(d.code, d.name) for d in directions]
        self.fields["category"].choices = [("", _("Toutes les catégories"))] + [
            (value, _("Catégorie %(c)s") % {"c": value}) for value in Category.values
        ]
        self.fields["employment_type"].choices = [("", _("Tous les temps de travail"))] + list(EmploymentType.choices)
        self.fields["location"].choices = [("", _("Tous les lieux"))] + [(loc, loc) for loc in localities]

    def filters(self):
        """The valid filters only (an unknown value in the URL filters nothing)."""
        if not self.is_bound:
            return {}
        values = {}
        for name, field in self.fields.items():
            raw = (self.data.get(name) or "").strip()
            if not raw:
                continue
            try:
                values[name] = field.clean(raw)
            except forms.ValidationError:
                continue
        return values


class ApplicationForm(forms.Form):
    first_name = forms.CharField(
        label=_("Prénom"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Nom"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(
        label=_("Adresse e-mail"), max_length=254,
        help_text=_("L'accusé de réception et votre lien personnel de suivi y seront envoyés. Format : nom@domaine.fr"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Téléphone (facultatif)"), max_length=40, required=False, help_text=_("Format : 06 12 34 56 78 ou +33 6 12 34 56 78"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    cv = forms.FileField(
        label=_("CV"), help_text=DOCUMENT_HELP, widget=forms.FileInput(attrs={"accept": DOCUMENT_ACCEPT})
    )
    cover_letter = forms.FileField(
        label=_("Lettre de motivation (facultative)"), required=False, help_text=DOCUMENT_HELP,
        widget=forms.FileInput(attrs={"accept": DOCUMENT_ACCEPT}),
    )
    message = forms.CharField(
        label=_("Message au recruteur (facultatif)"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    consent_pool = forms.BooleanField(
        label=_("J'accepte que ma candidature soit conservée dans le vivier pendant 2 ans après le dernier contact, "
                "pour être informé(e) d'autres offres (facultatif)"),
        required=False, initial=False,
    )

    IDENTITY = ("first_name", "last_name", "email", "phone")
    DOCUMENTS = ("cv", "cover_letter")

    @classmethod
    def initial_for(cls, user):
        """Prefill from the logged-in agent's account (name and e-mail)."""
        if not permissions.is_agent(user):
            return {}
        return {"first_name": user.first_name, "last_name": user.last_name, "email": user.email}

    def add_service_errors(self, error):
        """Map a ``ValidationError`` of ``submit_application`` onto the fields."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class ErasureForm(forms.Form):
    """Erasing one's data: the first POST shows what will be erased (``confirm`` absent), the
    second, from that step, erases (``confirm`` set)."""

    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
