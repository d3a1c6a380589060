"""django-scim2 adapters: a SCIM ``User`` is an agent, a SCIM ``Group`` is a role.

The representations live in ``provisioning.representation`` and every write in
``provisioning.services``; the adapters give django-scim2 what its discovery views
(``/ResourceTypes``) and helpers read.
"""

from django_scim.adapters import SCIMGroup, SCIMUser

from provisioning.representation import ENTERPRISE, group_resource, user_resource


class AgentUser(SCIMUser):
    id_field = "pk"

    @property
    def display_name(self):
        return self.obj.user.get_full_name() or self.obj.employee_number

    def to_dict(self):
        return user_resource(self.obj)

    @classmethod
    def resource_type_dict(cls, request=None):
        data = super().resource_type_dict(request)
        data["description"] = "Agent (compte et fiche de l'annuaire)"
        data["schemaExtensions"] = [{"schema": ENTERPRISE, "required": False}]
        return data


class RoleGroup(SCIMGroup):
    id_field = "pk"

    def to_dict(self):
        return group_resource(self.obj)

    @classmethod
    def resource_type_dict(cls, request=None):
        data = super().resource_type_dict(request)
        data["description"] = "Rôle Parcours (RH, éditeurs de formation, recruteurs, membres de jury)"
        return data
