"""Reading a cmi5 course structure (``cmi5.xml``, cmi5 "Quartz" section 13) into a
:class:`learning.packages.manifest.Manifest`.

The XML is parsed by defusedxml (no DTD, no entity: refused before any expansion), then
validated with xmlschema against the vendored XSD (``schemas/CourseStructure.xsd``, the
Quartz namespace; a document in the older ``http://www.adlnet.gov/cmi5/CourseStructure.xsd``
namespace is validated against the same schema under that namespace). Location hints
(``xsi:schemaLocation``) are never followed: nothing is fetched.

What Parcours keeps (the JSON shapes of the ``Package`` docstring, cmi5 flavour):

* ``organization``: the tree of blocks and AUs, ``[{"identifier", "title", "sco" (the AU
  id for an AU, None for a block), "children"}]`` (the step page shows it as the table of
  contents);
* ``launchables``: the AUs in document order, ``{"identifier" (the publisher's AU id),
  "title", "description", "href" (the url: relative to the package, or absolute),
  "external" (absolute url), "move_on", "mastery_score" (0..1 or None), "launch_method"
  ("AnyWindow" | "OwnWindow"), "launch_parameters", "entitlement_key", "activity_type",
  "index"}``;
* ``manifest``: ``{"cmi5": {"course_id", "blocks": [{"id", "title", "aus": [AU ids, all
  levels below], "depth"}] (innermost first), "objectives": [ids]}, "description"}``.

Every value is trimmed (cmi5 13.0). Ids of AUs, blocks and objectives must be unique. A
``cmi5.xml`` imported alone must give absolute AU urls (14.2); in a zip, a relative url
must name a file of the zip (``referenced_files``, checked by the importer).
"""

import functools
import pathlib
import posixpath
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DefusedET
import xmlschema
from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _

from learning.choices import PackageStandard
from learning.packages.manifest import Manifest, PackageError

NAMESPACE = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
LEGACY_NAMESPACE = "http://www.adlnet.gov/cmi5/CourseStructure.xsd"
XSD = pathlib.Path(__file__).parent / "schemas" / "CourseStructure.xsd"
MOVE_ON = ("NotApplicable", "Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed")
LANGUAGES = ("fr", "en")  # the langstring preferred for titles, in order
FILENAME = "cmi5.xml"
SCHEMA_VERSION = "cmi5 (Quartz)"


@functools.cache
def schema(namespace=NAMESPACE):
    text = XSD.read_text(encoding="utf-8")
    if namespace != NAMESPACE:
        text = text.replace(NAMESPACE, namespace)
    return xmlschema.XMLSchema(text)


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name):
    return [child for child in element if _local(child.tag) == name]


def _child(element, name):
    found = _children(element, name)
    return found[0] if found else None


def _text(element):
    return (element.text or "").strip() if element is not None else ""


def langstring(element, languages=LANGUAGES):
    """The text of a ``textType`` element in the first preferred language, else the first one."""
    if element is None:
        return ""
    strings = [(str(s.get("lang") or "").lower(), _text(s)) for s in _children(element, "langstring")]
    for wanted in languages:
        for lang, value in strings:
            if value and (lang == wanted or lang.startswith(wanted + "-")):
                return value
    return next((value for _lang, value in strings if value), "")


def _parse_xml(data):
    try:
        return DefusedET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise PackageError(
            _("Le fichier cmi5.xml déclare une DTD ou des entités XML : refusé (risque de sécurité).")
        ) from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise PackageError(
            _("Le fichier cmi5.xml n'est pas un XML bien formé (ligne %(line)s, colonne %(column)s).")
            % {"line": line, "column": column}
        ) from None


def _validate(root):
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "courseStructure" or namespace not in (NAMESPACE, LEGACY_NAMESPACE):
        raise PackageError(
            _(
                "Le fichier cmi5.xml n'est pas une structure de cours cmi5 : l'élément racine doit être "
                "« courseStructure » dans l'espace de noms %(namespace)s."
            )
            % {"namespace": NAMESPACE}
        )
    error = next(iter(schema(namespace).iter_errors(root, use_location_hints=False)), None)
    if error is not None:
        where = re.sub(r"\{[^}]*\}", "", error.path or "")
        reason = (error.reason or str(error.message) or "").strip().splitlines()[0][:300]
        raise PackageError(
            _("Le fichier cmi5.xml n'est pas conforme au schéma cmi5 (%(where)s) : %(reason)s")
            % {"where": where or "courseStructure", "reason": reason}
        )


def _is_absolute(url):
    parts = urlsplit(url)
    return bool(parts.scheme) and parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _relative_path(url):
    """The package path a relative AU url names (query and fragment removed), or None when
    it leaves the package."""
    path = unquote(urlsplit(url).path)
    if not path or path.startswith("/") or "\\" in path:
        return None
    normalised = posixpath.normpath(path)
    if normalised.startswith("..") or normalised in (".", ""):
        return None
    return normalised


