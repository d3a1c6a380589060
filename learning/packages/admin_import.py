"""Wagtail admin: importing SCORM packages (menu "Formations").

* "Importer un paquet SCORM" (``formations_paquets:import``): the zip, a destination (a
  course the user may add and publish pages in, or a new course) and an optional step
  title. Up to ``PACKAGE_INLINE_MAX_BYTES`` (50 Mo by default) the import runs in the
  request and a refusal shows on the field, with an error summary; a larger file is saved
  to private storage, a ``PackageImport`` row is created, the import task is enqueued and
  the browser goes to the status page (``formations_paquets:status``), which refreshes
  itself without JavaScript until the step exists or the error is known.
* "Paquets importés" (``formations_paquets:index``): every package with its standard,
  version, size, files, SHA-256 prefix, uploader and the steps that play it.
* The page form of ``PackageStepPage`` has its « Téléverser un paquet (.zip) » field
  (``learning.packages.forms.PackageStepForm``). A file up to ``PACKAGE_INLINE_MAX_BYTES``
  is imported by the form; a larger one is queued here, once Wagtail has saved the page
  (hooks ``after_create_page`` / ``after_edit_page``, and ``before_publish_page`` for a step
  that has no package yet: it stays a draft until the task publishes it), and the editor
  goes to the same status page; the task gives the step its package, publishing it when
  the editor published.

Reserved to HR, training editors and superusers: anyone else with admin access gets a
403 page; people without admin access are sent to the login page by Wagtail.
"""

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import include, path, reverse, reverse_lazy
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic.base import BaseListingView, WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies.pages import PagePermissionPolicy

from cms import roles
from cms import selectors as cms_selectors
from learning.models import CoursePage, Package, PackageImport, PackageStepPage
from learning.packages import importer
from learning.packages.forms import UPLOAD_FIELD, ImportForm, inline_max_bytes, queued_upload
from learning.packages.manifest import unsupported_sentence

app_name = "formations_paquets"
MENU_HOOK = "register_formations_menu_item"
HOME = {"url": reverse_lazy("wagtailadmin_home"), "label": gettext_lazy("Tableau de bord")}
REFRESH_SECONDS = 2


def can_import_packages(user):
    """HR, training editors and superusers import packages and see the package list."""
    return bool(
        user.is_authenticated
        and (user.is_superuser or cms_selectors.has_role(user, roles.HR)
             or cms_selectors.has_role(user, roles.TRAINING_EDITORS))
    )


def editable_courses(user):
    """The courses where ``user`` may add and publish a step (Wagtail page permissions)."""
    courses = CoursePage.objects.order_by("title", "pk")
    if user.is_superuser:
        return courses
    policy = PagePermissionPolicy()
    may_add = policy.instances_user_has_any_permission_for(user, ["add"]).values("pk")
    may_publish = policy.instances_user_has_any_permission_for(user, ["publish"]).values("pk")
    return courses.filter(pk__in=may_add).filter(pk__in=may_publish)


def packages_crumb():
    return {"url": reverse("formations_paquets:index"), "label": _("Paquets SCORM")}


class RoleRequiredMixin:
    def allowed(self, request, **kwargs):
        return can_import_packages(request.user)

    def dispatch(self, request, *args, **kwargs):
        if not self.allowed(request, **kwargs):
            return TemplateResponse(
                request,
                "learning/admin/package_forbidden.html",
                {"page_title": _("Accès refusé"), "header_icon": "warning"},
                status=403,
            )
        return super().dispatch(request, *args, **kwargs)


