"""The one service that turns an uploaded zip into a ``Package`` and a ``PackageStepPage``.

Used by the Wagtail admin (inline import, page form upload), by ``manage.py
import_package`` and by the import task (``learning.tasks.import_package_upload``).

* ``prepare(file)``: inspect the zip, parse its manifest, check its launch files; writes
  nothing.
* ``store_package(file, …)``: prepare, extract (content-addressed) and create the
  ``Package`` row; a file whose SHA-256 is already stored returns that row, nothing
  extracted again.
* ``import_package(file, …)``: store the package and make it a step: at the end of an
  existing course, in a new published self-enrolment course, or as the package of an
  existing step (a new revision of its latest version, published or left as a draft; a
  new version of its package: ``version`` + 1, ``previous``; attempts keep their own
  package).
* ``queue_upload(upload, …)`` / ``run_upload(uuid)``: the background path for large files
  (a ``PackageImport`` row, its zip in private storage under ``package-uploads/``), from
  "Importer un paquet SCORM" and from the upload field of the step's page form.

Refusals are ``ValidationError``s whose messages are French sentences keyed by the field
they concern (``package`` for the file, ``course``, ``new_course_title``, ``step``). On a
refusal nothing is written: the database part runs in ``transaction.atomic`` and a folder
extracted by the call is removed if it fails.
"""

import logging
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from wagtail.coreutils import find_available_slug

from cms.storage import private_storage
from learning.models import CourseIndexPage, CoursePage, Package, PackageImport, PackageStepPage
from learning.packages import archive, cmi5, manifest

logger = logging.getLogger(__name__)

UPLOADS = "package-uploads"


@dataclass
class Prepared:
    info: archive.ArchiveInfo
    manifest: manifest.Manifest


@dataclass
class ImportResult:
    step: PackageStepPage
    package: Package
    created: bool  # a new Package row was created
    unchanged: bool = False  # a new version was asked with the file the step already plays


def messages_of(error):
    """The sentences of a ValidationError, flattened."""
    return [str(message) for message in error.messages]


def prepare(file):
    """Inspect, parse and check ``file`` (a seekable file object); writes nothing. A zip
    holds ``imsmanifest.xml`` (SCORM) or ``cmi5.xml`` (cmi5); an XML file alone is a cmi5
    course structure whose AUs are all online elsewhere."""
    file.seek(0)
    head = file.read(64)
    file.seek(0)
    if head[:2] != b"PK" and cmi5.looks_like_xml(head):
        info = archive.inspect_course_structure(file)
        return Prepared(info=info, manifest=cmi5.parse(info.manifest, standalone=True))
    info = archive.inspect(file)
    if info.manifest_name == archive.CMI5:
        parsed = cmi5.parse(info.manifest)
    else:
        parsed = manifest.parse(info.manifest)
    archive.check_files(info, parsed.referenced_files)
    return Prepared(info=info, manifest=parsed)


def _create_package(prepared, *, user, previous):
    parsed, info = prepared.manifest, prepared.info
    try:
        with transaction.atomic():
            package = Package.objects.create(
                standard=parsed.standard, schema_version=parsed.schema_version[:64], identifier=parsed.identifier,
                title=parsed.title, version=previous.version + 1 if previous else 1, previous=previous,
                manifest=parsed.manifest, organization=parsed.organization, launchables=parsed.launchables,
                size=info.size, file_count=info.file_count, sha256=info.sha256, uploaded_by=user,
            )
        return package, True
    except IntegrityError:  # the same file imported concurrently: that row wins
        return Package.objects.get(sha256=info.sha256), False


def _stored(prepared, file, *, user, previous, progress, then=None):
    """Extract and create the row (or reuse the row of that SHA-256), then run ``then(package,
    created)`` in the same transaction; the folder this call extracted is removed if the
    database part fails."""
    existing = Package.objects.filter(sha256=prepared.info.sha256).first()
    extracted = False
    if existing is None:
        extracted = archive.extract(file, prepared.info, progress=progress)
    try:
        with transaction.atomic():
            if existing is not None:
                package, created = existing, False
            else:
                package, created = _create_package(prepared, user=user, previous=previous)
            result = then(package, created) if then else None
    except BaseException:
        if extracted and not Package.objects.filter(sha256=prepared.info.sha256).exists():
            archive.remove(prepared.info.root)
        raise
    return package, created, result


