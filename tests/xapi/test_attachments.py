"""Attachments (Part Two 2.4.11, Part Three 1.5.2) and signed statements (Part Two 2.6)."""

import base64
import datetime
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import OctKey, RSAKey

from tests.xapi.conftest import statement
from xapi.models import Statement, StatementAttachment

BOUNDARY = "abcABC0123'()+_,-./:=?"
TEXT = b"here is a simple attachment"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def attachment(data=TEXT, **overrides):
    value = {"usageType": "http://example.com/attachment-usage/test", "display": {"en-US": "A test attachment"},
             "contentType": "text/plain; charset=ascii", "length": len(data), "sha2": sha256(data)}  # fmt: skip
    value.update(overrides)
    return value


def multipart(statements, parts, *, first_type="application/json", encoding="binary"):
    body = [f"--{BOUNDARY}\r\nContent-Type:{first_type}\r\n\r\n".encode(), json.dumps(statements).encode()]
    for data, digest in parts:
        headers = f"Content-Type:text/plain\r\nX-Experience-API-Hash:{digest}\r\n"
        if encoding:
            headers += f"Content-Transfer-Encoding:{encoding}\r\n"
        body += [f"\r\n--{BOUNDARY}\r\n{headers}\r\n".encode(), data]
    body.append(f"\r\n--{BOUNDARY}--".encode())
    return b"".join(body)


def post_multipart(lrs, statements, parts, method="post", params=None, **kwargs):
    return getattr(lrs, method)("statements", multipart(statements, parts, **kwargs), params,
                                content_type=f'multipart/mixed; boundary="{BOUNDARY}"')  # fmt: skip


def test_a_multipart_statement_with_its_attachment_is_stored_and_returned(lrs):
    response = post_multipart(lrs, [statement(attachments=[attachment()])], [(TEXT, sha256(TEXT))])
    assert response.status_code == 200, response.content
    statement_id = response.json()[0]
    assert bytes(StatementAttachment.objects.get().content) == TEXT
    got = lrs.get("statements", {"statementId": statement_id, "attachments": "true"})
    assert got["Content-Type"].startswith("multipart/mixed; boundary=")
    boundary = got["Content-Type"].split('boundary="')[1].rstrip('"')
    parts = got.content.split(f"--{boundary}".encode())
    assert b"application/json" in parts[1] and statement_id.encode() in parts[1]
    assert parts[2].endswith(b"\r\n\r\n" + TEXT + b"\r\n")
    assert f"X-Experience-API-Hash: {sha256(TEXT)}".encode() in parts[2]
    plain = lrs.get("statements", {"statementId": statement_id, "attachments": "false"})
    assert plain["Content-Type"].startswith("application/json")
    query = lrs.get("statements", {"attachments": "true"})
    assert query.status_code == 200 and TEXT in query.content


def test_put_accepts_multipart_too(lrs):
    statement_id = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
    response = post_multipart(lrs, statement(attachments=[attachment()]), [(TEXT, sha256(TEXT))], method="put",
                              params={"statementId": statement_id})  # fmt: skip
    assert response.status_code == 204, response.content


def test_one_part_serves_two_statements(lrs):
    body = [statement(attachments=[attachment()]), statement(attachments=[attachment()])]
    assert post_multipart(lrs, body, [(TEXT, sha256(TEXT))]).status_code == 200
    assert StatementAttachment.objects.count() == 1


