"""Serializers of the package API (SCORM attempts): documented shapes for the schema and
plain dict building (no per-SCO queries: everything comes from the attempt's JSON)."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from learning.choices import AttemptStatus, EnrollmentStatus, PackageStandard
from learning.packages import runtime


class PackageLaunchRequestSerializer(serializers.Serializer):
    au = serializers.CharField(
        required=False, max_length=2000,
        help_text=_("cmi5 : l'identifiant de l'AU à lancer (attribut id de la structure de cours) ; par défaut, la "
                    "première AU non terminée. Ignoré pour un paquet SCORM."),
    )  # fmt: skip
    mode = serializers.ChoiceField(
        choices=["normal", "browse"], required=False, default="normal",
        help_text=_("cmi5 : « browse » lance l'AU en mode Browse (découverte sans résultat enregistré) si le module "
                    "le permet ; par défaut « normal » (ou Review pour une AU déjà terminée)."),
    )  # fmt: skip


class PackageLaunchSerializer(serializers.Serializer):
    url = serializers.URLField(
        help_text=_("Adresse du lecteur de la tentative (à ouvrir dans le navigateur) ; pour un cours cmi5, "
                    "l'adresse de lancement de l'AU avec endpoint, fetch, actor, registration et activityId.")
    )  # fmt: skip
    attempt = serializers.IntegerField(help_text=_("Identifiant de la tentative (pour cmi5 : l'inscription cmi5)."))
    registration = serializers.UUIDField(required=False, help_text=_("cmi5 : la registration de l'inscription."))


class CommitRequestSerializer(serializers.Serializer):
    """Documentation of the commit body (checked by ``learning.services.clean_commit``)."""

    sco = serializers.CharField(max_length=255, help_text=_("Identifiant de l'item (SCO) du manifeste."))
    seq = serializers.IntegerField(min_value=1, help_text=_("Numéro d'envoi, strictement croissant par tentative."))
    cmi = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text=_("Éléments CMI « à plat » (\"cmi.core.lesson_status\": \"incomplete\"…), fusionnés avec ceux "
                    "déjà enregistrés."),
    )
    terminate = serializers.BooleanField(default=False, help_text=_("Fin de la session du SCO (LMSFinish/Terminate)."))


# A plain string in the schema: a second enum named "status" would collide with the
# enrolment's (drf-spectacular names enums after the field).
ATTEMPT_STATUS_HELP = format_lazy("{} {}.", _("Statut de la tentative :"), ", ".join(AttemptStatus.values))

ENROLLMENT_STATUS_HELP = format_lazy("{} {}.", _("Statut de l'inscription :"), ", ".join(EnrollmentStatus.values))


class _AttemptSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text=ATTEMPT_STATUS_HELP)
    score = serializers.FloatField(allow_null=True)
    progress = serializers.FloatField()


class _EnrollmentSummarySerializer(serializers.Serializer):
    status = serializers.CharField(help_text=ENROLLMENT_STATUS_HELP)
    progress = serializers.FloatField()
    score = serializers.FloatField(allow_null=True)


class CommitResponseSerializer(serializers.Serializer):
    applied = serializers.BooleanField(help_text=_("Faux pour un envoi rejoué, ancien, ou en mode révision."))
    last_seq = serializers.IntegerField()
    attempt = _AttemptSummarySerializer()
    enrollment = _EnrollmentSummarySerializer()
    beacon_url = serializers.CharField(help_text=_("Nouvelle adresse à usage unique pour l'envoi final (sendBeacon)."))


class _PackageSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    version = serializers.IntegerField()
    standard = serializers.ChoiceField(choices=PackageStandard.choices)
    title = serializers.CharField()


class _ScoSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    title = serializers.CharField()
    completion = serializers.CharField()
    success = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    total_seconds = serializers.FloatField()
    total_time = serializers.CharField(help_text=_("Au format de la norme du paquet."))
    sessions = serializers.IntegerField()
    terminated = serializers.BooleanField()
    cmi = serializers.DictField(child=serializers.CharField(allow_blank=True))


class PackageAttemptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.CharField(help_text=ATTEMPT_STATUS_HELP)
    score = serializers.FloatField(allow_null=True)
    progress = serializers.FloatField()
    total_seconds = serializers.FloatField()
    last_seq = serializers.IntegerField()
    step = serializers.IntegerField()
    enrollment = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    package = _PackageSerializer()
    scos = _ScoSerializer(many=True)

    def to_representation(self, attempt):
        package = attempt.package
        fmt = runtime.format_timespan if package.standard == PackageStandard.SCORM12 else runtime.format_duration
        scos = []
        for item in package.launchables or []:
            state = attempt.scos.get(item["identifier"]) or {}
            total = state.get("total_seconds", 0.0)
            scos.append(
                {
                    "identifier": item["identifier"],
                    "title": item.get("title", ""),
                    "completion": state.get("completion", runtime.NOT_ATTEMPTED),
                    "success": state.get("success", runtime.UNKNOWN),
                    "score": state.get("score"),
                    "total_seconds": total,
                    "total_time": fmt(total),
                    "sessions": state.get("sessions", 0),
                    "terminated": bool(state.get("terminated")),
                    "cmi": state.get("cmi") or {},
                }
            )
        return {
            "id": attempt.pk,
            "number": attempt.number,
            "status": attempt.status,
            "score": attempt.score,
            "progress": attempt.progress,
            "total_seconds": attempt.total_seconds,
            "last_seq": attempt.last_seq,
            "step": attempt.step_id,
            "enrollment": attempt.enrollment_id,
            "started_at": serializers.DateTimeField().to_representation(attempt.started_at),
            "updated_at": serializers.DateTimeField().to_representation(attempt.updated_at),
            "finished_at": serializers.DateTimeField().to_representation(attempt.finished_at)
            if attempt.finished_at else None,
            "package": {
                "uuid": str(package.uuid), "version": package.version, "standard": package.standard,
                "title": package.title,
            },
            "scos": scos,
        }
