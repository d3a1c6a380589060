"""Errors of the LRS: each carries the HTTP status the protocol prescribes and a precise message."""


class XAPIError(Exception):
    status = 400

    def __init__(self, message, *, headers=None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class XAPIBadRequest(XAPIError):
    status = 400


class XAPIUnauthorized(XAPIError):
    status = 401


class XAPIForbidden(XAPIError):
    status = 403


class XAPINotFound(XAPIError):
    status = 404


class XAPIMethodNotAllowed(XAPIError):
    status = 405


class XAPIConflict(XAPIError):
    status = 409


class XAPIPreconditionFailed(XAPIError):
    status = 412
