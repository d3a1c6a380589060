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


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    database = serializers.DictField()
    tasks = serializers.DictField()


class ErrorSerializer(serializers.Serializer):
    """Every API error: a readable ``detail``; field or parameter errors under ``errors``."""

    detail = serializers.CharField(help_text=_("Message lisible."))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("Erreurs par champ ou paramètre : {nom: [messages]}."),
    )
