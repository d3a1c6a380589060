"""Signed statements (Part Two 2.6): a JWS compact serialisation in an attachment of usageType
``http://adlnet.gov/expapi/attachments/signature``, RS256/RS384/RS512, whose payload is the
statement as signed. Verified with joserfc against the first certificate of ``x5c`` when the
header carries one."""

import base64
import binascii
import json

from cryptography import x509
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from xapi import validation
from xapi.errors import XAPIBadRequest

ALGORITHMS = ("RS256", "RS384", "RS512")
MAX_TOKEN_LENGTH = 256 * 1024


class _Registry(jws.JWSRegistry):
    """joserfc's registry with room for an ``x5c`` certificate chain in the header and a
    whole statement in the payload (its defaults are sized for tokens, not statements)."""

    max_header_length = 64 * 1024
    max_payload_length = MAX_TOKEN_LENGTH
    max_signature_length = 4096


REGISTRY = _Registry(algorithms=list(ALGORITHMS), strict_check_header=False)
IGNORED = ("id", "stored", "authority", "version", "timestamp")


def _b64url_json(segment, path, what):
    try:
        padded = segment + "=" * (-len(segment) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        raise XAPIBadRequest(f"{path}: the JWS {what} is not base64url-encoded JSON") from None


def _without_signature(statement):
    statement = dict(statement)
    kept = [a for a in statement.get("attachments", []) if a.get("usageType") != validation.SIGNATURE_USAGE]
    if kept:
        statement["attachments"] = kept
    else:
        statement.pop("attachments", None)
    return statement


def _comparable(statement, reference):
    """The statement as signed: the LRS-set properties dropped when the payload lacks them."""
    statement = _without_signature(statement)
    for key in IGNORED:
        if key not in reference:
            statement.pop(key, None)
    return validation.comparable(statement)


def verify(statement, token, path):
    """Raise ``XAPIBadRequest`` unless ``token`` (bytes) is a valid signature of ``statement``."""
    try:
        text = bytes(token).decode("ascii").strip()
    except UnicodeDecodeError:
        raise XAPIBadRequest(f"{path}: the signature is not a JWS compact serialisation") from None
    if len(text) > MAX_TOKEN_LENGTH:
        raise XAPIBadRequest(f"{path}: the signature is larger than {MAX_TOKEN_LENGTH} bytes")
    segments = text.split(".")
    if len(segments) != 3 or not all(segments[:2]):
        raise XAPIBadRequest(f"{path}: the signature is not a JWS compact serialisation")
    header = _b64url_json(segments[0], path, "header")
    payload = _b64url_json(segments[1], path, "payload")
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        raise XAPIBadRequest(f"{path}: the JWS algorithm must be RS256, RS384 or RS512")
    if not isinstance(payload, dict):
        raise XAPIBadRequest(f"{path}: the JWS payload must be the signed statement")
    try:
        validation.statement(payload, f"{path}.payload")
    except XAPIBadRequest as exc:
        raise XAPIBadRequest(f"the JWS payload is not a valid statement: {exc.message}") from None
    if canonical(_comparable(payload, payload)) != canonical(_comparable(statement, payload)):
        raise XAPIBadRequest(f"{path}: the JWS payload does not match the statement")
    chain = header.get("x5c")
    if chain is None:
        return
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise XAPIBadRequest(f"{path}: the JWS header x5c must be a list of base64 certificates")
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
        key = RSAKey.import_key(certificate.public_key())
    except (ValueError, TypeError, binascii.Error, JoseError):
        raise XAPIBadRequest(f"{path}: the x5c certificate is not a valid RSA certificate") from None
    try:
        jws.deserialize_compact(text, key, registry=REGISTRY)
    except (JoseError, ValueError):
        raise XAPIBadRequest(f"{path}: the JWS signature does not verify with the x5c certificate") from None


def canonical(value):
    return validation.canonical_json(value)
