"""Small SCORM packages made by the project, for the demo, the tests and the benches.

Their pages behave as an authoring tool's output does: they look for the API object in
the parent frames (``API`` for SCORM 1.2, ``API_1484_11`` for 2004), call
``LMSInitialize``/``Initialize``, read ``entry``, the location and ``suspend_data`` to
resume, write the location, a large ``suspend_data`` (70 KB by default, as Storyline or
Rise do), ``exit = suspend`` and commit on every screen, then on the last screen a score,
an interaction and an objective, the completion and success statuses, the session time,
and finish. A SCORM 2004 SCO asks the player for the next SCO (``adl.nav.request =
continue``) before it terminates.

Every function returns the zip as bytes; ``zip_bytes`` builds any zip (hostile ones too).
"""

import io
import stat
import zipfile
from html import escape

SCORM12_NS = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
ADLCP12_NS = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
CP_2004_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
ADLCP_2004_NS = "http://www.adlnet.org/xsd/adlcp_v1p3"
IMSSS_NS = "http://www.imsglobal.org/xsd/imsss"
ADLSEQ_NS = "http://www.adlnet.org/xsd/adlseq_v1p3"
ADLNAV_NS = "http://www.adlnet.org/xsd/adlnav_v1p3"

SCO_JS = r"""(function () {
  "use strict";
  var body = document.body;
  var version = body.getAttribute("data-version");
  var screens = parseInt(body.getAttribute("data-screens"), 10);
  var score = parseInt(body.getAttribute("data-score"), 10);
  var suspendKb = parseInt(body.getAttribute("data-suspend-kb"), 10);
  var passing = parseInt(body.getAttribute("data-passing"), 10);
  var v12 = version === "1.2";
  var name = v12 ? "API" : "API_1484_11";
  var started = new Date();

  function findApi(win) {
    for (var i = 0; win && i < 12; i++) {
      if (win[name]) { return win[name]; }
      if (win.parent === win) { break; }
      win = win.parent;
    }
    return window.opener && window.opener[name] ? window.opener[name] : null;
  }
  var api = findApi(window);
  function call(method12, method2004) {
    var args = Array.prototype.slice.call(arguments, 2);
    var method = v12 ? method12 : method2004;
    return api ? api[method].apply(api, args) : "";
  }
  function get(key12, key2004) { return call("LMSGetValue", "GetValue", v12 ? key12 : key2004); }
  function set(key12, key2004, value) { return call("LMSSetValue", "SetValue", v12 ? key12 : key2004, String(value)); }
  function commit() { return call("LMSCommit", "Commit", ""); }

  function pad(n, width) { n = String(n); while (n.length < width) { n = "0" + n; } return n; }
  function sessionTime() {
    var seconds = Math.max(1, Math.round((new Date() - started) / 1000));
    if (!v12) { return "PT" + seconds + "S"; }
    return pad(Math.floor(seconds / 3600), 4) + ":" + pad(Math.floor(seconds / 60) % 60, 2) + ":" + pad(seconds % 60, 2);
  }
  function suspendData(screen) {
    var chunk = "screen=" + screen + ";";
    var filler = "";
    var unit = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    while (filler.length < suspendKb * 1024) { filler += unit; }
    return chunk + filler.slice(0, Math.max(0, suspendKb * 1024 - chunk.length));
  }

  var status = document.getElementById("status");
  var ok = call("LMSInitialize", "Initialize", "");
  if (String(ok) !== "true") {
    status.textContent = "API SCORM introuvable : ce module doit être ouvert depuis Parcours.";
    return;
  }
  var entry = get("cmi.core.entry", "cmi.entry");
  var location = parseInt(get("cmi.core.lesson_location", "cmi.location"), 10);
  var saved = get("cmi.suspend_data", "cmi.suspend_data");
  var screen = location >= 1 && location <= screens ? location : 1;
  if (entry === "resume") {
    var note = document.getElementById("resume-note");
    note.hidden = false;
    note.setAttribute("data-suspend-length", String(saved.length));
    note.textContent = "Reprise à l'écran " + screen + " (données de reprise : " + saved.length + " caractères).";
  }
  if (v12) {
    if (get("cmi.core.lesson_status") === "not attempted") { set("cmi.core.lesson_status", null, "incomplete"); }
  } else if (get(null, "cmi.completion_status") !== "completed") {
    set(null, "cmi.completion_status", "incomplete");
  }

  var title = document.getElementById("screen-title");
  var next = document.getElementById("next");
  var finish = document.getElementById("finish");
  function show() {
    title.textContent = "Écran " + screen + " sur " + screens;
    title.setAttribute("data-screen", String(screen));
    next.hidden = screen >= screens;
    finish.hidden = screen < screens;
  }
  function save() {
    set("cmi.core.lesson_location", "cmi.location", screen);
    set("cmi.suspend_data", "cmi.suspend_data", suspendData(screen));
    set("cmi.core.exit", "cmi.exit", "suspend");
    if (!v12) { set(null, "cmi.progress_measure", (screen / screens).toFixed(2)); }
    commit();
  }
  next.addEventListener("click", function () { screen += 1; save(); show(); title.focus(); });
  finish.addEventListener("click", function () {
    var passed = score >= passing;
    set("cmi.core.score.min", "cmi.score.min", 0);
    set("cmi.core.score.max", "cmi.score.max", 100);
    set("cmi.core.score.raw", "cmi.score.raw", score);
    set("cmi.interactions.0.id", "cmi.interactions.0.id", "q1");
    set("cmi.interactions.0.type", "cmi.interactions.0.type", "choice");
    set("cmi.interactions.0.student_response", "cmi.interactions.0.learner_response", "a");
    set("cmi.interactions.0.result", "cmi.interactions.0.result", "correct");
    set("cmi.objectives.0.id", "cmi.objectives.0.id", "obj1");
    if (v12) {
      set("cmi.objectives.0.status", null, passed ? "passed" : "failed");
      set("cmi.core.lesson_status", null, isNaN(passing) ? "completed" : (passed ? "passed" : "failed"));
    } else {
      set(null, "cmi.objectives.0.success_status", passed ? "passed" : "failed");
      set(null, "cmi.score.scaled", (score / 100).toFixed(2));
      set(null, "cmi.progress_measure", "1");
      set(null, "cmi.completion_status", "completed");
      set(null, "cmi.success_status", passed ? "passed" : "failed");
      set(null, "adl.nav.request", "continue");
    }
    set("cmi.core.lesson_location", "cmi.location", screen);
    set("cmi.core.exit", "cmi.exit", v12 ? "" : "normal");
    set("cmi.core.session_time", "cmi.session_time", sessionTime());
    commit();
    call("LMSFinish", "Terminate", "");
    finish.hidden = true;
    status.textContent = "Module terminé : score " + score + " %.";
  });
  show();
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1.5rem;color:#161616}}button{{font-size:1rem;padding:.5rem 1rem}}</style>
</head>
<body data-version="{version}" data-screens="{screens}" data-score="{score}" data-suspend-kb="{suspend_kb}" data-passing="{passing}">
<main>
<h1>{title}</h1>
<p id="resume-note" hidden></p>
<h2 id="screen-title" tabindex="-1">Écran 1</h2>
<p>Contenu de démonstration généré par Parcours.</p>
<p><button type="button" id="next">Suivant</button> <button type="button" id="finish" hidden>Terminer le module</button></p>
<p id="status" role="status"></p>
</main>
<script src="{script}"></script>
</body>
</html>
"""


