"""Part Two (statement data) requirements, one row each: the rule, a statement, the status the
LRS must answer to POST /xapi/statements. 400 answers name the property path."""

import pytest

from tests.xapi.conftest import ACTIVITY, ACTOR, VERB, statement
from xapi import validation

UUID = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
SHA = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
ACCOUNT = {"homePage": "http://example.com", "name": "ada"}
GROUP = {"objectType": "Group", "name": "Team", "member": [ACTOR]}
IDENTIFIED_GROUP = {"objectType": "Group", "mbox": "mailto:team@example.com"}
SUB = {"objectType": "SubStatement", "actor": ACTOR, "verb": VERB, "object": ACTIVITY}
OTHER_AUTHORITY = {"mbox": "mailto:auth@example.com"}
ATTACHMENT = {"usageType": "http://example.com/usage", "display": {"en-US": "A"}, "contentType": "text/plain",
              "length": 27, "sha2": SHA, "fileUrl": "http://example.com/file.txt"}


def with_definition(**definition):
    return statement(object={**ACTIVITY, "definition": definition})


def with_score(**score):
    return statement(result={"score": score})


def with_context(**context):
    return statement(context=context)


def sub(**overrides):
    return statement(object={**SUB, **overrides})


ROWS = [
    # --- statement structure
    ("a minimal statement (actor, verb, object) is accepted", statement(), 200),
    ("a Statement contains an actor", statement(actor=None), 400),
    ("a Statement contains a verb", statement(verb=None), 400),
    ("a Statement contains an object", statement(object=None), 400),
    ("a property set to null is rejected", {**statement(), "result": None}, 400),
    ("an unknown top-level property is rejected", {**statement(), "foo": 1}, 400),
    ("property names are case-sensitive (Actor)", {"Actor": ACTOR, "verb": VERB, "object": ACTIVITY}, 400),
    ("a statement must be a JSON object", ["not", "a", "statement"], 400),
    ("the id is a UUID", statement(id=UUID), 200),
    ("an id that is not a UUID is rejected", statement(id="not-a-uuid"), 400),
    ("an id with too many digits is rejected", statement(id=UUID + "0"), 400),
    ("an id with non hexadecimal digits is rejected", statement(id="gd41c918-b88b-4b20-a0a5-a4c32391aaa0"), 400),
    ("a numeric id is rejected", statement(id=12), 400),
    ("the version 1.0.3 is accepted", statement(version="1.0.3"), 200),
    ("a version other than 1.0.x is rejected", statement(version="0.95"), 400),
    ("a version 2.0.0 is rejected", statement(version="2.0.0"), 400),
    ("a timestamp in ISO 8601 with Z is accepted", statement(timestamp="2024-01-02T03:04:05.678Z"), 200),
    ("a timestamp with an offset is accepted", statement(timestamp="2024-01-02T03:04:05+02:00"), 200),
    ("a timestamp without a time zone is rejected", statement(timestamp="2024-01-02T03:04:05"), 400),
    ("a timestamp with the -00:00 offset is rejected", statement(timestamp="2024-01-02T03:04:05-00:00"), 400),
    ("a timestamp that is not a date is rejected", statement(timestamp="yesterday"), 400),
    ("an impossible date is rejected", statement(timestamp="2024-02-30T03:04:05Z"), 400),
    ("stored given by the provider is a valid timestamp", statement(stored="2024-01-02T03:04:05Z"), 200),
    ("an invalid stored is rejected", statement(stored="2024"), 400),
    # --- actor, agents and groups
    ("an Agent with mbox is accepted", statement(actor={"mbox": "mailto:a@example.com"}), 200),
    ("an mbox must be a mailto IRI", statement(actor={"mbox": "a@example.com"}), 400),
    ("an Agent with mbox_sha1sum is accepted",
     statement(actor={"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}), 200),
    ("mbox_sha1sum must be 40 hexadecimal digits", statement(actor={"mbox_sha1sum": "xyz"}), 400),
    ("an Agent with openid is accepted", statement(actor={"openid": "http://openid.example.com/ada"}), 200),
    ("openid must be an IRI", statement(actor={"openid": "not an iri"}), 400),
    ("an Agent with an account is accepted", statement(actor={"account": ACCOUNT}), 200),
    ("an account needs a homePage", statement(actor={"account": {"name": "ada"}}), 400),
    ("an account needs a name", statement(actor={"account": {"homePage": "http://example.com"}}), 400),
    ("an account name is a string", statement(actor={"account": {"homePage": "http://example.com", "name": 5}}), 400),
    ("an account homePage is an IRL", statement(actor={"account": {"homePage": "example", "name": "a"}}), 400),
    ("an Agent has exactly one IFI (none)", statement(actor={"name": "Ada"}), 400),
    ("an Agent has exactly one IFI (two)",
     statement(actor={"mbox": "mailto:a@example.com", "openid": "http://openid.example.com/a"}), 400),
    ("an Agent name is a string", statement(actor={"mbox": "mailto:a@example.com", "name": 3}), 400),
    ("objectType values are case-sensitive (agent)", statement(actor={**ACTOR, "objectType": "agent"}), 400),
    ("an anonymous Group with members is accepted", statement(actor=GROUP), 200),
    ("an anonymous Group must list members", statement(actor={"objectType": "Group", "name": "T"}), 400),
    ("an identified Group is accepted", statement(actor=IDENTIFIED_GROUP), 200),
    ("an identified Group has at most one IFI",
     statement(actor={**IDENTIFIED_GROUP, "openid": "http://openid.example.com/t"}), 400),
    ("a Group's members are Agents, not Groups", statement(actor={**GROUP, "member": [IDENTIFIED_GROUP]}), 400),
    ("a Group's member property is an array", statement(actor={**GROUP, "member": ACTOR}), 400),
    ("a Group's members each have one IFI", statement(actor={**GROUP, "member": [{"name": "x"}]}), 400),
    # --- verb
    ("a verb needs an id", statement(verb={"display": {"en-US": "x"}}), 400),
    ("a verb id is an IRI", statement(verb={"id": "experienced"}), 400),
    ("an empty verb id is rejected", statement(verb={"id": ""}), 400),
    ("a verb display is a language map", statement(verb={"id": VERB["id"], "display": "experienced"}), 400),
    ("a language map key is an RFC 5646 tag (de)", statement(verb={"id": VERB["id"], "display": {"de": "x"}}), 200),
    ("a language map key must be a valid tag", statement(verb={"id": VERB["id"], "display": {"a12345678": "x"}}), 400),
    ("language tags with script and region are accepted (zh-Hans-CN)",
     statement(verb={"id": VERB["id"], "display": {"zh-Hans-CN": "x"}}), 200),
    ("a repeated extension singleton is invalid (zh-z-aaa-z-bbb)",
     statement(verb={"id": VERB["id"], "display": {"zh-z-aaa-z-bbb-c-ccc": "x"}}), 400),
    ("a language map value is a string", statement(verb={"id": VERB["id"], "display": {"en": 1}}), 400),
    ("an unknown verb property is rejected", statement(verb={**VERB, "name": "x"}), 400),
    # --- activity object
    ("an object without objectType is an Activity", statement(object={"id": "http://example.com/a"}), 200),
    ("an Activity needs an id", statement(object={"objectType": "Activity"}), 400),
    ("an Activity id is an IRI", statement(object={"objectType": "Activity", "id": "not an iri"}), 400),
    ("an unknown objectType is rejected", statement(object={"objectType": "Thing", "id": "http://e.com"}), 400),
    ("an Activity with a full definition is accepted",
     with_definition(name={"en-US": "N"}, description={"en-US": "D"}, type="http://example.com/type",
                     moreInfo="http://example.com/more", extensions={"http://example.com/ext": {"a": None}}), 200),
    ("an Activity definition name is a language map", with_definition(name="Name"), 400),
    ("an Activity definition type is an IRI", with_definition(type="course"), 400),
    ("an Activity moreInfo is an IRL", with_definition(moreInfo="nowhere"), 400),
    ("extension keys are IRIs", with_definition(extensions={"ext": 1}), 400),
    ("extension values may be null or empty", with_definition(extensions={}), 200),
    ("interactionType choice with choices is accepted",
     with_definition(interactionType="choice", correctResponsesPattern=["a"],
                     choices=[{"id": "a", "description": {"en-US": "A"}}, {"id": "b"}]), 200),
    ("interactionType values are case-sensitive (choiCe)", with_definition(interactionType="choiCe"), 400),
    ("interactionType must be one of the spec's types", with_definition(interactionType="essay"), 400),
    ("correctResponsesPattern is an array of strings",
     with_definition(interactionType="fill-in", correctResponsesPattern="a"), 400),
    ("correctResponsesPattern requires an interactionType", with_definition(correctResponsesPattern=["a"]), 400),
    ("component lists require an interactionType", with_definition(choices=[{"id": "a"}]), 400),
    ("a component list must match the interaction type (scale on choice)",
     with_definition(interactionType="choice", scale=[{"id": "a"}]), 400),
    ("likert uses scale", with_definition(interactionType="likert", scale=[{"id": "1"}, {"id": "2"}]), 200),
    ("matching uses source and target",
     with_definition(interactionType="matching", source=[{"id": "a"}], target=[{"id": "b"}]), 200),
    ("performance uses steps", with_definition(interactionType="performance", steps=[{"id": "s1"}]), 200),
    ("interaction component ids are unique",
     with_definition(interactionType="choice", choices=[{"id": "a"}, {"id": "a"}]), 400),
    ("an interaction component needs an id", with_definition(interactionType="choice", choices=[{}]), 400),
    ("an interaction component description is a language map",
     with_definition(interactionType="sequencing", choices=[{"id": "a", "description": "A"}]), 400),
    # --- other objects
    ("an Agent may be the object", statement(object={"objectType": "Agent", "mbox": "mailto:b@example.com"}), 200),
    ("a Group may be the object", statement(object=IDENTIFIED_GROUP), 200),
    ("a StatementRef object is accepted", statement(object={"objectType": "StatementRef", "id": UUID}), 200),
    ("a StatementRef id is a UUID", statement(object={"objectType": "StatementRef", "id": "x"}), 400),
    ("a StatementRef needs an id", statement(object={"objectType": "StatementRef"}), 400),
    ("a SubStatement is accepted", sub(), 200),
    ("a SubStatement must not contain a SubStatement", sub(object=SUB), 400),
    ("a SubStatement must not have an id", sub(id=UUID), 400),
    ("a SubStatement must not have stored", sub(stored="2024-01-02T03:04:05Z"), 400),
    ("a SubStatement must not have a version", sub(version="1.0.0"), 400),
    ("a SubStatement must not have an authority", sub(authority=ACTOR), 400),
    ("a SubStatement needs an actor", statement(object={k: v for k, v in SUB.items() if k != "actor"}), 400),
    ("a SubStatement's context is validated", sub(context={"registration": "x"}), 400),
    # --- result
    ("a full result is accepted",
     statement(result={"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": True, "completion": True,
                       "response": "yes", "duration": "PT1H2M3.5S", "extensions": {"http://e.com/x": 1}}), 200),
    ("score.scaled is between -1 and 1", with_score(scaled=1.5), 400),
    ("score.scaled may be -1", with_score(scaled=-1), 200),
    ("score.raw is not below min", with_score(raw=-1, min=0, max=10), 400),
    ("score.raw is not above max", with_score(raw=11, min=0, max=10), 400),
    ("score.max is greater than min", with_score(min=10, max=5), 400),
    ("a score is a number, not a string", with_score(raw="5"), 400),
    ("a score is a number, not a boolean", with_score(raw=True), 400),
    ("result.success is a boolean, not a string", statement(result={"success": "true"}), 400),
    ("result.completion is a boolean", statement(result={"completion": 1}), 400),
    ("result.response is a string", statement(result={"response": 4}), 400),
    ("result.duration is ISO 8601", statement(result={"duration": "1 hour"}), 400),
    ("result.duration in weeks is accepted", statement(result={"duration": "P2W"}), 200),
    ("an empty duration P is rejected", statement(result={"duration": "P"}), 400),
    ("an unknown result property is rejected", statement(result={"grade": "A"}), 400),
    # --- context
    ("a full context is accepted",
     with_context(registration=UUID, instructor=ACTOR, team=IDENTIFIED_GROUP, revision="1", platform="web",
                  language="fr-FR", statement={"objectType": "StatementRef", "id": UUID},
                  contextActivities={"parent": ACTIVITY, "grouping": [ACTIVITY], "category": [ACTIVITY],
                                     "other": [ACTIVITY]}, extensions={"http://e.com/x": None}), 200),
    ("context.registration is a UUID", with_context(registration="abc"), 400),
    ("context.instructor is an Agent or Group", with_context(instructor={"name": "x"}), 400),
    ("context.team is a Group", with_context(team=ACTOR), 400),
    ("contextActivities keys are parent, grouping, category, other", with_context(contextActivities={"x": []}), 400),
    ("contextActivities values are Activities", with_context(contextActivities={"parent": "http://e.com"}), 400),
    ("context.revision is not allowed when the object is an Agent",
     statement(object={"mbox": "mailto:b@example.com", "objectType": "Agent"}, context={"revision": "1"}), 400),
    ("context.platform is not allowed when the object is a StatementRef",
     statement(object={"objectType": "StatementRef", "id": UUID}, context={"platform": "web"}), 400),
    ("context.language is a language tag", with_context(language="not a tag"), 400),
    ("three-letter language tags are accepted (cmn)", with_context(language="cmn"), 200),
    ("context.statement is a StatementRef", with_context(statement={"objectType": "Activity", "id": UUID}), 400),
    ("context extension keys are IRIs", with_context(extensions={"x": 1}), 400),
    # --- authority and attachments
    ("an authority Agent is accepted", statement(authority=OTHER_AUTHORITY), 200),
    ("an authority must be a valid Agent", statement(authority={"name": "no ifi"}), 400),
    ("an authority Group is an OAuth pair of two Agents",
     statement(authority={"objectType": "Group", "member": [ACTOR, OTHER_AUTHORITY, {"mbox": "mailto:c@e.com"}]}), 400),
    ("fileUrl-only attachments are accepted in JSON", statement(attachments=[ATTACHMENT]), 200),
    ("an attachment needs a usageType", statement(attachments=[{**ATTACHMENT, "usageType": None}]), 400),
    ("attachment usageType is an IRI", statement(attachments=[{**ATTACHMENT, "usageType": "sig"}]), 400),
    ("attachment display is a language map", statement(attachments=[{**ATTACHMENT, "display": "A"}]), 400),
    ("attachment length is an integer", statement(attachments=[{**ATTACHMENT, "length": "27"}]), 400),
    ("attachment sha2 is a SHA-2 digest", statement(attachments=[{**ATTACHMENT, "sha2": "abc"}]), 400),
    ("attachment contentType is a media type", statement(attachments=[{**ATTACHMENT, "contentType": "text"}]), 400),
    ("attachment fileUrl is an IRL", statement(attachments=[{**ATTACHMENT, "fileUrl": "file"}]), 400),
    ("an attachment without fileUrl and without a part is rejected",
     statement(attachments=[{k: v for k, v in ATTACHMENT.items() if k != "fileUrl"}]), 400),
    ("attachments is an array", statement(attachments=ATTACHMENT), 400),
    # --- voiding
    ("a voiding statement's object must be a StatementRef",
     statement(verb={"id": validation.VOIDED_VERB}, object=ACTIVITY), 400),
]


@pytest.mark.parametrize(("rule", "body", "expected"), ROWS, ids=[row[0] for row in ROWS])
def test_statement_validation(lrs, rule, body, expected):
    response = lrs.post("statements", body)
    assert response.status_code == expected, response.content
    if expected == 400:
        message = response.json()["error"]["message"]
        assert message.startswith(("statement", "statements")), message


def test_there_are_enough_rules():
    assert len(ROWS) >= 80


def test_a_400_names_the_property_path(lrs):
    response = lrs.post("statements", statement(actor={"mbox": "ada@example.com"}))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "statement.actor.mbox: must be a mailto IRI (mailto:name@example.com)"


def test_a_batch_names_the_index_of_the_bad_statement(lrs):
    response = lrs.post("statements", [statement(), statement(verb={"id": "nope"})])
    assert response.json()["error"]["message"].startswith("statements[1].verb.id:")


def test_null_inside_extensions_is_kept(lrs):
    body = statement(result={"extensions": {"http://example.com/x": None}})
    statement_id = lrs.post("statements", body).json()[0]
    stored = lrs.get("statements", {"statementId": statement_id}).json()
    assert stored["result"]["extensions"] == {"http://example.com/x": None}


@pytest.mark.parametrize(
    ("tag", "valid"),
    [("en", True), ("en-US", True), ("sr-Latn-RS", True), ("es-419", True), ("x-private", True), ("i-klingon", True),
     ("de-CH-1901", True), ("en-a-bbb-x-a-ccc", True), ("", False), ("en_US", False), ("123", False),
     ("de-419-DE", False), ("de-1901-1901", False), ("a-DE", False)],
)
def test_language_tags_follow_rfc_5646(tag, valid):
    assert validation.is_language_tag(tag) is valid
