"""imsmanifest.xml parsing: detection, organisation tree, launchables, scores, unsupported
sequencing, and the refusals (invalid XML, DTDs and entities, missing parts)."""

import pytest
from django.core.exceptions import ValidationError

from learning.packages import manifest, sample
from tests.learning.packages.conftest import (
    SCORM12_LAUNCHABLES,
    SCORM12_ORGANIZATION,
    scorm2004_launchables,
    scorm2004_organization,
)

CP12 = sample.SCORM12_NS
ADL12 = sample.ADLCP12_NS
CP2004 = sample.CP_2004_NS
ADL2004 = sample.ADLCP_2004_NS
IMSSS = sample.IMSSS_NS


def refusal(data):
    with pytest.raises(ValidationError) as caught:
        manifest.parse(data.encode() if isinstance(data, str) else data)
    assert set(caught.value.message_dict) == {"package"}
    return caught.value.message_dict["package"][0]


def manifest12(items, resources, *, metadata="<metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion>"
               "</metadata>", organizations_attrs='default="ORG"', extra=""):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="M" version="1" xmlns="{CP12}" xmlns:adlcp="{ADL12}" {extra}>
  {metadata}
  <organizations {organizations_attrs}><organization identifier="ORG"><title>Cours</title>{items}</organization>
  </organizations>
  <resources>{resources}</resources>
</manifest>"""


def manifest2004(body, resources, *, version="2004 3rd Edition", sequencing_collection=""):
    return f"""<?xml version="1.0"?>
<manifest identifier="M4" xmlns="{CP2004}" xmlns:adlcp="{ADL2004}" xmlns:imsss="{IMSSS}"
  xmlns:adlnav="{sample.ADLNAV_NS}" xmlns:adlseq="{sample.ADLSEQ_NS}">
  <metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>
  <organizations default="ORG"><organization identifier="ORG"><title>Cours 2004</title>{body}</organization>
  </organizations>
  <resources>{resources}</resources>
  {sequencing_collection}