def store_package(file, *, user=None, progress=None, previous=None, prepared=None):
    """``(Package, created)`` for the zip in ``file``. ``previous``: the package this one
    replaces (the new row gets ``version`` + 1 and ``previous``)."""
    prepared = prepared or prepare(file)
    package, created, _result = _stored(prepared, file, user=user, previous=previous, progress=progress)
    return package, created


def _publish(page, user):
    # The callers decide who may import where (admin roles and page permissions, the command).
    page.save_revision(user=user, log_action=True).publish(user=user, skip_permission_checks=True)
    page.refresh_from_db()
    return page


def _attach(step, package, *, user, publish):
    """Give ``step`` (its latest version, ``get_latest_revision_as_object``) ``package`` in a
    new revision, published when ``publish``; the row of a page never published holds its
    draft, as Wagtail's editor keeps it."""
    step.package = package
    if not step.live:
        step.save(clean=False)
    revision = step.save_revision(user=user, log_action=True)
    if publish:
        revision.publish(user=user, skip_permission_checks=True)
    step.refresh_from_db()
    return step


def _add_step(course, package, *, title, user):
    title = (title or package.title).strip()[:255] or package.title
    slug = find_available_slug(course, slugify(title)[:200] or "module")
    step = PackageStepPage(title=title, slug=slug, package=package, owner=user)
    course.add_child(instance=step)
    return _publish(step, user)


def _new_course(index, title, parsed, user):
    title = title.strip()[:255]
    summary = (parsed.manifest.get("description") or "").strip()[:500] or _(
        "Module en ligne importé depuis un paquet %(standard)s."
    ) % {"standard": {"scorm12": "SCORM 1.2", "scorm2004": "SCORM 2004"}.get(parsed.standard, "cmi5")}
    slug = find_available_slug(index, slugify(title)[:200] or "formation")
    course = CoursePage(title=title, slug=slug, summary=summary, self_enrollment=True, owner=user)
    index.add_child(instance=course)
    return _publish(course, user)


def _check_target(course, new_course_title, step):
    given = [name for name, value in (("course", course), ("new_course_title", new_course_title), ("step", step))
             if value not in (None, "")]
    if len(given) != 1:
        raise ValidationError(
            {"course": _("Choisissez une seule destination : une formation existante, une nouvelle formation "
                         "ou une étape à mettre à jour.")}
        )
    if course is not None and not isinstance(course.specific, CoursePage):
        raise ValidationError({"course": _("La page « %(title)s » n'est pas une formation.") % {"title": course.title}})
    if step is not None and not isinstance(step.specific, PackageStepPage):
        raise ValidationError({"step": _("La page « %(title)s » n'est pas un module SCORM.") % {"title": step.title}})
    if new_course_title is not None and new_course_title != "":
        if not new_course_title.strip():
            raise ValidationError({"new_course_title": _("Le titre de la nouvelle formation est vide.")})
        index = CourseIndexPage.objects.order_by("path").first()
        if index is None:
            raise ValidationError(
                {"new_course_title": _(
                    "Aucun catalogue de formations (page « Index des formations ») n'existe : créez-en un dans "
                    "l'administration avant d'importer un paquet dans une nouvelle formation."
                )}
            )
        return index
    return None