def zip_bytes(files, *, symlinks=(), compression=zipfile.ZIP_DEFLATED):
    """A zip of ``files`` (``{name: str | bytes}``, names written as given, ``../`` too),
    plus ``symlinks`` (``{name: target}``) stored as Unix symbolic links."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content, compress_type=compression)
        for name, target in dict(symlinks).items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def _page(*, title, version, screens, score, suspend_kb, passing, script="sco.js"):
    return PAGE.format(
        title=escape(title), version=version, screens=screens, score=score, suspend_kb=suspend_kb,
        passing="" if passing is None else passing, script=script,
    )


def scorm12_files(*, title="Prévention des risques (SCORM 1.2)", screens=3, score=90, mastery_score=80, suspend_kb=70):
    """The files of a one-SCO SCORM 1.2 package (``{path: text}``)."""
    mastery = f"<adlcp:masteryscore>{mastery_score}</adlcp:masteryscore>" if mastery_score is not None else ""
    manifest = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="parcours-demo-scorm12" version="1"
  xmlns="{SCORM12_NS}" xmlns:adlcp="{ADLCP12_NS}">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="ORG-1">
    <organization identifier="ORG-1">
      <title>{escape(title)}</title>
      <item identifier="ITEM-1" identifierref="RES-1" isvisible="true">
        <title>{escape(title)}</title>
        {mastery}
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES-1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/>
      <file href="sco.js"/>
    </resource>
  </resources>
</manifest>
"""
    return {
        "imsmanifest.xml": manifest,
        "index.html": _page(
            title=title, version="1.2", screens=screens, score=score, suspend_kb=suspend_kb, passing=mastery_score
        ),
        "sco.js": SCO_JS,
    }


