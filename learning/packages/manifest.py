"""Reading ``imsmanifest.xml`` (SCORM 1.2, SCORM 2004 2nd–4th edition) into a :class:`Manifest`.

The XML is parsed by defusedxml with DTDs forbidden: a manifest that declares a DOCTYPE,
an internal entity (the "billion laughs") or an external entity is refused before any
expansion or fetch. Elements and attributes are matched by their local name, so the
namespace variants that authoring tools write (``adlcp:scormtype`` in 1.2,
``adlcp:scormType`` in 2004, ``datafromlms``/``dataFromLMS``…) all read the same.

What Parcours keeps (the JSON shapes are those of the ``Package`` docstring in
learning/models.py):

* ``organization``: the default organisation (``default`` attribute, else the first) as a
  tree ``[{"identifier", "title", "sco", "children"}]``; a cluster (an item with children)
  has ``sco`` None;
* ``launchables``: the leaf items that reference a resource, in document order, with the
  launch ``href`` (the ``xml:base`` of the manifest, of ``resources`` and of the
  resource, the resource's ``href``, then the item's ``parameters`` joined as the
  SCORM CAM says), the mastery score (1.2), the scaled passing score (2004: a primary
  objective ``satisfiedByMeasure="true"`` with ``minNormalizedMeasure``), the completion
  threshold (element text, or the 4th edition's ``completedByMeasure`` /
  ``minProgressMeasure`` attributes), ``dataFromLMS`` and the time limits;
* ``manifest``: identifier, schema and version, the metadata title and description when
  present, ``measure_weights`` (SCORM 2004: ``{item identifier: weight}`` for the items,
  clusters included, whose ``imsss:rollupRules objectiveMeasureWeight`` is not the default
  1.0; the score rollup of ``learning.packages.runtime`` weighs them), and
  ``unsupported``: the sequencing and navigation features found that the player does not
  apply (the package still plays, with flow and choice navigation).

A manifest Parcours cannot play is refused with ``PackageError`` (a ``ValidationError``
``{"package": sentence}``) naming the problem.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.choices import PackageStandard

XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
NS_SCORM12 = ("imscp_rootv1p1p2", "adlcp_rootv1p2")
NS_SCORM2004 = ("adlcp_v1p3", "imsss", "adlseq_v1p3", "adlnav_v1p3")

# schemaversion (lowercased, spaces collapsed) → standard. "CAM 1.3" is SCORM 2004 2nd
# edition: its data model is the 2004 one, so it plays as SCORM 2004.
SCHEMA_VERSIONS = {
    "1.2": PackageStandard.SCORM12,
    "cam 1.3": PackageStandard.SCORM2004,
    "2004 2nd edition": PackageStandard.SCORM2004,
    "2004 3rd edition": PackageStandard.SCORM2004,
    "2004 4th edition": PackageStandard.SCORM2004,
}

# Sequencing and navigation features that Parcours reads but does not apply (listed in
# docs/packages.md). Keys are what ``Manifest.manifest["unsupported"]`` holds.
UNSUPPORTED_FEATURES = {
    "sequencingRules": gettext_lazy("règles de séquencement (pré-conditions, post-conditions, sorties)"),
    "rollupRules": gettext_lazy("règles de consolidation (rollup) autres que celles par défaut"),
    "rollupConsiderations": gettext_lazy("conditions de consolidation (adlseq:rollupConsiderations)"),
    "limitConditions": gettext_lazy("limites de tentatives ou de durée (limitConditions)"),
    "randomizationControls": gettext_lazy("tirage aléatoire des activités (randomizationControls)"),
    "deliveryControls": gettext_lazy("contrôles de livraison (deliveryControls)"),
    "controlMode": gettext_lazy("modes de navigation restreints (choix interdit, avance seule)"),
    "constrainedChoiceConsiderations": gettext_lazy("navigation par choix contrainte"),
    "objectiveMaps": gettext_lazy("objectifs globaux partagés entre activités (mapInfo)"),
    "presentation": gettext_lazy("masquage des boutons de navigation du lecteur (adlnav:presentation)"),
}


class PackageError(ValidationError):
    """A package Parcours refuses: ``ValidationError({"package": sentence})``."""

    def __init__(self, message, field_name="package"):
        super().__init__({field_name: message})


@dataclass
class Manifest:
    standard: str
    schema_version: str
    identifier: str
    title: str
    organization: list
    launchables: list
    manifest: dict
    referenced_files: list = field(default_factory=list)


def local(tag):
    """``{namespace}name`` → ``name`` (comments and processing instructions → "")."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag):
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def attr(element, name, default=None):
    """The attribute named ``name`` (local name, case-insensitive), whatever its namespace."""
    wanted = name.lower()
    for key, value in element.attrib.items():
        if local(key).lower() == wanted:
            return value
    return default


