"""SCIM errors (RFC 7644 §3.12): ``{"schemas": [Error], "status": "400", "scimType": …, "detail": …}``."""

from django_scim import exceptions


class ScimError(exceptions.SCIMException):
    """Rendered by the views with ``status`` as a string, as RFC 7644 §3.12 requires."""

    def __init__(self, detail, *, status=400, scim_type=None):
        super().__init__(detail, status=status, scim_type=scim_type)

    def to_dict(self):
        return to_dict(self)


def to_dict(exc):
    body = {"schemas": exc.schemas, "status": str(exc.status), "detail": str(exc.detail)}
    if exc.scim_type:
        body["scimType"] = exc.scim_type
    return body


def invalid_value(detail):
    return ScimError(detail, scim_type="invalidValue")


def invalid_syntax(detail):
    return ScimError(detail, scim_type="invalidSyntax")


def invalid_path(detail):
    return ScimError(detail, scim_type="invalidPath")


def invalid_filter(detail):
    return ScimError(detail, scim_type="invalidFilter")


def uniqueness(detail):
    return ScimError(detail, status=409, scim_type="uniqueness")


def mutability(detail):
    return ScimError(detail, scim_type="mutability")


def not_found(resource_id):
    return ScimError(f"Ressource {str(resource_id)[:64]} introuvable.", status=404)


def precondition_failed():
    return ScimError("La version de la ressource a changé (If-Match).", status=412)