def scorm12_package(**kwargs):
    """A one-SCO SCORM 1.2 package (zip bytes); see :func:`scorm12_files`."""
    return zip_bytes(scorm12_files(**kwargs))


DEFAULT_SCOS = (("Introduction", 2), ("Les gestes qui sauvent", 2), ("Évaluation", 2))


def scorm2004_files(
    *, title="Premiers secours (SCORM 2004)", scos=DEFAULT_SCOS, edition=4, score=85, passing=80, suspend_kb=70,
):
    """The files of a multi-SCO SCORM 2004 package (3rd or 4th edition): one SCO per
    ``(title, screens)`` in ``scos``, choice and flow navigation, a scaled passing score
    of ``passing`` % on each SCO's primary objective."""
    schema_version = "2004 4th Edition" if edition == 4 else "2004 3rd Edition"
    scaled = f"{passing / 100:.2f}" if passing is not None else None
    items, resources, files = [], [], {}
    for number, (sco_title, screens) in enumerate(scos, start=1):
        objective = (
            f"""<imsss:sequencing><imsss:objectives><imsss:primaryObjective objectiveID="obj-{number}" satisfiedByMeasure="true">
            <imsss:minNormalizedMeasure>{scaled}</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives></imsss:sequencing>"""
            if scaled is not None
            else ""
        )
        items.append(
            f"""<item identifier="ITEM-{number}" identifierref="RES-{number}">
          <title>{escape(sco_title)}</title>
          <adlcp:dataFromLMS>sco={number}</adlcp:dataFromLMS>
          {objective}
        </item>"""
        )
        resources.append(
            f"""<resource identifier="RES-{number}" type="webcontent" adlcp:scormType="sco" href="sco{number}/index.html">
      <file href="sco{number}/index.html"/>
      <dependency identifierref="COMMON"/>
    </resource>"""
        )
        files[f"sco{number}/index.html"] = _page(
            title=f"{title} — {sco_title}", version="2004", screens=screens, score=score, suspend_kb=suspend_kb,
            passing=passing, script="../shared/sco.js",
        )
    manifest = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="parcours-demo-scorm2004" version="1"
  xmlns="{CP_2004_NS}" xmlns:adlcp="{ADLCP_2004_NS}" xmlns:imsss="{IMSSS_NS}"
  xmlns:adlseq="{ADLSEQ_NS}" xmlns:adlnav="{ADLNAV_NS}">
  <metadata><schema>ADL SCORM</schema><schemaversion>{schema_version}</schemaversion></metadata>
  <organizations default="ORG-1">
    <organization identifier="ORG-1">
      <title>{escape(title)}</title>
      {"".join(items)}
      <imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>
    </organization>
  </organizations>
  <resources>
    {"".join(resources)}
    <resource identifier="COMMON" type="webcontent" adlcp:scormType="asset">
      <file href="shared/sco.js"/>
    </resource>
  </resources>
</manifest>
"""
    files["imsmanifest.xml"] = manifest
    files["shared/sco.js"] = SCO_JS
    return files


def scorm2004_package(**kwargs):
    """A multi-SCO SCORM 2004 package (zip bytes); see :func:`scorm2004_files`."""
    return zip_bytes(scorm2004_files(**kwargs))