class AdminPage(RoleRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return [HOME, packages_crumb(), {"url": "", "label": self.get_page_title()}]


class ImportView(AdminPage):
    template_name = "learning/admin/package_import.html"
    page_title = gettext_lazy("Importer un paquet SCORM")

    def get_form(self):
        courses = editable_courses(self.request.user)
        if self.request.method == "POST":
            return ImportForm(self.request.POST, self.request.FILES, courses=courses)
        initial = {}
        course_id = self.request.GET.get("course", "")
        if course_id.isdigit() and courses.filter(pk=int(course_id[:18])).exists():
            initial = {"course": int(course_id[:18]), "target": ImportForm.EXISTING}
        return ImportForm(courses=courses, initial=initial)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.get_form())
        context["inline_max"] = filesizeformat(inline_max_bytes())
        return context

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        upload = form.cleaned_data["package"]
        try:
            if upload.size > inline_max_bytes():
                row = importer.queue_upload(upload, user=request.user, **form.import_kwargs())
                return redirect("formations_paquets:status", import_uuid=row.uuid)
            result = importer.import_package(upload, user=request.user, **form.import_kwargs())
        except ValidationError as exc:
            for field, sentences in exc.message_dict.items():
                name = field if field in form.fields and field != "target" else "package"
                for sentence in sentences:
                    form.add_error(name, sentence)
            return self.render_to_response(self.get_context_data(form=form))
        step = result.step
        messages.success(
            request,
            _("Étape « %(title)s » créée dans « %(course)s » (norme : %(standard)s).")
            % {"title": step.title, "course": step.get_parent().title,
               "standard": result.package.get_standard_display()},
            buttons=[messages.button(step.get_url(request) or "#", _("Voir la page en ligne"), new_window=True)],
        )
        warning = unsupported_sentence(result.package.manifest)
        if warning:
            messages.warning(request, warning)
        return redirect("wagtailadmin_pages:edit", step.pk)


class ImportStatusView(AdminPage):
    template_name = "learning/admin/package_status.html"
    page_title = gettext_lazy("Import d'un paquet SCORM")

    def allowed(self, request, import_uuid=None, **kwargs):
        """The package roles, and whoever uploaded the file on a step's page form."""
        return super().allowed(request) or (
            request.user.is_authenticated
            and PackageImport.objects.filter(uuid=import_uuid, created_by=request.user).exists()
        )

    def get(self, request, *args, import_uuid, **kwargs):
        row = (
            PackageImport.objects.select_related("step", "created_by", "course", "replace_step")
            .filter(uuid=import_uuid).first()
        )
        if row is None:
            raise Http404
        finished = row.step_id is not None or bool(row.error)
        step = row.step
        return self.render_to_response(
            self.get_context_data(
                row=row,
                percent=100 if row.step_id else round(max(0.0, min(1.0, row.progress)) * 100),
                finished=finished,
                refresh_seconds=None if finished else REFRESH_SECONDS,
                step=step,
                target_step=row.replace_step,
                step_published=bool(step and step.live and not step.has_unpublished_changes),
                step_edit_url=reverse("wagtailadmin_pages:edit", args=[row.step_id]) if row.step_id else None,
                step_live_url=step.get_url(request) if step and step.live else None,
                target_edit_url=(
                    reverse("wagtailadmin_pages:edit", args=[row.replace_step_id]) if row.replace_step_id else None
                ),
            )
        )


# --- the list of packages --------------------------------------------------------------------


def steps_display(package):
    steps = list(package.steps.all())
    return ", ".join(step.title for step in steps) if steps else "—"


def uploader_display(package):
    user = package.uploaded_by
    return (user.get_full_name() or user.get_username()) if user else "—"


class PackageIndexView(RoleRequiredMixin, BaseListingView):
    page_title = gettext_lazy("Paquets SCORM importés")
    header_icon = "doc-full-inverse"
    index_url_name = "formations_paquets:index"
    paginate_by = 50
    default_ordering = "-uploaded_at"
    verbose_name_plural = gettext_lazy("paquets")

    def get_breadcrumbs_items(self):
        return [HOME, {"url": "", "label": self.get_page_title()}]

    def get_header_buttons(self):
        return [HeaderButton(_("Importer un paquet SCORM"), url=reverse("formations_paquets:import"), icon_name="upload")]

    def get_base_queryset(self):
        return (
            Package.objects.select_related("uploaded_by")
            .annotate(step_count=Count("steps", distinct=True))
            .prefetch_related(Prefetch("steps", queryset=PackageStepPage.objects.only("pk", "title", "package_id").order_by("pk")))
        )

    def order_queryset(self, queryset):
        return queryset.order_by(self.ordering, "-pk")

    @cached_property
    def columns(self):
        return [
            TitleColumn("title", label=_("Titre"), sort_key="title", width="22%"),
            Column("standard", label=_("Norme"), accessor="get_standard_display", sort_key="standard"),
            Column("version", label=_("Version"), sort_key="version"),
            Column("size", label=_("Taille"), accessor=lambda p: filesizeformat(p.size), sort_key="size"),
            Column("file_count", label=_("Fichiers"), sort_key="file_count"),
            Column("sha256", label=_("SHA-256"), accessor=lambda p: p.sha256[:12]),
            Column("uploaded_by", label=_("Importé par"), accessor=uploader_display),
            DateColumn("uploaded_at", label=_("Importé le"), sort_key="uploaded_at"),
            Column("steps", label=_("Étapes"), accessor=steps_display),
        ]