def children(element, name):
    wanted = name.lower()
    return [child for child in element if local(child.tag).lower() == wanted]


def child(element, name):
    found = children(element, name)
    return found[0] if found else None


def text(element):
    return (element.text or "").strip() if element is not None else ""


def child_text(element, name):
    return text(child(element, name))


def _first_string(element):
    """The first ``langstring`` (LOM 1.2) or ``string`` (LOM 2004) under ``element``."""
    if element is None:
        return ""
    for node in element.iter():
        if local(node.tag).lower() in ("langstring", "string") and text(node):
            return text(node)
    return text(element)


def _parse_xml(data):
    try:
        return DefusedET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise PackageError(
            _(
                "Le manifeste imsmanifest.xml déclare une DTD ou des entités XML (%(what)s) : refusé, car elles "
                "permettent de lire des fichiers du serveur ou de le saturer. Réexportez le paquet sans DOCTYPE."
            )
            % {"what": type(exc).__name__}
        ) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise PackageError(
            _("Le manifeste imsmanifest.xml n'est pas un XML valide (ligne %(line)s, colonne %(column)s).")
            % {"line": line, "column": column + 1}
        ) from exc


def _detect(root, schema_version):
    """(standard, source) from ``schemaversion``, else from the namespaces in use."""
    if schema_version:
        key = re.sub(r"\s+", " ", schema_version.strip().lower())
        standard = SCHEMA_VERSIONS.get(key)
        if standard is None:
            raise PackageError(
                _(
                    "Version de SCORM non reconnue dans imsmanifest.xml : « %(found)s » (élément schemaversion). "
                    "Parcours lit SCORM 1.2 et SCORM 2004 (« CAM 1.3 », « 2004 3rd Edition », "
                    "« 2004 4th Edition »)."
                )
                % {"found": schema_version[:80]}
            )
        return standard, "schemaversion"
    namespaces = set()
    for node in root.iter():
        namespaces.add(namespace(node.tag))
        namespaces.update(namespace(key) for key in node.attrib)
    tails = {ns.rstrip("/").rsplit("/", 1)[-1] for ns in namespaces if ns}
    if tails & set(NS_SCORM2004):
        return PackageStandard.SCORM2004, "namespaces"
    if tails & set(NS_SCORM12):
        return PackageStandard.SCORM12, "namespaces"
    raise PackageError(
        _(
            "Le manifeste imsmanifest.xml ne dit pas quelle version de SCORM il suit (élément schemaversion absent) "
            "et ses espaces de noms ne permettent pas de la reconnaître."
        )
    )


def _number(value, *, item, label, low, high):
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or number != number or not low <= number <= high:
        raise PackageError(
            _(
                "Valeur invalide pour %(label)s de l'élément « %(item)s » dans imsmanifest.xml : « %(value)s » "
                "(attendu : un nombre entre %(low)s et %(high)s)."
            )
            % {"label": label, "item": item, "value": value[:40], "low": low, "high": high}
        )
    return int(number) if number.is_integer() and label == "masteryscore" else number


