"""Settings of the provisioning part, applied at the end of base.py: ``apply(settings)`` reads and
changes the module's globals (INSTALLED_APPS, MIDDLEWARE, … are lists there).

SCIM 2.0 at ``/scim/v2/`` (django-scim2, docs/identity.md):

- ``SCIM_DEFAULT_ORG_UNIT``: code of the unit a provisioned agent joins when the client sends
  no ``department`` (created when missing, as a root unit « Agents à affecter »). Empty: a
  user without ``department`` is refused (400 naming the attribute). Default ``A-AFFECTER``.
- ``SCIM_MAX_RESULTS``: the largest page of a list (``count`` beyond it is capped). Default 1000.
"""

import os


def apply(s):
    """Change the settings dict ``s`` in place."""
    env_int = s["env_int"]
    s["SCIM_DEFAULT_ORG_UNIT"] = os.environ.get("SCIM_DEFAULT_ORG_UNIT", "A-AFFECTER").strip()
    s["SCIM_MAX_RESULTS"] = env_int("SCIM_MAX_RESULTS", 1000, minimum=1)
    s["SCIM_SERVICE_PROVIDER"] = {
        "USER_MODEL_GETTER": "provisioning.config.agent_model",
        "USER_ADAPTER": "provisioning.adapters.AgentUser",
        "GROUP_MODEL": "django.contrib.auth.models.Group",
        "GROUP_ADAPTER": "provisioning.adapters.RoleGroup",
        "USER_FILTER_PARSER": "provisioning.filters.AgentFilterQuery",
        "GROUP_FILTER_PARSER": "provisioning.filters.RoleFilterQuery",
        "SERVICE_PROVIDER_CONFIG_MODEL": "provisioning.config.ServiceProviderConfig",
        "BASE_LOCATION_GETTER": "provisioning.config.base_location",
        "GET_IS_AUTHENTICATED_PREDICATE": "provisioning.auth.is_scim_client",
        "AUTH_CHECK_MIDDLEWARE": "provisioning.auth.BearerTokenMiddleware",
        "NETLOC": "parcours",  # unused: locations are built on WAGTAILADMIN_BASE_URL (base_location)
        "DOCUMENTATION_URI": None,
        "EXPOSE_SCIM_EXCEPTIONS": False,
        "WWW_AUTHENTICATE_HEADER": 'Bearer realm="Parcours SCIM"',
        "AUTHENTICATION_SCHEMES": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "Jeton créé par « manage.py create_scim_token NOM », envoyé dans "
                "l'en-tête Authorization: Bearer <jeton>.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": True,
            }
        ],
    }