# --- hooks -------------------------------------------------------------------------------------


def _pending_upload(request, page):
    """The large upload of a package step's page form not yet handed to the task. Not on
    Wagtail's autosave (a JSON request, sent as soon as a file is chosen): the page is saved
    without it, and the editor's own « Enregistrer » / « Publier » sends it again."""
    if not isinstance(page, PackageStepPage) or getattr(request, "package_import", None) is not None:
        return None
    if not request.accepts("text/html"):
        return None
    return queued_upload(request.FILES.get(UPLOAD_FIELD))


def _queue_for_step(request, page, upload, *, publish):
    try:
        row = importer.queue_upload(upload, user=request.user, step=page, publish=publish)
    except ValidationError as exc:  # the form checked the file already: a step that vanished, say
        messages.error(request, " ".join(importer.messages_of(exc)))
        return None
    request.package_import = row
    return redirect("formations_paquets:status", import_uuid=row.uuid)


@hooks.register("before_publish_page")
def hold_a_step_until_its_package_is_imported(request, page):
    """A step is not published without a package: when its package comes as a large
    upload, the page stays a draft and the import task publishes it."""
    upload = _pending_upload(request, page)
    if upload is None or page.package_id:
        return None
    response = _queue_for_step(request, page, upload, publish=True)
    if response is not None:
        messages.info(
            request,
            _("Page « %(title)s » enregistrée en brouillon : elle sera publiée dès que le paquet « %(name)s » "
              "sera importé.") % {"title": page.get_admin_display_title(), "name": upload.name},
        )
    return response


@hooks.register("after_create_page")
@hooks.register("after_edit_page")
def queue_a_large_step_upload(request, page):
    """After Wagtail saved the step (and published it, if asked), its large upload goes to
    the import task; the task publishes the new package if this version was published."""
    upload = _pending_upload(request, page)
    if upload is None:
        return None
    published = bool(page.live and page.live_revision_id and page.live_revision_id == page.latest_revision_id)
    response = _queue_for_step(request, page, upload, publish=published)
    if response is not None:
        messages.info(
            request,
            _("Le paquet « %(name)s » est volumineux : il est importé en tâche de fond et l'étape le recevra à la fin "
              "de l'import.") % {"name": upload.name},
        )
    return response


urlpatterns = [
    path("", PackageIndexView.as_view(), name="index"),
    path("importer/", ImportView.as_view(), name="import"),
    path("imports/<uuid:import_uuid>/", ImportStatusView.as_view(), name="status"),
]


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("formations/paquets/", include((urlpatterns, app_name), namespace=app_name))]


class PackagesMenuItem(MenuItem):
    def is_shown(self, request):
        return can_import_packages(request.user)


@hooks.register(MENU_HOOK)
def register_import_menu_item():
    return PackagesMenuItem(
        gettext_lazy("Importer un paquet SCORM"), reverse("formations_paquets:import"), name="importer-paquet",
        icon_name="upload", order=10,
    )


@hooks.register(MENU_HOOK)
def register_packages_menu_item():
    return PackagesMenuItem(
        gettext_lazy("Paquets SCORM"), reverse("formations_paquets:index"), name="paquets-scorm", icon_name="doc-full-inverse",
        order=11,
    )
