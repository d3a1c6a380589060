"""Syntax validation of xAPI 1.0.3 objects (IEEE 9274.1.1, Part Two), and their normal forms.

Every rule raises :class:`XAPIBadRequest` with the property path of the offending value, e.g.
``statement.actor.mbox: must be a mailto IRI``. Validation is about structure, not meaning
(Part Three, section 3.0). Nothing here touches the database.
"""

import functools
import hashlib
import itertools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

from xapi.errors import XAPIBadRequest

MAX_JSON_DEPTH = 64
MAX_IRI_LENGTH = 2048
MAX_STRING_ID_LENGTH = 2048

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
MBOX_RE = re.compile(r"^mailto:[^@\s:/?#]+@[^@\s/?#]+$")
SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
SHA2_RE = re.compile(r"^(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$")
VERSION_RE = re.compile(r"^1\.0(?:\.\d+)?$")
TIMESTAMP_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)"
    r"(?P<tz>[Zz]|[+\-]\d{2}(?::?\d{2})?)$"
)
_NUM = r"\d+(?:[.,]\d+)?"
DURATION_RE = re.compile(
    rf"^P(?!$)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$"
)
MEDIA_TYPE_RE = re.compile(r"^[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+(?:\s*;.*)?$")
IRI_FORBIDDEN_RE = re.compile(r'[\s<>"{}|\\^`]')  # \s: the characters str.isspace() accepts
WHITESPACE_RE = re.compile(r"\s")

INTERACTION_TYPES = {
    "true-false": set(),
    "choice": {"choices"},
    "fill-in": set(),
    "long-fill-in": set(),
    "matching": {"source", "target"},
    "performance": {"steps"},
    "sequencing": {"choices"},
    "likert": {"scale"},
    "numeric": set(),
    "other": set(),
}
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")


