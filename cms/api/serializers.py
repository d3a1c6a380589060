from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class OrgUnitRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ManagerRefSerializer(serializers.Serializer):
    employee_number = serializers.CharField()
    full_name = serializers.CharField()


class RoleSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    employee_number = serializers.CharField(allow_null=True)
    job_title = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    employment_status = serializers.CharField(allow_null=True)
    org_unit = OrgUnitRefSerializer(allow_null=True)
    manager = ManagerRefSerializer(allow_null=True)
    roles = RoleSerializer(many=True)


class HealthDatabaseSerializer(serializers.Serializer):
    status = serializers.CharField(help_text=_("« ok » ou « error »."))
    vendor = serializers.CharField(help_text=_("Moteur de base de données (postgresql, sqlite)."))
    error = serializers.CharField(required=False, help_text=_("Classe de l'erreur rencontrée."))


class HealthTasksSerializer(serializers.Serializer):
    backend = serializers.CharField(help_text=_("Moteur des tâches (DatabaseBackend, RQBackend, ImmediateBackend)."))
    status = serializers.CharField(help_text=_("« ok » ou « error »."))
    queued = serializers.IntegerField(required=False, help_text=_("Tâches en attente d'un worker."))
    oldest_queued_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Mise en file de la plus ancienne tâche en attente.")
    )
    oldest_queued_age_seconds = serializers.FloatField(
        required=False, allow_null=True, help_text=_("Attente de la plus ancienne tâche, en secondes.")
    )
    last_worker_run = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Dernière tâche exécutée par un worker.")
    )
    error = serializers.CharField(required=False, help_text=_("Classe de l'erreur rencontrée."))


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    database = HealthDatabaseSerializer()
    tasks = HealthTasksSerializer()


class ErrorSerializer(serializers.Serializer):
    """Every API error: a readable ``detail``; field or parameter errors under ``errors``."""

    detail = serializers.CharField(help_text=_("Message lisible."))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("Erreurs par champ ou paramètre : {nom: [messages]}."),
    )