def join_parameters(href, parameters):
    """The item's ``parameters`` appended to the launch ``href`` (SCORM CAM rules): a
    fragment (``#…``) is used only when the href has none; otherwise leading ``?``/``&``
    are dropped and the rest is joined with ``&`` (or ``?`` when the href has no query),
    before any fragment of the href."""
    parameters = (parameters or "").strip()
    if not parameters:
        return href
    base, hash_, fragment = href.partition("#")
    if parameters.startswith("#"):
        return href if hash_ else f"{href}{parameters}"
    parameters = parameters.lstrip("?&")
    if not parameters:
        return href
    path, question, query = base.partition("?")
    query = f"{query}&{parameters}" if question and query else parameters
    return f"{path}?{query}{hash_}{fragment}"


def _base(element):
    """The element's ``xml:base``, ending with ``/`` (a base written without it names a folder)."""
    base = ((element.attrib.get(XML_BASE) if element is not None else None) or "").strip()
    if base and not base.endswith("/"):
        base += "/"
    return base


def _clean_path(path):
    """``./a//b/../c`` → ``a/c`` (no query or fragment); None when it leaves the package."""
    parts = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _sequencing_map(root):
    """``{ID: sequencing element}`` from ``imsss:sequencingCollection`` (2004)."""
    found = {}
    for collection in root.iter():
        if local(collection.tag) == "sequencingCollection":
            for sequencing in children(collection, "sequencing"):
                ident = attr(sequencing, "ID")
                if ident:
                    found[ident] = sequencing
    return found


def _sequencings(item, collection):
    """The item's own ``imsss:sequencing`` and the shared one it references (``IDRef``)."""
    own = child(item, "sequencing")
    result = [own] if own is not None else []
    ref = attr(own, "IDRef") if own is not None else None
    if ref and ref in collection:
        result.append(collection[ref])
    return result


def _find_in(sequencings, *path):
    for sequencing in sequencings:
        node = sequencing
        for name in path:
            node = child(node, name) if node is not None else None
        if node is not None:
            return node
    return None


def _scaled_passing_score(item_id, sequencings):
    primary = _find_in(sequencings, "objectives", "primaryObjective")
    if primary is None or (attr(primary, "satisfiedByMeasure") or "").strip().lower() != "true":
        return None
    measure = child_text(primary, "minNormalizedMeasure") or "1.0"
    return _number(measure, item=item_id, label="minNormalizedMeasure", low=-1, high=1)


def _measure_weight(item_id, sequencings):
    """SCORM 2004 SN "Rollup Objective Measure Weight" (``imsss:rollupRules
    objectiveMeasureWeight``, 0..1, default 1.0): the item's own sequencing first, then the
    shared one it references."""
    for sequencing in sequencings:
        rules = child(sequencing, "rollupRules")
        value = attr(rules, "objectiveMeasureWeight") if rules is not None else None
        if value is not None and value.strip():
            return _number(value.strip(), item=item_id, label="objectiveMeasureWeight", low=0, high=1)
    return 1.0


def _completion_threshold(item, item_id):
    element = child(item, "completionThreshold")
    if element is None:
        return None
    if text(element):
        return _number(text(element), item=item_id, label="completionThreshold", low=0, high=1)
    if (attr(element, "completedByMeasure") or "").strip().lower() == "true":
        value = attr(element, "minProgressMeasure") or "1.0"
        return _number(value, item=item_id, label="minProgressMeasure", low=0, high=1)
    return None


