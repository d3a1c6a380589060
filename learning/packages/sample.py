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



# --- cmi5 -------------------------------------------------------------------------------------------

CMI5_NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"

#: The AU's script: what an authoring tool's cmi5 output does (cmi5 §8.1, §8.2, §10, §11, §9.3):
#: read the launch parameters, POST to the fetch URL for the token, read LMS.LaunchData and the
#: learner preferences, send initialized; on « Terminer », passed (scaled score, when Normal)
#: and completed, then terminated, and go back to the returnURL.
AU_JS = r"""(function () {
  "use strict";
  var CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
  var MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon";
  var MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore";
  var VERBS = "http://adlnet.gov/expapi/verbs/";
  var body = document.body;
  var score = parseFloat(body.getAttribute("data-score"));
  var status = document.getElementById("status");
  var finish = document.getElementById("finish");
  var query = new URLSearchParams(window.location.search);
  var endpoint = query.get("endpoint");
  var fetchUrl = query.get("fetch");
  var registration = query.get("registration");
  var activityId = query.get("activityId");
  var actor = null;
  var auth = null;
  var launchData = null;
  var started = new Date();

  function say(text) { status.textContent = text; }
  function show(id, text) { document.getElementById(id).textContent = text; }
  try { actor = JSON.parse(query.get("actor") || "null"); } catch (e) { actor = null; }
  if (!endpoint || !fetchUrl || !actor || !registration || !activityId) {
    say("Paramètres de lancement cmi5 absents : ouvrez ce module depuis Parcours.");
    return;
  }
  function uuid() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function xapi(method, path, params, payload) {
    var url = endpoint + path + (params ? "?" + new URLSearchParams(params).toString() : "");
    var init = {method: method, headers: {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}};
    if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    return fetch(url, init).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) { throw new Error(response.status + " " + text); });
      }
      return response.status === 204 ? null : response.json();
    });
  }
  function duration() { return "PT" + Math.max(1, Math.round((new Date() - started) / 1000)) + "S"; }
  function statement(verb, display, options) {
    options = options || {};
    var context = JSON.parse(JSON.stringify(launchData.contextTemplate || {}));
    context.registration = registration;
    context.contextActivities = context.contextActivities || {};
    context.contextActivities.category = [{"objectType": "Activity", "id": CMI5}];
    if (options.moveon) { context.contextActivities.category.push({"objectType": "Activity", "id": MOVEON}); }
    if (options.mastery !== undefined) { context.extensions = context.extensions || {}; context.extensions[MASTERY] = options.mastery; }
    var result = {
      "id": uuid(), "actor": actor, "timestamp": new Date().toISOString(),
      "verb": {"id": VERBS + verb, "display": {"fr-FR": display}},
      "object": {"objectType": "Activity", "id": activityId},
      "context": context
    };
    if (options.result) { result.result = options.result; }
    return result;
  }

  fetch(fetchUrl, {method: "POST"}).then(function (response) { return response.json(); }).then(function (data) {
    if (!data["auth-token"]) { throw new Error("fetch: " + (data["error-text"] || data["error-code"])); }
    auth = "Basic " + data["auth-token"];
    return xapi("GET", "activities/state", {
      "stateId": "LMS.LaunchData", "activityId": activityId, "agent": JSON.stringify(actor), "registration": registration
    });
  }).then(function (data) {
    launchData = data;
    show("launch-mode", launchData.launchMode);
    show("move-on", launchData.moveOn);
    show("mastery-score", launchData.masteryScore === undefined ? "—" : String(launchData.masteryScore));
    return xapi("GET", "agents/profile", {"profileId": "cmi5LearnerPreferences", "agent": JSON.stringify(actor)})
      .then(function (preferences) { show("language", preferences.languagePreference || "—"); },
            function () { show("language", "—"); });
  }).then(function () {
    return xapi("POST", "statements", null, statement("initialized", "a commencé"));
  }).then(function () {
    say("Session ouverte (mode " + launchData.launchMode + ").");
    finish.disabled = false;
  }).catch(function (error) { say("Erreur : " + error.message); });

  finish.addEventListener("click", function () {
    finish.disabled = true;
    var batch = [];
    if (launchData.launchMode === "Normal") {
      var mastery = launchData.masteryScore;
      var passed = mastery === undefined || score >= mastery;
      batch.push(statement(passed ? "passed" : "failed", passed ? "a réussi" : "a échoué", {
        moveon: true, mastery: mastery,
        result: {"success": passed, "duration": duration(), "score": {"scaled": score}}
      }));
      batch.push(statement("completed", "a terminé", {moveon: true, result: {"completion": true, "duration": duration()}}));
    }
    var sent = batch.length ? xapi("POST", "statements", null, batch) : Promise.resolve(null);
    sent.then(function () {
      return xapi("POST", "statements", null, statement("terminated", "a quitté", {result: {"duration": duration()}}));
    }).then(function () {
      say("Module terminé : score " + Math.round(score * 100) + " %.");
      if (launchData.returnURL) {
        window.setTimeout(function () { window.location.assign(launchData.returnURL); }, 600);
      }
    }).catch(function (error) { say("Erreur : " + error.message); finish.disabled = false; });
  });
})();
"""