def _mastery(value, au_id):
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = None
    if number is None or not (0 <= number <= 1):
        raise PackageError(_("L'AU « %(au)s » : masteryScore doit être un nombre entre 0 et 1.") % {"au": au_id[:200]})
    return float(number)


class _Reader:
    def __init__(self, *, standalone):
        self.standalone = standalone
        self.ids = {}
        self.launchables = []
        self.blocks = []
        self.files = []

    def unique(self, kind, ident):
        if not ident:
            raise PackageError(_("Un élément « %(kind)s » de cmi5.xml n'a pas d'identifiant.") % {"kind": kind})
        if ident in self.ids:
            raise PackageError(
                _(
                    "L'identifiant « %(id)s » est utilisé deux fois dans cmi5.xml (%(first)s et %(second)s) : "
                    "chaque AU, bloc et objectif doit avoir le sien."
                )
                % {"id": ident[:200], "first": self.ids[ident], "second": kind}
            )
        self.ids[ident] = kind

    def au(self, element):
        au_id = (element.get("id") or "").strip()
        self.unique("au", au_id)
        url = _text(_child(element, "url"))
        external = _is_absolute(url)
        if not external:
            if self.standalone:
                raise PackageError(
                    _(
                        "L'AU « %(au)s » a une adresse relative (« %(url)s ») : un fichier cmi5.xml importé seul "
                        "doit donner des adresses complètes (https://…). Importez plutôt le zip du cours, "
                        "avec ses fichiers."
                    )
                    % {"au": au_id[:200], "url": url[:200]}
                )
            path = _relative_path(url)
            if path is None:
                raise PackageError(
                    _("L'adresse « %(url)s » de l'AU « %(au)s » sort du paquet : refusé.")
                    % {"url": url[:200], "au": au_id[:200]}
                )
            self.files.append(path)
        move_on = (element.get("moveOn") or "NotApplicable").strip()
        item = {
            "identifier": au_id,
            "index": len(self.launchables),
            "title": langstring(_child(element, "title")) or au_id,
            "description": langstring(_child(element, "description")),
            "href": url,
            "external": external,
            "move_on": move_on if move_on in MOVE_ON else "NotApplicable",
            "mastery_score": _mastery(element.get("masteryScore"), au_id),
            "launch_method": (element.get("launchMethod") or "AnyWindow").strip(),
            "launch_parameters": _text(_child(element, "launchParameters")),
            "entitlement_key": _text(_child(element, "entitlementKey")),
            "activity_type": (element.get("activityType") or "").strip(),
        }
        self.launchables.append(item)
        return {"identifier": au_id, "title": item["title"], "sco": au_id, "children": []}

    def nodes(self, parent, depth):
        found = []
        for element in parent:
            name = _local(element.tag)
            if name == "au":
                found.append(self.au(element))
            elif name == "block":
                found.append(self.block(element, depth))
        return found

    def block(self, element, depth):
        block_id = (element.get("id") or "").strip()
        self.unique("block", block_id)
        title = langstring(_child(element, "title")) or block_id
        first = len(self.launchables)
        children = self.nodes(element, depth + 1)
        aus = [item["identifier"] for item in self.launchables[first:]]
        self.blocks.append({"id": block_id, "title": title, "aus": aus, "depth": depth})
        return {"identifier": block_id, "title": title, "sco": None, "children": children}


def parse(data: bytes, *, standalone=False) -> Manifest:
    """The course structure in ``data``; ``standalone``: imported without a zip (absolute
    AU urls only). Raises :class:`PackageError` naming the problem."""
    root = _parse_xml(data)
    _validate(root)
    reader = _Reader(standalone=standalone)
    course = _child(root, "course")
    course_id = (course.get("id") or "").strip()
    reader.unique("course", course_id)
    objectives = []
    for objective in (
        _children(_child(root, "objectives"), "objective") if _child(root, "objectives") is not None else []
    ):
        ident = (objective.get("id") or "").strip()
        reader.unique("objective", ident)
        objectives.append(ident)
    organization = reader.nodes(root, 0)
    if not reader.launchables:
        raise PackageError(_("Le fichier cmi5.xml ne contient aucune AU (unité d'apprentissage)."))
    title = langstring(_child(course, "title")) or course_id
    blocks = sorted(reader.blocks, key=lambda block: -block["depth"])  # innermost first
    return Manifest(
        standard=PackageStandard.CMI5,
        schema_version=SCHEMA_VERSION,
        identifier=course_id[:255],
        title=title[:255],
        organization=organization,
        launchables=reader.launchables,
        manifest={
            "description": langstring(_child(course, "description"))[:2000],
            "cmi5": {"course_id": course_id, "blocks": blocks, "objectives": objectives},
        },
        referenced_files=reader.files,
    )


def looks_like_xml(head: bytes):
    """Whether the first bytes of an upload are XML (a ``cmi5.xml`` imported alone)."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return text.startswith(b"<?xml") or text.startswith(b"<courseStructure") or text.startswith(b"<")