@pytest.mark.parametrize(
    ("rule", "statements", "parts", "kwargs"),
    [
        ("an attachment whose sha2 matches no part and has no fileUrl is rejected",
         [statement(attachments=[attachment()])], [], {}),
        ("a part whose data does not match its X-Experience-API-Hash is rejected",
         [statement(attachments=[attachment()])], [(b"other data", sha256(TEXT))], {}),
        ("a part matching no attachment is rejected", [statement()], [(TEXT, sha256(TEXT))], {}),
        ("a part needs Content-Transfer-Encoding: binary",
         [statement(attachments=[attachment()])], [(TEXT, sha256(TEXT))], {"encoding": None}),
        ("a part needs X-Experience-API-Hash", [statement(attachments=[attachment()])], [(TEXT, "")], {}),
        ("the first part must be application/json",
         [statement(attachments=[attachment()])], [(TEXT, sha256(TEXT))], {"first_type": "text/plain"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_multipart_rules(lrs, rule, statements, parts, kwargs):
    response = post_multipart(lrs, statements, parts, **kwargs)
    assert response.status_code == 400, rule
    assert not Statement.objects.exists()


def test_a_multipart_body_without_boundary_or_closing_is_rejected(lrs):
    assert lrs.post("statements", b"--x\r\n", content_type="multipart/mixed").status_code == 400
    truncated = multipart([statement()], [])[:-10]
    response = lrs.post("statements", truncated, content_type=f'multipart/mixed; boundary="{BOUNDARY}"')
    assert response.status_code == 400


def test_file_url_attachments_need_no_part(lrs):
    body = statement(attachments=[attachment(fileUrl="http://example.com/file.txt")])
    assert lrs.post("statements", body).status_code == 200
    assert post_multipart(lrs, [body], []).status_code == 200


# --- signed statements ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xAPI signer")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    der = certificate.public_bytes(serialization.Encoding.DER)
    return RSAKey.import_key(key), base64.b64encode(der).decode()


def signed(payload_statement, jwk, x5c, *, alg="RS256", tamper=None):
    header = {"alg": alg}
    if x5c:
        header["x5c"] = [x5c]
    token = jws.serialize_compact(header, json.dumps(payload_statement), jwk, algorithms=[alg]).encode()
    if tamper:
        token = tamper(token)
    sig = attachment(token, usageType=SIGNATURE_USAGE, contentType="application/octet-stream")
    return token, {**payload_statement, "attachments": [*payload_statement.get("attachments", []), sig]}


def test_a_validly_signed_statement_is_stored(lrs, signer):
    jwk, x5c = signer
    original = statement(id="fd41c918-b88b-4b20-a0a5-a4c32391aaa0")
    token, body = signed(original, jwk, x5c, alg="RS384")
    assert post_multipart(lrs, [body], [(token, sha256(token))]).status_code == 200


def test_a_signed_statement_without_x5c_is_checked_for_its_payload(lrs, signer):
    jwk, _x5c = signer
    token, body = signed(statement(), jwk, None)
    assert post_multipart(lrs, [body], [(token, sha256(token))]).status_code == 200


def flip_signature(token):
    head, payload, signature = token.split(b".")
    return b".".join([head, payload, (b"A" if signature[:1] != b"A" else b"B") + signature[1:]])


@pytest.mark.parametrize(
    ("rule", "build"),
    [
        ("a signature that does not verify with x5c is rejected",
         lambda jwk, x5c: signed(statement(), jwk, x5c, tamper=flip_signature)),
        ("a payload that differs from the statement is rejected",
         lambda jwk, x5c: (lambda t, b: (t, {**b, "verb": {"id": "http://example.com/other"}}))(
             *signed(statement(), jwk, x5c))),
        ("a JWS with an algorithm other than RS256/384/512 is rejected",
         lambda jwk, x5c: signed(statement(), OctKey.import_key(b"k" * 32), None, alg="HS256")),
        ("a signature that is not a JWS is rejected",
         lambda jwk, x5c: signed(statement(), jwk, x5c, tamper=lambda token: b"not a jws")),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_invalid_signatures_are_rejected(lrs, signer, rule, build):
    token, body = build(*signer)
    response = post_multipart(lrs, [body], [(token, sha256(token))])
    assert response.status_code == 400, rule
    assert not Statement.objects.exists()


def test_a_signature_must_be_octet_stream(lrs, signer):
    jwk, x5c = signer
    token, body = signed(statement(), jwk, x5c)
    body["attachments"][0]["contentType"] = "text/plain"
    assert post_multipart(lrs, [body], [(token, sha256(token))]).status_code == 400