# --- JSON parsing -------------------------------------------------------------------------


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw, *, what="body"):
    """Parse UTF-8 JSON bytes or text; refuse invalid UTF-8, NaN/Infinity and nesting over 64 levels."""
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise XAPIBadRequest(f"{what}: is not valid UTF-8") from None
    if not raw.strip():
        raise XAPIBadRequest(f"{what}: is empty")
    # Parsed first (C speed), then the nesting measured on the text without its strings (a
    # regular expression, C speed too): only the brackets are counted in Python.
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        if _bracket_depth(raw) > MAX_JSON_DEPTH:
            raise XAPIBadRequest(f"{what}: JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        raise XAPIBadRequest(f"{what}: is not valid JSON ({exc})") from None
    if isinstance(value, dict | list) and _container_depth(raw) > MAX_JSON_DEPTH:
        raise XAPIBadRequest(f"{what}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


NOT_BRACKETS_RE = re.compile(r"[^\[\]{}]+")
BRACKET_STEP = {"{": 1, "[": 1, "}": -1, "]": -1}


def _container_depth(text):
    """Largest nesting of ``{``/``[`` in the text of a valid JSON value. Backslashes occur only
    inside strings: without its escaped backslashes and quotes, every other ``"`` opens or
    closes a string, and what lies between strings is the structure."""
    text = text.replace("\\\\", "").replace('\\"', "")
    structure = NOT_BRACKETS_RE.sub("", "".join(text.split('"')[0::2]))
    return max(itertools.accumulate(map(BRACKET_STEP.__getitem__, structure)), default=0)


def _bracket_depth(text):
    """Largest nesting of ``{``/``[`` outside strings, read without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif char in "}]":
            depth -= 1
    return deepest


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(text):
    """The fixed-width key under which a long identifier (IRI, IFI, document id) is indexed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- scalar formats --------------------------------------------------------------------------


def is_iri(value):
    return isinstance(value, str) and _is_iri_text(value)


@functools.lru_cache(maxsize=4096)  # a batch repeats its verbs, activities, extension keys
def _is_iri_text(value):
    return (
        0 < len(value) <= MAX_IRI_LENGTH
        and SCHEME_RE.match(value) is not None
        and IRI_FORBIDDEN_RE.search(value) is None
        and len(value.split(":", 1)[1]) > 0
    )


def is_uuid(value):
    return isinstance(value, str) and UUID_RE.match(value) is not None


def parse_timestamp(value):
    """An aware ``datetime`` from an ISO 8601 date-time with a time zone, or ``None``."""
    if not isinstance(value, str):
        return None
    match = TIMESTAMP_RE.match(value)
    if match is None:
        return None
    tz = match.group("tz")
    if tz.startswith("-") and tz.replace(":", "").strip("-0") == "":
        return None  # RFC 3339: -00:00 means "offset unknown"
    time = match.group("time").replace(",", ".")
    if len(time) == 5:
        time += ":00"
    if "." in time:
        main, fraction = time.split(".")
        time = f"{main}.{fraction[:6].ljust(6, '0')}"
    if tz in ("Z", "z"):
        offset = "+00:00"
    else:
        digits = tz[1:].replace(":", "")
        digits = digits.ljust(4, "0")
        offset = f"{tz[0]}{digits[:2]}:{digits[2:]}"
    try:
        moment = datetime.fromisoformat(f"{match.group('date')}T{time}{offset}")
        moment.astimezone(UTC)  # representable in UTC (not beyond year 1..9999)
    except (ValueError, OverflowError):
        return None
    return moment


def format_timestamp(moment):
    """ISO 8601 in UTC with milliseconds, as the LRS writes ``stored``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def truncate_to_ms(moment):
    return moment - timedelta(microseconds=moment.microsecond % 1000)


# --- RFC 5646 language tags --------------------------------------------------------------------

_GRANDFATHERED = {
    tag.lower()
    for tag in (
        "en-GB-oed i-ami i-bnn i-default i-enochian i-hak i-klingon i-lux i-mingo i-navajo i-pwn i-tao i-tay "
        "i-tsu sgn-BE-FR sgn-BE-NL sgn-CH-DE art-lojban cel-gaulish no-bok no-nyn zh-guoyu zh-hakka zh-min "
        "zh-min-nan zh-xiang"
    ).split()
}


def is_language_tag(tag):
    """Well-formedness per RFC 5646 section 2.1 (and 2.2.5/2.2.6: no repeated variant or singleton)."""
    return isinstance(tag, str) and _is_language_tag_text(tag)


@functools.lru_cache(maxsize=1024)
def _is_language_tag_text(tag):
    if not tag or len(tag) > 128:
        return False
    if tag.lower() in _GRANDFATHERED:
        return True
    parts = tag.split("-")
    if not all(p.isascii() and p.isalnum() and 1 <= len(p) <= 8 for p in parts):
        return False
    i = 0
    if parts[0].lower() == "x":
        return len(parts) > 1
    first = parts[0]
    if not first.isalpha() or not (2 <= len(first) <= 8) or len(first) == 4:
        return False
    i = 1
    if 2 <= len(first) <= 3:  # up to three extlang subtags
        extlangs = 0
        while i < len(parts) and extlangs < 3 and len(parts[i]) == 3 and parts[i].isalpha():
            i += 1
            extlangs += 1
    if i < len(parts) and len(parts[i]) == 4 and parts[i].isalpha():
        i += 1  # script
    if i < len(parts) and ((len(parts[i]) == 2 and parts[i].isalpha()) or (len(parts[i]) == 3 and parts[i].isdigit())):
        i += 1  # region
    variants = set()
    while i < len(parts) and ((5 <= len(parts[i]) <= 8) or (len(parts[i]) == 4 and parts[i][0].isdigit())):
        if parts[i].lower() in variants:
            return False
        variants.add(parts[i].lower())
        i += 1
    singletons = set()
    while i < len(parts) and len(parts[i]) == 1 and parts[i].lower() != "x":
        singleton = parts[i].lower()
        if singleton in singletons:
            return False
        singletons.add(singleton)
        i += 1
        count = 0
        while i < len(parts) and 2 <= len(parts[i]) <= 8:
            i += 1
            count += 1
        if count == 0:
            return False
    if i < len(parts) and parts[i].lower() == "x":
        return len(parts) > i + 1 and all(1 <= len(p) <= 8 for p in parts[i + 1 :])
    return i == len(parts)


# --- the validator -------------------------------------------------------------------------------


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def fail(path, message):
    raise XAPIBadRequest(f"{path}: {message}")


def _object(value, path):
    if not isinstance(value, dict):
        fail(path, f"must be a JSON object, not {_type_name(value)}")
    return value


def _keys(value, path, allowed, required=()):
    for key in value:
        if key not in allowed:
            fail(f"{path}.{key}", "is not a property allowed here (property names are case-sensitive)")
        if value[key] is None:
            fail(f"{path}.{key}", "must not be null")
    for key in required:
        if key not in value:
            fail(f"{path}.{key}", "is required")


def _string(value, path, *, allow_empty=True):
    if not isinstance(value, str):
        fail(path, f"must be a string, not {_type_name(value)}")
    if not allow_empty and not value:
        fail(path, "must not be empty")
    return value


def _bool(value, path):
    if not isinstance(value, bool):
        fail(path, f"must be true or false, not {_type_name(value)}")


def _number(value, path):
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(path, f"must be a number, not {_type_name(value)}")
    return value


def _iri(value, path):
    _string(value, path)
    if not is_iri(value):
        fail(path, f"must be an absolute IRI (at most {MAX_IRI_LENGTH} characters)")


def _uuid(value, path):
    _string(value, path)
    if not is_uuid(value):
        fail(path, "must be a UUID (8-4-4-4-12 hexadecimal digits)")


def _timestamp(value, path):
    _string(value, path)
    if parse_timestamp(value) is None:
        fail(path, "must be an ISO 8601 date and time with a time zone (not -00:00)")


def language_map(value, path):
    _object(value, path)
    for tag, text in value.items():
        if not is_language_tag(tag):
            fail(f"{path}.{tag}", "is not a valid RFC 5646 language tag")
        if not isinstance(text, str):
            fail(f"{path}.{tag}", f"must be a string, not {_type_name(text)}")


def _extensions(value, path):
    _object(value, path)
    for key in value:
        if not is_iri(key):
            fail(f"{path}.{key}", "extension keys must be absolute IRIs")


IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")


def _ifis(value, path):
    present = [key for key in IFI_KEYS if key in value]
    for key in present:
        sub = f"{path}.{key}"
        item = value[key]
        if key == "mbox":
            _string(item, sub)
            if not MBOX_RE.match(item):
                fail(sub, "must be a mailto IRI (mailto:name@example.com)")
        elif key == "mbox_sha1sum":
            _string(item, sub)
            if not SHA1_RE.match(item):
                fail(sub, "must be the hexadecimal SHA-1 of a mailto IRI (40 hexadecimal digits)")
        elif key == "openid":
            _iri(item, sub)
        else:
            _object(item, sub)
            _keys(item, sub, {"homePage", "name"}, required=("homePage", "name"))
            _iri(item["homePage"], f"{sub}.homePage")
            _string(item["name"], f"{sub}.name", allow_empty=False)
            if len(item["name"]) > MAX_STRING_ID_LENGTH:
                fail(f"{sub}.name", f"must be at most {MAX_STRING_ID_LENGTH} characters")
    return present


def agent(value, path, *, allow_group=True, require_ifi_group=False):
    """An Agent or (when allowed) a Group: exactly one IFI, except anonymous groups."""
    _object(value, path)
    kind = value.get("objectType", "Agent")
    if kind == "Group" and allow_group:
        return group(value, path, require_ifi=require_ifi_group)
    if kind != "Agent":
        allowed = '"Agent" or "Group"' if allow_group else '"Agent"'
        fail(f"{path}.objectType", f"must be {allowed}")
    _keys(value, path, {"objectType", "name", *IFI_KEYS})
    if "name" in value:
        _string(value["name"], f"{path}.name")
    present = _ifis(value, path)
    if len(present) != 1:
        fail(path, f"an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid, account), "
                   f"found {len(present)}")  # fmt: skip
    return value


def group(value, path, *, require_ifi=False):
    _keys(value, path, {"objectType", "name", "member", *IFI_KEYS}, required=("objectType",))
    if "name" in value:
        _string(value["name"], f"{path}.name")
    present = _ifis(value, path)
    if len(present) > 1:
        fail(path, "a Group must have at most one inverse functional identifier")
    if not present and require_ifi:
        fail(path, "must be an identified Group (with an inverse functional identifier) here")
    if "member" in value:
        members = value["member"]
        if not isinstance(members, list):
            fail(f"{path}.member", f"must be an array of Agents, not {_type_name(members)}")
        for index, member in enumerate(members):
            member_path = f"{path}.member[{index}]"
            _object(member, member_path)
            if member.get("objectType") == "Group":
                fail(f"{member_path}.objectType", "a Group's members must be Agents, not Groups")
            agent(member, member_path, allow_group=False)
    if not present and not value.get("member"):
        fail(f"{path}.member", "an anonymous Group must list at least one member")
    return value


def verb(value, path):
    _object(value, path)
    _keys(value, path, {"id", "display"}, required=("id",))
    _iri(value["id"], f"{path}.id")
    if "display" in value:
        language_map(value["display"], f"{path}.display")


def _components(value, path):
    if not isinstance(value, list):
        fail(path, f"must be an array of interaction components, not {_type_name(value)}")
    seen = set()
    for index, component in enumerate(value):
        sub = f"{path}[{index}]"
        _object(component, sub)
        _keys(component, sub, {"id", "description"}, required=("id",))
        _string(component["id"], f"{sub}.id", allow_empty=False)
        if WHITESPACE_RE.search(component["id"]):
            fail(f"{sub}.id", "must not contain whitespace")
        if component["id"] in seen:
            fail(f"{sub}.id", "interaction component ids must be unique within the list")
        seen.add(component["id"])
        if "description" in component:
            language_map(component["description"], f"{sub}.description")


def activity_definition(value, path):
    _object(value, path)
    allowed = {"name", "description", "type", "moreInfo", "extensions", "interactionType",
               "correctResponsesPattern", *COMPONENT_LISTS}  # fmt: skip
    _keys(value, path, allowed)
    for key in ("name", "description"):
        if key in value:
            language_map(value[key], f"{path}.{key}")
    if "type" in value:
        _iri(value["type"], f"{path}.type")
    if "moreInfo" in value:
        _iri(value["moreInfo"], f"{path}.moreInfo")
    if "extensions" in value:
        _extensions(value["extensions"], f"{path}.extensions")
    interaction = value.get("interactionType")
    if interaction is not None and interaction not in INTERACTION_TYPES:
        fail(f"{path}.interactionType", f"must be one of {', '.join(INTERACTION_TYPES)} (case-sensitive)")
    if "correctResponsesPattern" in value:
        if interaction is None:
            fail(f"{path}.correctResponsesPattern", "requires an interactionType")
        pattern = value["correctResponsesPattern"]
        if not isinstance(pattern, list):
            fail(f"{path}.correctResponsesPattern", f"must be an array of strings, not {_type_name(pattern)}")
        for index, item in enumerate(pattern):
            _string(item, f"{path}.correctResponsesPattern[{index}]")
    for key in COMPONENT_LISTS:
        if key in value:
            if interaction is None:
                fail(f"{path}.{key}", "interaction components require an interactionType")
            if key not in INTERACTION_TYPES[interaction]:
                fail(f"{path}.{key}", f"is not a component list of the {interaction!r} interaction type")
            _components(value[key], f"{path}.{key}")


def activity(value, path):
    _object(value, path)
    if value.get("objectType", "Activity") != "Activity":
        fail(f"{path}.objectType", 'must be "Activity"')
    _keys(value, path, {"objectType", "id", "definition"}, required=("id",))
    _iri(value["id"], f"{path}.id")
    if "definition" in value:
        activity_definition(value["definition"], f"{path}.definition")


def statement_ref(value, path):
    _object(value, path)
    _keys(value, path, {"objectType", "id"}, required=("objectType", "id"))
    if value["objectType"] != "StatementRef":
        fail(f"{path}.objectType", 'must be "StatementRef"')
    _uuid(value["id"], f"{path}.id")


def _statement_object(value, path, *, in_substatement):
    _object(value, path)
    kind = value.get("objectType", "Activity")
    if "objectType" in value and not isinstance(kind, str):
        fail(f"{path}.objectType", f"must be a string, not {_type_name(kind)}")
    if kind == "Activity":
        activity(value, path)
    elif kind in ("Agent", "Group"):
        agent(value, path)
    elif kind == "StatementRef":
        statement_ref(value, path)
    elif kind == "SubStatement":
        if in_substatement:
            fail(f"{path}.objectType", "a SubStatement must not contain a SubStatement")
        _statement_body(value, path, substatement=True)
    else:
        fail(f"{path}.objectType", "must be Activity, Agent, Group, StatementRef or SubStatement")


def result(value, path):
    _object(value, path)
    _keys(value, path, {"score", "success", "completion", "response", "duration", "extensions"})
    if "score" in value:
        score = _object(value["score"], f"{path}.score")
        _keys(score, f"{path}.score", {"scaled", "raw", "min", "max"})
        for key in score:
            _number(score[key], f"{path}.score.{key}")
        if "scaled" in score and not -1 <= score["scaled"] <= 1:
            fail(f"{path}.score.scaled", "must be between -1 and 1")
        if "min" in score and "max" in score and not score["min"] < score["max"]:
            fail(f"{path}.score.max", "must be greater than min")
        if "raw" in score:
            if "min" in score and score["raw"] < score["min"]:
                fail(f"{path}.score.raw", "must not be less than min")
            if "max" in score and score["raw"] > score["max"]:
                fail(f"{path}.score.raw", "must not be greater than max")
    for key in ("success", "completion"):
        if key in value:
            _bool(value[key], f"{path}.{key}")
    if "response" in value:
        _string(value["response"], f"{path}.response")
    if "duration" in value:
        _string(value["duration"], f"{path}.duration")
        if not DURATION_RE.match(value["duration"]):
            fail(f"{path}.duration", "must be an ISO 8601 duration (e.g. PT1H30M)")
    if "extensions" in value:
        _extensions(value["extensions"], f"{path}.extensions")


def context(value, path, statement_object):
    _object(value, path)
    allowed = {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language",
               "statement", "extensions"}  # fmt: skip
    _keys(value, path, allowed)
    if "registration" in value:
        _uuid(value["registration"], f"{path}.registration")
    if "instructor" in value:
        agent(value["instructor"], f"{path}.instructor")
    if "team" in value:
        team = _object(value["team"], f"{path}.team")
        if team.get("objectType") != "Group":
            fail(f"{path}.team.objectType", 'must be "Group": a team is a Group')
        agent(team, f"{path}.team")
    if "contextActivities" in value:
        activities = _object(value["contextActivities"], f"{path}.contextActivities")
        _keys(activities, f"{path}.contextActivities", set(CONTEXT_ACTIVITY_KEYS))
        for key, items in activities.items():
            sub = f"{path}.contextActivities.{key}"
            if isinstance(items, dict):
                activity(items, sub)
            elif isinstance(items, list):
                for index, item in enumerate(items):
                    activity(item, f"{sub}[{index}]")
            else:
                fail(sub, f"must be an Activity or an array of Activities, not {_type_name(items)}")
    object_is_activity = statement_object.get("objectType", "Activity") == "Activity"
    for key in ("revision", "platform"):
        if key in value:
            _string(value[key], f"{path}.{key}")
            if not object_is_activity:
                fail(f"{path}.{key}", "may only be used when the statement's object is an Activity")
    if "language" in value:
        _string(value["language"], f"{path}.language")
        if not is_language_tag(value["language"]):
            fail(f"{path}.language", "is not a valid RFC 5646 language tag")
    if "statement" in value:
        statement_ref(value["statement"], f"{path}.statement")
    if "extensions" in value:
        _extensions(value["extensions"], f"{path}.extensions")


def attachments(value, path):
    if not isinstance(value, list):
        fail(path, f"must be an array of attachments, not {_type_name(value)}")
    for index, item in enumerate(value):
        sub = f"{path}[{index}]"
        _object(item, sub)
        _keys(item, sub, {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"},
              required=("usageType", "display", "contentType", "length", "sha2"))  # fmt: skip
        _iri(item["usageType"], f"{sub}.usageType")
        language_map(item["display"], f"{sub}.display")
        if "description" in item:
            language_map(item["description"], f"{sub}.description")
        _string(item["contentType"], f"{sub}.contentType")
        if not MEDIA_TYPE_RE.match(item["contentType"]):
            fail(f"{sub}.contentType", "must be an Internet media type (type/subtype)")
        length = item["length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            fail(f"{sub}.length", f"must be a non-negative integer, not {_type_name(length)}")
        _string(item["sha2"], f"{sub}.sha2")
        if not SHA2_RE.match(item["sha2"]):
            fail(f"{sub}.sha2", "must be a hexadecimal SHA-2 digest (SHA-224, SHA-256, SHA-384 or SHA-512)")
        if "fileUrl" in item:
            _iri(item["fileUrl"], f"{sub}.fileUrl")


def _statement_body(value, path, *, substatement):
    if substatement:
        allowed = {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
    else:
        allowed = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
                   "version", "attachments"}  # fmt: skip
    for key in value:
        if key not in allowed:
            if substatement and key in ("id", "stored", "version", "authority"):
                fail(f"{path}.{key}", "must not be used in a SubStatement")
            fail(f"{path}.{key}", "is not a property allowed here (property names are case-sensitive)")
        if value[key] is None:
            fail(f"{path}.{key}", "must not be null")
    for key in ("actor", "verb", "object"):
        if key not in value:
            fail(f"{path}.{key}", "is required")
    agent(value["actor"], f"{path}.actor")
    verb(value["verb"], f"{path}.verb")
    _statement_object(value["object"], f"{path}.object", in_substatement=substatement)
    if "result" in value:
        result(value["result"], f"{path}.result")
    if "context" in value:
        context(value["context"], f"{path}.context", value["object"])
    if "timestamp" in value:
        _timestamp(value["timestamp"], f"{path}.timestamp")
    if "attachments" in value:
        attachments(value["attachments"], f"{path}.attachments")


def statement(value, path="statement"):
    """Validate one statement as sent by a Learning Record Provider."""
    _object(value, path)
    _statement_body(value, path, substatement=False)
    if "id" in value:
        _uuid(value["id"], f"{path}.id")
    if "stored" in value:
        _timestamp(value["stored"], f"{path}.stored")
    if "version" in value:
        _string(value["version"], f"{path}.version")
        if not VERSION_RE.match(value["version"]):
            fail(f"{path}.version", "must be 1.0.0 or another 1.0.x version")
    if "authority" in value:
        authority = agent(value["authority"], f"{path}.authority")
        if authority.get("objectType") == "Group" and len(authority.get("member", [])) != 2:
            fail(f"{path}.authority", "a Group authority must be an OAuth pair: exactly two Agents")
    if value["verb"]["id"] == VOIDED_VERB and value["object"].get("objectType") != "StatementRef":
        fail(f"{path}.object", "a voiding statement's object must be a StatementRef")
    return value


# --- identifiers and normal forms ---------------------------------------------------------------------


def ifi_string(agent_value):
    """The normalised inverse functional identifier of an Agent or identified Group, or None."""
    if "mbox" in agent_value:
        return "mbox:" + agent_value["mbox"].lower()
    if "mbox_sha1sum" in agent_value:
        return "mbox_sha1sum:" + agent_value["mbox_sha1sum"].lower()
    if "openid" in agent_value:
        return "openid:" + agent_value["openid"]
    if "account" in agent_value:
        account = agent_value["account"]
        return "account:" + canonical_json([account["homePage"], account["name"]])
    return None


def agent_key(agent_value):
    ifi = ifi_string(agent_value)
    return digest(ifi) if ifi else None


def ifi_only(agent_value):
    """The Agent/Group reduced to what identifies it (format=ids)."""
    kind = agent_value.get("objectType", "Agent")
    out = {"objectType": kind}
    for key in IFI_KEYS:
        if key in agent_value:
            out[key] = agent_value[key]
            break
    if kind == "Group" and len(out) == 1:
        out["member"] = [ifi_only(member) for member in agent_value.get("member", [])]
    return out


def normalise(value):
    """The stored form of a valid statement: contextActivities as arrays (Part Two 2.4.6.2)."""
    value = json.loads(json.dumps(value))
    for body in (value, value["object"] if value["object"].get("objectType") == "SubStatement" else None):
        if body is None:
            continue
        context_activities = body.get("context", {}).get("contextActivities")
        if context_activities:
            for key, items in context_activities.items():
                if isinstance(items, dict):
                    context_activities[key] = [items]
    return value


def comparable(value):
    """The statement as compared for immutability (Part Two 2.3.1.1): without the properties the
    LRS sets or may change (``stored``, ``authority``, ``version``), timestamps compared as instants,
    UUIDs and language tags compared without case, contextActivities as arrays."""
    value = normalise(value)
    for key in ("stored", "authority", "version"):
        value.pop(key, None)

    def walk(node, key=None):
        if key == "extensions":
            return node
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if key in ("display", "name", "description") and isinstance(v, str):
                    out[k.lower()] = v
                else:
                    out[k] = walk(v, k)
            return out
        if isinstance(node, list):
            return [walk(item, key) for item in node]
        if isinstance(node, str):
            if key in ("id", "registration") and is_uuid(node):
                return node.lower()
            if key == "timestamp":
                moment = parse_timestamp(node)
                return format_timestamp(moment) if moment else node
            if key == "language":
                return node.lower()
        return node

    return walk(value)


def new_statement_id():
    return str(uuid.uuid4())