def _unsupported(root):
    """The sequencing/navigation features present that the player does not apply."""
    found = []

    def add(name):
        if name not in found:
            found.append(name)

    for node in root.iter():
        name = local(node.tag)
        if name in ("sequencingRules", "limitConditions", "randomizationControls", "constrainedChoiceConsiderations",
                    "rollupConsiderations", "presentation"):
            if name == "limitConditions" and not any(
                local(key) in ("attemptLimit", "attemptAbsoluteDurationLimit") for key in node.attrib
            ):
                continue
            if name == "presentation" and not len(node):
                continue
            add(name)
        elif name == "rollupRules" and (len(children(node, "rollupRule")) or any(
            (attr(node, key) or "").lower() == "false" for key in ("rollupObjectiveSatisfied", "rollupProgressCompletion")
        )):
            add("rollupRules")
        elif name == "deliveryControls" and any(
            (attr(node, key) or "").lower() in ("true", "false") and (attr(node, key) or "").lower() != default
            for key, default in (("tracked", "true"), ("completionSetByContent", "false"),
                                 ("objectiveSetByContent", "false"))
        ):
            add("deliveryControls")
        elif name == "controlMode" and (
            (attr(node, "choice") or "").lower() == "false"
            or (attr(node, "choiceExit") or "").lower() == "false"
            or (attr(node, "forwardOnly") or "").lower() == "true"
        ):
            add("controlMode")
        elif name == "mapInfo":
            add("objectiveMaps")
    return found


