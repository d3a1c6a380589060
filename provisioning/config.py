"""What django-scim2 reads from ``SCIM_SERVICE_PROVIDER`` (cms/settings/provisioning.py): the
resource model, where resources live and what the service provider supports."""

from urllib.parse import urljoin

from django.conf import settings
from django.urls import reverse
from django_scim import constants
from django_scim.models import SCIMServiceProviderConfig


def agent_model():
    """A SCIM User is an agent (with its account): ``/Users/<agent id>``."""
    from cms.models import Agent

    return Agent


def base_location(request=None, *args, **kwargs):
    """Absolute locations are built on the public base URL, never on the Host header."""
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/"


def location(path):
    return urljoin(base_location(), path.lstrip("/"))


class ServiceProviderConfig(SCIMServiceProviderConfig):
    """RFC 7643 §5: what this service provider implements."""

    @property
    def location(self):
        return location(reverse("scim:service-provider-config"))

    def to_dict(self):
        data = super().to_dict()
        data.update(
            {
                "patch": {"supported": True},
                "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
                "filter": {"supported": True, "maxResults": settings.SCIM_MAX_RESULTS},
                "changePassword": {"supported": False},
                "sort": {"supported": False},
                "etag": {"supported": True},
            }
        )
        data["schemas"] = [constants.SchemaURI.SERVICE_PROVIDER_CONFIG]
        return data