</manifest>"""


def res(ident, href, kind="sco", extra=""):
    return f'<resource identifier="{ident}" type="webcontent" adlcp:scormtype="{kind}" href="{href}" {extra}/>'


# --- the project's samples ------------------------------------------------------------------------


def test_scorm12_sample_matches_the_fixture_shapes():
    parsed = manifest.parse(sample.scorm12_files()["imsmanifest.xml"].encode())
    assert parsed.standard == "scorm12"
    assert parsed.schema_version == "1.2"
    assert parsed.identifier == "parcours-demo-scorm12"
    assert parsed.title == "Prévention des risques (SCORM 1.2)"
    assert parsed.organization == SCORM12_ORGANIZATION
    assert parsed.launchables == SCORM12_LAUNCHABLES
    assert parsed.referenced_files == ["index.html"]
    assert parsed.manifest["schema"] == "ADL SCORM"
    assert parsed.manifest["version"] == "1.2"
    assert parsed.manifest["unsupported"] == []


@pytest.mark.parametrize("edition, version", [(3, "2004 3rd Edition"), (4, "2004 4th Edition")])
def test_scorm2004_sample_multi_sco(edition, version):
    parsed = manifest.parse(sample.scorm2004_files(edition=edition)["imsmanifest.xml"].encode())
    assert parsed.standard == "scorm2004"
    assert parsed.schema_version == version
    assert parsed.organization == scorm2004_organization()
    assert parsed.launchables == scorm2004_launchables()
    assert parsed.referenced_files == ["sco1/index.html", "sco2/index.html", "sco3/index.html"]
    assert parsed.manifest["unsupported"] == []  # controlMode choice+flow is what the player does


def test_mastery_score_absent_and_decimal():
    assert manifest.parse(sample.scorm12_files(mastery_score=None)["imsmanifest.xml"].encode()).launchables[0][
        "mastery_score"] is None
    data = manifest12(
        '<item identifier="I" identifierref="R"><title>A</title><adlcp:masteryscore>72.5</adlcp:masteryscore>'
        "<adlcp:maxtimeallowed>00:30:00</adlcp:maxtimeallowed><adlcp:timelimitaction>exit,message"
        "</adlcp:timelimitaction><adlcp:datafromlms>niveau=2</adlcp:datafromlms></item>",
        res("R", "a.html"),
    )
    item = manifest.parse(data.encode()).launchables[0]
    assert item["mastery_score"] == 72.5
    assert item["max_time_allowed"] == "00:30:00"
    assert item["time_limit_action"] == "exit,message"
    assert item["launch_data"] == "niveau=2"


def test_invalid_mastery_score_is_named():
    data = manifest12(
        '<item identifier="I" identifierref="R"><title>A</title><adlcp:masteryscore>beaucoup</adlcp:masteryscore>'
        "</item>",
        res("R", "a.html"),
    )
    sentence = refusal(data)
    assert "masteryscore" in sentence and "« I »" in sentence and "beaucoup" in sentence


# --- tree, hrefs, parameters ----------------------------------------------------------------------


def test_nested_clusters_become_children_and_launchables_keep_document_order():
    items = """
    <item identifier="C1"><title>Chapitre 1</title>
      <item identifier="A" identifierref="RA"><title>Leçon A</title></item>
      <item identifier="C2"><title>Sous-chapitre</title>
        <item identifier="B" identifierref="RB"><title>Leçon B</title></item>
      </item>
    </item>
    <item identifier="D" identifierref="RD"><title>Ressource</title></item>
    <item identifier="E"><title>Vide</title></item>"""
    resources = res("RA", "a/index.html") + res("RB", "b/index.html") + res("RD", "doc.pdf", "asset")
    parsed = manifest.parse(manifest12(items, resources).encode())
    assert [item["identifier"] for item in parsed.launchables] == ["A", "B", "D"]
    assert [item["scorm_type"] for item in parsed.launchables] == ["sco", "sco", "asset"]
    tree = parsed.organization
    assert [node["identifier"] for node in tree] == ["C1", "D", "E"]
    assert tree[0]["sco"] is None
    assert tree[0]["children"][0] == {"identifier": "A", "title": "Leçon A", "sco": "A", "children": []}
    assert tree[0]["children"][1]["children"][0]["sco"] == "B"
    assert tree[2]["sco"] is None  # a leaf without resource is shown, not launched


def test_default_organization_is_used_else_the_first():
    body = """<organization identifier="O1"><title>Premier</title>
        <item identifier="X" identifierref="R"><title>X</title></item></organization>
      <organization identifier="O2"><title>Second</title>
        <item identifier="Y" identifierref="R"><title>Y</title></item></organization>"""
    template = f"""<manifest identifier="M" xmlns="{CP12}" xmlns:adlcp="{ADL12}">
      <metadata><schemaversion>1.2</schemaversion></metadata>
      <organizations {{attrs}}>{body}</organizations>
      <resources>{res("R", "r.html")}</resources></manifest>"""
    assert manifest.parse(template.format(attrs='default="O2"').encode()).title == "Second"
    assert manifest.parse(template.format(attrs="").encode()).title == "Premier"
    assert manifest.parse(template.format(attrs='default="NOPE"').encode()).title == "Premier"


@pytest.mark.parametrize(
    "href, parameters, expected",
    [
        ("index.html", "?lang=fr", "index.html?lang=fr"),
        ("index.html", "lang=fr", "index.html?lang=fr"),
        ("index.html?a=1", "?lang=fr", "index.html?a=1&lang=fr"),
        ("index.html?a=1", "&lang=fr", "index.html?a=1&lang=fr"),
        ("index.html", "#page3", "index.html#page3"),
        ("index.html#intro", "#page3", "index.html#intro"),
        ("index.html#intro", "?lang=fr", "index.html?lang=fr#intro"),
        ("index.html", "", "index.html"),
        ("index.html", "?&", "index.html"),
    ],
)
def test_parameters_joining(href, parameters, expected):
    assert manifest.join_parameters(href, parameters) == expected


def test_item_parameters_reach_the_launch_href_but_not_the_referenced_files():
    data = manifest12(
        '<item identifier="I" identifierref="R" parameters="?page=2"><title>A</title></item>',
        res("R", "content/index.html?mode=full"),
    )
    parsed = manifest.parse(data.encode())
    assert parsed.launchables[0]["href"] == "content/index.html?mode=full&page=2"
    assert parsed.referenced_files == ["content/index.html"]


def test_xml_base_of_manifest_resources_and_resource():
    xml_base = 'xml:base="cours/"'
    data = f"""<manifest identifier="M" xmlns="{CP12}" xmlns:adlcp="{ADL12}" {xml_base}>
      <metadata><schemaversion>1.2</schemaversion></metadata>
      <organizations><organization identifier="O"><title>T</title>
        <item identifier="I" identifierref="R"><title>A</title></item>
        <item identifier="J" identifierref="S"><title>B</title></item></organization></organizations>
      <resources xml:base="modules/">
        <resource identifier="R" type="webcontent" adlcp:scormtype="sco" xml:base="m1" href="./index.html"/>
        <resource identifier="S" type="webcontent" adlcp:scormtype="sco" href="page%20deux.html"/>
      </resources></manifest>"""
    parsed = manifest.parse(data.encode())
    assert [item["href"] for item in parsed.launchables] == [
        "cours/modules/m1/index.html", "cours/modules/page%20deux.html",
    ]
    assert parsed.referenced_files == ["cours/modules/m1/index.html", "cours/modules/page deux.html"]


# --- detection ----------------------------------------------------------------------------------


def test_scorm12_detected_from_namespaces_when_metadata_is_missing():
    data = manifest12('<item identifier="I" identifierref="R"><title>A</title></item>', res("R", "a.html"),
                      metadata="")
    parsed = manifest.parse(data.encode())
    assert parsed.standard == "scorm12"
    assert parsed.schema_version == ""
    assert parsed.manifest["version_source"] == "namespaces"


def test_scorm2004_detected_from_the_adlcp_namespace_and_cam_13_accepted():
    body = '<item identifier="I" identifierref="R"><title>A</title></item>'
    resources = '<resource identifier="R" type="webcontent" adlcp:scormType="sco" href="a.html"/>'
    no_metadata = manifest2004(body, resources).replace(
        "<metadata><schema>ADL SCORM</schema><schemaversion>2004 3rd Edition</schemaversion></metadata>", ""
    )
    assert manifest.parse(no_metadata.encode()).standard == "scorm2004"
    assert manifest.parse(manifest2004(body, resources, version="CAM 1.3").encode()).standard == "scorm2004"


def test_unknown_schema_version_is_named():
    data = manifest12('<item identifier="I" identifierref="R"><title>A</title></item>', res("R", "a.html"),
                      metadata="<metadata><schemaversion>1.1</schemaversion></metadata>")
    assert "« 1.1 »" in refusal(data)


def test_no_version_and_unknown_namespaces_is_refused():
    data = """<manifest identifier="M"><organizations><organization identifier="O"><title>T</title>
      <item identifier="I" identifierref="R"><title>A</title></item></organization></organizations>
      <resources><resource identifier="R" href="a.html"/></resources></manifest>"""
    assert "schemaversion" in refusal(data)


# --- 2004: scores, thresholds, unsupported sequencing ---------------------------------------------------


def test_scaled_passing_score_completion_threshold_and_time_limits():
    body = """
    <item identifier="A" identifierref="R"><title>A</title>
      <adlcp:completionThreshold>0.75</adlcp:completionThreshold>
      <adlcp:timeLimitAction>continue,no message</adlcp:timeLimitAction>
      <imsss:sequencing>
        <imsss:limitConditions attemptAbsoluteDurationLimit="PT1H"/>
        <imsss:objectives><imsss:primaryObjective objectiveID="p" satisfiedByMeasure="true">
          <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>
      </imsss:sequencing>
    </item>
    <item identifier="B" identifierref="R"><title>B</title>
      <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.9" progressWeight="1"/>
      <imsss:sequencing><imsss:objectives><imsss:primaryObjective objectiveID="q" satisfiedByMeasure="false">
        <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>
      </imsss:sequencing>
    </item>
    <item identifier="C" identifierref="R"><title>C</title>
      <adlcp:completionThreshold completedByMeasure="false" minProgressMeasure="0.9"/>
      <imsss:sequencing IDRef="shared"/>
    </item>"""
    collection = """<imsss:sequencingCollection><imsss:sequencing ID="shared"><imsss:objectives>
      <imsss:primaryObjective satisfiedByMeasure="true"/></imsss:objectives></imsss:sequencing>
      </imsss:sequencingCollection>"""
    resources = '<resource identifier="R" type="webcontent" adlcp:scormType="sco" href="a.html"/>'
    parsed = manifest.parse(manifest2004(body, resources, sequencing_collection=collection).encode())
    a, b, c = parsed.launchables
    assert (a["scaled_passing_score"], a["completion_threshold"]) == (0.6, 0.75)
    assert (a["max_time_allowed"], a["time_limit_action"]) == ("PT1H", "continue,no message")
    assert (b["scaled_passing_score"], b["completion_threshold"]) == (None, 0.9)
    assert (c["scaled_passing_score"], c["completion_threshold"]) == (1.0, None)  # default minNormalizedMeasure
    assert all(item["mastery_score"] is None for item in parsed.launchables)
    assert parsed.manifest["unsupported"] == ["limitConditions"]


def test_unsupported_sequencing_and_navigation_features_are_listed():
    body = """
    <item identifier="A" identifierref="R"><title>A</title>
      <imsss:sequencing>
        <imsss:controlMode choice="false" flow="true"/>
        <imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions>
          <imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>
          <imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>
        <imsss:rollupRules><imsss:rollupRule childActivitySet="all"><imsss:rollupConditions>
          <imsss:rollupCondition condition="completed"/></imsss:rollupConditions>
          <imsss:rollupAction action="completed"/></imsss:rollupRule></imsss:rollupRules>
        <imsss:objectives><imsss:primaryObjective objectiveID="p">
          <imsss:mapInfo targetObjectiveID="g1"/></imsss:primaryObjective></imsss:objectives>
        <imsss:randomizationControls randomizationTiming="onEachNewAttempt" selectCount="1"/>
        <imsss:deliveryControls tracked="false"/>
      </imsss:sequencing>
      <adlnav:presentation><adlnav:navigationInterface><adlnav:hideLMSUI>continue</adlnav:hideLMSUI>
      </adlnav:navigationInterface></adlnav:presentation>
    </item>"""
    resources = '<resource identifier="R" type="webcontent" adlcp:scormType="sco" href="a.html"/>'
    parsed = manifest.parse(manifest2004(body, resources, version="2004 4th Edition").encode())
    assert set(parsed.manifest["unsupported"]) == {
        "controlMode", "sequencingRules", "rollupRules", "objectiveMaps", "randomizationControls",
        "deliveryControls", "presentation",
    }
    assert set(parsed.manifest["unsupported"]) <= set(manifest.UNSUPPORTED_FEATURES)
    assert parsed.launchables[0]["identifier"] == "A"  # such a package still plays


def test_objective_measure_weights_are_read_per_item():
    body = """
    <item identifier="CHAP" ><title>Chapitre</title>
      <item identifier="A" identifierref="R"><title>A</title>
        <imsss:sequencing><imsss:rollupRules objectiveMeasureWeight="0"/></imsss:sequencing></item>
      <item identifier="B" identifierref="R"><title>B</title>
        <imsss:sequencing IDRef="shared"/></item>
      <imsss:sequencing><imsss:rollupRules objectiveMeasureWeight="0.25"/></imsss:sequencing>
    </item>
    <item identifier="C" identifierref="R"><title>C</title>
      <imsss:sequencing><imsss:rollupRules objectiveMeasureWeight="1.0"/></imsss:sequencing></item>"""
    collection = """<imsss:sequencingCollection><imsss:sequencing ID="shared">
      <imsss:rollupRules objectiveMeasureWeight="0.5"/></imsss:sequencing></imsss:sequencingCollection>"""
    resources = '<resource identifier="R" type="webcontent" adlcp:scormType="sco" href="a.html"/>'
    parsed = manifest.parse(manifest2004(body, resources, sequencing_collection=collection).encode())
    # clusters too; the default 1.0 is not stored
    assert parsed.manifest["measure_weights"] == {"A": 0.0, "B": 0.5, "CHAP": 0.25}
    assert parsed.manifest["unsupported"] == []  # a weight is applied: not listed as unsupported
    assert "measure_weights" not in manifest.parse(sample.scorm2004_files()["imsmanifest.xml"].encode()).manifest

    bad = body.replace('objectiveMeasureWeight="0"', 'objectiveMeasureWeight="2"')
    message = refusal(manifest2004(bad, resources, sequencing_collection=collection))
    assert "objectiveMeasureWeight" in message and "« A »" in message


def test_lom_metadata_title_and_description():
    metadata = """<metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion>
      <lom xmlns="http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"><general>
        <title><langstring xml:lang="fr">Titre LOM</langstring></title>
        <description><langstring xml:lang="fr">Une description.</langstring></description>
      </general></lom></metadata>"""
    data = manifest12('<item identifier="I" identifierref="R"><title>A</title></item>', res("R", "a.html"),
                      metadata=metadata)
    info = manifest.parse(data.encode()).manifest
    assert info["title"] == "Titre LOM"
    assert info["description"] == "Une description."


# --- refusals -----------------------------------------------------------------------------------


def test_invalid_xml_names_line_and_column():
    sentence = refusal(b"<manifest>\n<organizations>\n</manifest>")
    assert "n'est pas un XML valide" in sentence and "ligne 3" in sentence


def test_wrong_root_element():
    assert "« html »" in refusal("<html><body/></html>")


def test_external_entity_is_refused_without_fetching(monkeypatch):
    import urllib.request

    def no_fetch(*args, **kwargs):
        raise AssertionError("the parser tried to fetch an external entity")

    monkeypatch.setattr(urllib.request, "urlopen", no_fetch)
    data = """<?xml version="1.0"?>
