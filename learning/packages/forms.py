"""Admin forms of package steps: the Wagtail page form of ``PackageStepPage`` (an upload
field beside the package chooser) and the "Importer un paquet SCORM" form."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminPageForm

UPLOAD_FIELD = "package_upload"
ZIP_ACCEPT = ".zip,application/zip,application/x-zip-compressed,.xml,application/xml,text/xml"


def inline_max_bytes():
    return getattr(settings, "PACKAGE_INLINE_MAX_BYTES", 50 * 1024**2)


def queued_upload(upload):
    """``upload`` when it is too large to be imported in the request (above
    ``PACKAGE_INLINE_MAX_BYTES``): the import task takes it; else None."""
    return upload if upload and upload.size > inline_max_bytes() else None


def zip_widget():
    return forms.ClearableFileInput(attrs={"accept": ZIP_ACCEPT})


class PackageStepForm(WagtailAdminPageForm):
    """The page form of ``PackageStepPage``: an optional zip upload. ``clean`` checks the zip
    (inspect, manifest, launch files: errors on the upload field, nothing written); once
    every other check has passed the package is stored (``store_package``; a new version of
    the step's package when it had one) and set on the page. A step is not published
    without a package.

    A file above ``PACKAGE_INLINE_MAX_BYTES`` is only checked to be a zip here: the page is
    saved without it and the admin hooks of ``learning.packages.admin_import`` hand it to the
    import task and show its progress; a new step waiting for its package is saved as a
    draft and published by the task when the editor asked to publish."""

    package_upload = forms.FileField(
        label=gettext_lazy("Téléverser un paquet (.zip, ou cmi5.xml)"),
        required=False,
        widget=zip_widget(),
        help_text=gettext_lazy(
            "Un paquet SCORM 1.2, SCORM 2004 ou cmi5 exporté par l'outil auteur (Storyline, Rise, iSpring, "
            "Captivate…), ou un fichier cmi5.xml seul dont les AU sont en ligne ailleurs. "
            "Il remplace le paquet choisi ci-dessus ; si l'étape en avait déjà un, il en devient la nouvelle version "
            "et les tentatives déjà commencées restent lisibles."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.original_package = self.instance.package if self.instance.package_id else None
        self.prepared = None
        self.stored_package = None

    def is_publishing(self):
        return bool(self.data) and "action-publish" in self.data

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get(UPLOAD_FIELD)
        if upload:
            from learning.packages import importer

            try:
                if queued_upload(upload):
                    importer.check_head(upload)
                else:
                    self.prepared = importer.prepare(upload)
            except ValidationError as exc:
                for message in importer.messages_of(exc):
                    self.add_error(UPLOAD_FIELD, message)
        elif self.is_publishing() and not cleaned.get("package"):
            self.add_error(
                "package",
                _("Un module SCORM ne peut pas être publié sans paquet : choisissez un paquet ou téléversez un "
                  "fichier .zip, ou enregistrez un brouillon."),
            )
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        if queued_upload(self.cleaned_data.get(UPLOAD_FIELD)) and self.instance.pk is None \
                and not self.cleaned_data.get("package"):
            self.instance.live = False  # a new step is not live before its package is imported
        if self.prepared is None:
            return
        from learning.packages import importer

        upload = self.cleaned_data[UPLOAD_FIELD]
        try:
            package, _created = importer.store_package(
                upload, user=self.for_user, previous=self.original_package, prepared=self.prepared
            )
        except ValidationError as exc:
            for message in importer.messages_of(exc):
                self.add_error(UPLOAD_FIELD, message)
            return
        self.stored_package = package
        self.instance.package = package
        self.cleaned_data["package"] = package


class ImportForm(forms.Form):
    """"Importer un paquet SCORM": the zip, where it goes, an optional step title."""

    EXISTING, NEW = "existing", "new"

    package = forms.FileField(
        label=gettext_lazy("Paquet SCORM ou cmi5 (.zip, ou cmi5.xml)"),
        widget=zip_widget(),
        help_text=gettext_lazy(
            "SCORM 1.2, SCORM 2004 (3e ou 4e édition) ou cmi5, tel qu'exporté par l'outil auteur ; ou un fichier "
            "cmi5.xml seul dont les AU ont des adresses complètes."
        ),
    )
    target = forms.ChoiceField(
        label=gettext_lazy("Destination"),
        choices=[
            (EXISTING, gettext_lazy("Ajouter une étape à une formation existante")),
            (NEW, gettext_lazy("Créer une nouvelle formation (publiée, inscription libre)")),
        ],
        widget=forms.RadioSelect,
        initial=EXISTING,
    )
    course = forms.ModelChoiceField(
        label=gettext_lazy("Formation"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("— Choisir une formation —"),
        help_text=gettext_lazy("Les formations que vous pouvez modifier. L'étape est ajoutée à la fin."),
    )
    new_course_title = forms.CharField(
        label=gettext_lazy("Titre de la nouvelle formation"), max_length=255, required=False
    )
    title = forms.CharField(
        label=gettext_lazy("Titre de l'étape"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Facultatif : par défaut, le titre indiqué dans le paquet."),
    )

    def __init__(self, *args, courses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses
        if not courses.exists():
            self.fields["target"].initial = self.NEW

    def clean(self):
        cleaned = super().clean()
        target = cleaned.get("target")
        if target == self.EXISTING and not cleaned.get("course") and "course" not in self.errors:
            self.add_error("course", _("Choisissez la formation à laquelle ajouter l'étape."))
        if target == self.NEW and not (cleaned.get("new_course_title") or "").strip():
            self.add_error("new_course_title", _("Indiquez le titre de la formation à créer."))
        return cleaned

    def import_kwargs(self):
        """The destination as ``importer.import_package`` / ``queue_upload`` take it."""
        data = self.cleaned_data
        if data["target"] == self.NEW:
            destination = {"new_course_title": data["new_course_title"].strip()}
        else:
            destination = {"course": data["course"]}
        return {**destination, "title": data.get("title") or None}