AU_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1a1a1a; background: #fff; line-height: 1.5; }}
button {{ font-size: 1rem; padding: .6rem 1.2rem; background: #0b4f8a; color: #fff; border: 0; border-radius: 4px; }}
button:disabled {{ background: #5c5c5c; }}
button:focus-visible {{ outline: 3px solid #e07b00; outline-offset: 2px; }}
dt {{ font-weight: bold; }}
</style>
</head>
<body data-score="{score}">
<main>
<h1>{title}</h1>
<p>{description}</p>
<dl>
  <dt>Mode de lancement</dt><dd id="launch-mode">…</dd>
  <dt>Condition de validation (moveOn)</dt><dd id="move-on">…</dd>
  <dt>Score de maîtrise</dt><dd id="mastery-score">…</dd>
  <dt>Langue préférée</dt><dd id="language">…</dd>
</dl>
<p id="status" role="status" aria-live="polite">Connexion à Parcours…</p>
<button type="button" id="finish" disabled>Terminer le module</button>
</main>
<script src="{script}"></script>
</body>
</html>
"""


def cmi5_au_page(*, title, description="", score=0.9, script="au.js"):
    return AU_PAGE.format(title=escape(title), description=escape(description), score=score, script=script)


def cmi5_structure(
    *, title="Accueil des nouveaux agents (cmi5)", course_id="https://parcours.example/cmi5/accueil",
    aus=(("Bienvenue", "CompletedAndPassed", 0.8),), block="Module 1", external_url=None,
):  # fmt: skip
    """A ``cmi5.xml``: one block (``block``, or none when None) holding an AU per ``(title,
    moveOn, masteryScore)`` of ``aus``, launched from ``au<n>/index.html`` (or
    ``external_url`` + ``?au=<n>`` for AUs online elsewhere)."""
    items = []
    for number, (au_title, move_on, mastery) in enumerate(aus, start=1):
        mastery_attr = f' masteryScore="{mastery}"' if mastery is not None else ""
        url = f"{external_url}?au={number}" if external_url else f"au{number}/index.html"
        items.append(
            f"""<au id="{escape(course_id)}/au/{number}" moveOn="{move_on}"{mastery_attr} launchMethod="OwnWindow">
      <title><langstring lang="fr-FR">{escape(au_title)}</langstring><langstring lang="en-US">{escape(au_title)}</langstring></title>
      <description><langstring lang="fr-FR">Unité {number} du cours.</langstring></description>
      <url>{escape(url)}</url>
      <launchParameters>{{"unite": {number}}}</launchParameters>
    </au>"""
        )
    body = "\n    ".join(items)
    if block:
        body = f"""<block id="{escape(course_id)}/block/1">
    <title><langstring lang="fr-FR">{escape(block)}</langstring></title>
    <description><langstring lang="fr-FR">{escape(block)}</langstring></description>
    {body}
  </block>"""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="{CMI5_NS}">
  <course id="{escape(course_id)}">
    <title><langstring lang="fr-FR">{escape(title)}</langstring><langstring lang="en-US">{escape(title)}</langstring></title>
    <description><langstring lang="fr-FR">Un cours cmi5 produit par Parcours.</langstring></description>
  </course>
  {body}
</courseStructure>
"""


def cmi5_files(*, title="Accueil des nouveaux agents (cmi5)", aus=(("Bienvenue", "CompletedAndPassed", 0.8),),
               block="Module 1", score=0.9):  # fmt: skip
    """The files of a cmi5 course: ``cmi5.xml``, one HTML page per AU and the shared script."""
    files = {"cmi5.xml": cmi5_structure(title=title, aus=aus, block=block), "shared/au.js": AU_JS}
    for number, (au_title, _move_on, _mastery) in enumerate(aus, start=1):
        files[f"au{number}/index.html"] = cmi5_au_page(
            title=au_title, description=f"{title} — unité {number}", score=score, script="../shared/au.js"
        )
    return files


def cmi5_package(**kwargs):
    """A cmi5 course zip (bytes); see :func:`cmi5_files`."""
    return zip_bytes(cmi5_files(**kwargs))