<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<manifest identifier="M"><metadata><schemaversion>&xxe;</schemaversion></metadata></manifest>"""
    assert "DTD ou des entités XML" in refusal(data)
    external_dtd = '<?xml version="1.0"?><!DOCTYPE manifest SYSTEM "http://127.0.0.1:9/evil.dtd"><manifest/>'
    assert "DTD ou des entités XML" in refusal(external_dtd)


def test_billion_laughs_is_refused():
    entities = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    data = f'<?xml version="1.0"?><!DOCTYPE manifest [<!ENTITY l0 "ha">{entities}]><manifest>&l9;</manifest>'
    assert "DTD ou des entités XML" in refusal(data)


def test_no_organization():
    data = manifest12("", "").replace('<organization identifier="ORG"><title>Cours</title></organization>', "")
    assert "aucune organisation" in refusal(data)


def test_organization_without_item():
    assert "aucun élément (item)" in refusal(manifest12("", res("R", "a.html")))


def test_identifierref_to_no_resource():
    sentence = refusal(manifest12('<item identifier="I" identifierref="GHOST"><title>A</title></item>', ""))
    assert "« GHOST »" in sentence and "« I »" in sentence


def test_launchable_without_href():
    data = manifest12('<item identifier="I" identifierref="R"><title>A</title></item>',
                      '<resource identifier="R" type="webcontent" adlcp:scormtype="sco"/>')
    sentence = refusal(data)
    assert "« R »" in sentence and "href" in sentence


def test_no_launchable_at_all():
    assert "identifierref" in refusal(manifest12('<item identifier="I"><title>A</title></item>', ""))


@pytest.mark.parametrize("href", ["https://example.org/cours.html", "//example.org/x.html", "javascript:alert(1)"])
def test_external_launch_url_is_refused(href):
    data = manifest12('<item identifier="I" identifierref="R"><title>A</title></item>', res("R", href))
    assert "adresse externe" in refusal(data)


def test_launch_href_leaving_the_package_is_refused():
    data = manifest12('<item identifier="I" identifierref="R"><title>A</title></item>', res("R", "../../etc/passwd"))
    assert "sort du paquet" in refusal(data)