def parse(data: bytes) -> Manifest:
    """Read an ``imsmanifest.xml`` (bytes) or raise :class:`PackageError`."""
    root = _parse_xml(data)
    if local(root.tag) != "manifest":
        raise PackageError(
            _("L'élément racine de imsmanifest.xml est « %(found)s » au lieu de « manifest ».")
            % {"found": local(root.tag)[:80]}
        )
    metadata = child(root, "metadata")
    schema = child_text(metadata, "schema") if metadata is not None else ""
    schema_version = child_text(metadata, "schemaversion") if metadata is not None else ""
    standard, version_source = _detect(root, schema_version)

    # Resources, with the xml:base of the manifest, of <resources> and of each resource.
    resources_element = child(root, "resources")
    resources = {}
    manifest_base = _base(root)
    resources_base = _base(resources_element)
    for resource in children(resources_element, "resource") if resources_element is not None else []:
        ident = attr(resource, "identifier")
        if ident:
            resources[ident] = resource

    organizations = child(root, "organizations")
    candidates = children(organizations, "organization") if organizations is not None else []
    if not candidates:
        raise PackageError(_("Le manifeste imsmanifest.xml ne contient aucune organisation (élément organization)."))
    default_id = attr(organizations, "default")
    organization = next((org for org in candidates if attr(org, "identifier") == default_id), candidates[0])
    if not children(organization, "item"):
        raise PackageError(
            _("L'organisation « %(org)s » de imsmanifest.xml ne contient aucun élément (item) à suivre.")
            % {"org": attr(organization, "identifier") or "?"}
        )

    collection = _sequencing_map(root)
    launchables, referenced = [], []
    weights = {}

    def launchable(item, item_id, title):
        ref = attr(item, "identifierref")
        resource = resources.get(ref)
        if resource is None:
            raise PackageError(
                _(
                    "L'élément « %(item)s » de imsmanifest.xml renvoie à la ressource « %(ref)s », "
                    "absente de la section resources."
                )
                % {"item": item_id, "ref": ref}
            )
        href = (attr(resource, "href") or "").strip()
        if not href:
            raise PackageError(
                _(
                    "La ressource « %(ref)s » (élément « %(item)s ») n'a pas d'attribut href : "
                    "imsmanifest.xml n'indique aucun fichier à lancer."
                )
                % {"ref": ref, "item": item_id}
            )
        full = f"{manifest_base}{resources_base}{_base(resource)}{href}"
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", full) or full.startswith("//"):
            raise PackageError(
                _(
                    "La ressource « %(ref)s » se lance depuis une adresse externe (« %(href)s ») : "
                    "Parcours ne lit que les fichiers contenus dans le paquet."
                )
                % {"ref": ref, "href": full[:200]}
            )
        raw_path = full.split("#", 1)[0].split("?", 1)[0]
        href_path = _clean_path(raw_path)
        if not href_path:
            raise PackageError(
                _("Le fichier de lancement « %(href)s » de la ressource « %(ref)s » sort du paquet.")
                % {"href": full[:200], "ref": ref}
            )
        launch = href_path + full[len(raw_path):]
        path = unquote(href_path)
        sequencings = _sequencings(item, collection)
        mastery = child_text(item, "masteryscore")
        limits = _find_in(sequencings, "limitConditions")
        max_time = child_text(item, "maxtimeallowed") or (
            (attr(limits, "attemptAbsoluteDurationLimit") or "").strip() if limits is not None else ""
        )
        scorm_type = (attr(resource, "scormtype") or "sco").strip().lower()
        if path not in referenced:
            referenced.append(path)
        launchables.append(
            {
                "identifier": item_id,
                "title": title,
                "href": join_parameters(launch, attr(item, "parameters")),
                "scorm_type": "asset" if scorm_type == "asset" else "sco",
                "mastery_score": (
                    _number(mastery, item=item_id, label="masteryscore", low=0, high=100) if mastery else None
                ),
                "scaled_passing_score": (
                    _scaled_passing_score(item_id, sequencings) if standard == PackageStandard.SCORM2004 else None
                ),
                "completion_threshold": _completion_threshold(item, item_id),
                "launch_data": child_text(item, "dataFromLMS"),
                "max_time_allowed": max_time,
                "time_limit_action": child_text(item, "timeLimitAction"),
            }
        )
        return item_id

    def tree(parent):
        nodes = []
        for item in children(parent, "item"):
            item_id = attr(item, "identifier") or ""
            title = child_text(item, "title") or item_id
            sub = tree(item)
            if standard == PackageStandard.SCORM2004:
                weight = _measure_weight(item_id, _sequencings(item, collection))
                if weight != 1.0:
                    weights[item_id] = weight
            sco = None
            if not sub and attr(item, "identifierref"):
                sco = launchable(item, item_id, title)
            nodes.append({"identifier": item_id, "title": title, "sco": sco, "children": sub})
        return nodes

    org_tree = tree(organization)
    if not launchables:
        raise PackageError(
            _("Aucun élément de l'organisation « %(org)s » ne renvoie à une ressource à lancer (identifierref).")
            % {"org": attr(organization, "identifier") or "?"}
        )

    lom = None
    if metadata is not None:
        lom = next((node for node in metadata.iter() if local(node.tag).lower() == "lom"), None)
    general = child(lom, "general") if lom is not None else None
    identifier = attr(root, "identifier") or ""
    title = (
        child_text(organization, "title")
        or (_first_string(child(general, "title")) if general is not None else "")
        or identifier
        or launchables[0]["title"]
    )
    info = {"identifier": identifier, "schema": schema, "version": schema_version, "version_source": version_source}
    if general is not None:
        if _first_string(child(general, "title")):
            info["title"] = _first_string(child(general, "title"))
        if _first_string(child(general, "description")):
            info["description"] = _first_string(child(general, "description"))
    info["organization"] = attr(organization, "identifier") or ""
    if weights:
        info["measure_weights"] = weights
    info["unsupported"] = _unsupported(root) if standard == PackageStandard.SCORM2004 else []
    return Manifest(
        standard=str(standard),
        schema_version=schema_version,
        identifier=identifier[:255],
        title=title[:255],
        organization=org_tree,
        launchables=launchables,
        manifest=info,
        referenced_files=referenced,
    )


def unsupported_sentence(package_manifest):
    """A French sentence listing the sequencing features of a package that Parcours does not
    apply (it plays with the defaults), or "" when there are none."""
    features = [str(UNSUPPORTED_FEATURES.get(key, key)) for key in (package_manifest or {}).get("unsupported", [])]
    if not features:
        return ""
    return _("Ce paquet utilise des fonctions de séquencement que Parcours n'applique pas encore "
             "(il est joué avec les règles par défaut) : %(features)s.") % {"features": " ; ".join(features)}