def import_package(file, *, user=None, course=None, new_course_title=None, title=None, step=None, progress=None,
                   publish=True):
    """Import the zip in ``file`` into exactly one of: ``course`` (a new step published at the
    end of it), ``new_course_title`` (a new published self-enrolment course under the first
    course index, then the step in it) or ``step`` (the package of its latest version, in a
    new revision published when ``publish``, else a draft; a new version of its package
    when it had one).
    Returns :class:`ImportResult`; raises ``ValidationError`` and writes nothing on a refusal."""
    index = _check_target(course, new_course_title, step)
    if course is not None:
        course = course.specific
    if step is not None:
        step = step.specific.get_latest_revision_as_object()
    prepared = prepare(file)

    if step is not None:
        current = step.package
        if current is not None and current.sha256 == prepared.info.sha256:
            return ImportResult(step=step, package=current, created=False, unchanged=True)

        def then(package, created):
            return _attach(step, package, user=user, publish=publish)

        package, created, result = _stored(prepared, file, user=user, previous=current, progress=progress, then=then)
        return ImportResult(step=result, package=package, created=created)

    def then(package, created):
        target = course if course is not None else _new_course(index, new_course_title, prepared.manifest, user)
        return _add_step(target, package, title=title, user=user)

    package, created, result = _stored(prepared, file, user=user, previous=None, progress=progress, then=then)
    return ImportResult(step=result, package=package, created=created)


# --- background imports (large files) -----------------------------------------------------------


def check_head(upload):
    """Refuse at once (``ValidationError`` on ``package``) a file that is neither a zip nor an
    XML course structure; the rest is checked by the import task."""
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    if head[:2] != b"PK" and not cmi5.looks_like_xml(head):
        raise archive._not_a_zip(upload)


def queue_upload(upload, *, user=None, course=None, new_course_title=None, title=None, step=None, publish=True):
    """Save ``upload`` to private storage, create its ``PackageImport`` row and enqueue the
    import task once the transaction commits. Refuses (writing nothing) what is not a zip
    or names no valid destination; the rest is checked by the task. ``publish`` (with
    ``step``): publish the step once its package is imported, else leave it a draft."""
    _check_target(course, new_course_title, step)
    check_head(upload)
    key = uuid.uuid4()
    name = private_storage().save(f"{UPLOADS}/{key}.zip", upload)
    row = PackageImport.objects.create(
        uuid=key, upload=name, original_name=(getattr(upload, "name", "") or "paquet.zip")[:255],
        course=course.specific if course is not None else None, replace_step=step, title=(title or "")[:255],
        created_by=user,
    )
    from learning import tasks

    course_title = new_course_title or None
    options = {"new_course_title": course_title}
    if step is not None:
        options["publish"] = bool(publish)
    transaction.on_commit(lambda: tasks.import_package_upload.enqueue(str(key), **options))
    return row


def run_upload(import_uuid, *, new_course_title=None, publish=True):
    """The import task's work: import the row's zip, record progress, then ``step`` or
    ``error`` and ``finished_at``; the uploaded zip is deleted at the end. ``publish``:
    whether a ``replace_step`` is published with its new package or left a draft."""
    row = PackageImport.objects.select_related("course", "replace_step", "created_by").filter(uuid=import_uuid).first()
    if row is None or row.finished_at is not None:
        return None
    rows = PackageImport.objects.filter(pk=row.pk)
    reported = {"value": 0.0}

    def progress(done, total):
        value = round(0.95 * done / total, 2) if total else 0.0
        if value - reported["value"] >= 0.01:
            reported["value"] = value
            rows.update(progress=value)

    storage = private_storage()
    try:
        with storage.open(row.upload, "rb") as file:
            result = import_package(
                file, user=row.created_by, course=row.course, step=row.replace_step,
                new_course_title=new_course_title if row.course is None and row.replace_step is None else None,
                title=row.title or None, progress=progress, publish=publish,
            )
        rows.update(step=result.step, progress=1.0, finished_at=timezone.now())
        return result.step.pk
    except ValidationError as exc:
        rows.update(error=" ".join(messages_of(exc)), finished_at=timezone.now())
    except Exception:
        logger.exception("package import %s failed", import_uuid)
        rows.update(
            error=_("L'import a échoué sur une erreur inattendue : réessayez, et si le problème persiste, "
                    "transmettez le paquet à l'équipe technique."),
            finished_at=timezone.now(),
        )
    finally:
        if storage.exists(row.upload):
            storage.delete(row.upload)
    return None
