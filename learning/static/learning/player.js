/* The SCORM player of Parcours (learning/templates/learning/package_player.html).
 *
 * No framework, no inline script: the page hands its data over as json_script
 * (#package-player-data) and loads the vendored scorm-again (scorm12.min.js or
 * scorm2004.min.js, see vendor/scorm-again/README.md) before this file.
 *
 * 1. The API object (window.API for SCORM 1.2, window.API_1484_11 for 2004) is created
 *    with scorm-again's own transport switched off (lmsCommitUrl: false) and loaded with
 *    the saved CMI data (loadFromFlattenedJSON, flattened "cmi.…" keys) BEFORE the
 *    iframe's src is set, so the SCO's first GetValue already sees entry = resume, the
 *    location and the suspend_data.
 * 2. Commits (scorm-again's "LMSCommit" / "Commit" events) go to commit_url with fetch
 *    (JSON, X-CSRFToken, same-origin credentials), with a sequence number strictly
 *    increasing per attempt; the first commit of the page holds every element, the
 *    next ones only what changed since the last acknowledged commit. A failed commit is
 *    retried with a growing delay; the status line says so.
 * 3. The terminate commit ("LMSFinish" / "Terminate") and the save when the page is
 *    hidden or left (visibilitychange, pagehide; never unload) go by
 *    navigator.sendBeacon to beacon_url (one-time signed token, text/plain body), with
 *    only what changed: browsers silently drop a beacon over 64 KiB. If the change is
 *    larger (a 70 KB suspend_data that no commit has carried yet), the small elements
 *    go by beacon and the whole change by an ordinary fetch with the next sequence
 *    number while the page is still alive (a replay of the same elements is harmless:
 *    the server merges, and ignores whichever of the two arrives second if it is older).
 * 4. Navigation requests (adl.nav.request continue / previous / choice, SCORM 1.2
 *    nav.event) move the player to the next / previous / chosen SCO once the terminate
 *    commit has been stored.
 */
(function () {
  "use strict";

  var dataNode = document.getElementById("package-player-data");
  var frame = document.getElementById("package-frame");
  if (!dataNode || !frame) { return; }
  var data = JSON.parse(dataNode.textContent);
  var messages = data.messages || {};
  var statusNode = document.getElementById("package-status");
  var attemptStatusNode = document.getElementById("package-attempt-status");
  var root = document.getElementById("package-player");

  var is12 = data.standard === "scorm12";
  var review = data.mode === "review";
  var BEACON_LIMIT = 60 * 1024;      // below the 64 KiB browsers accept for a beacon
  var LARGE_VALUE = 1024;            // values moved from the beacon to the fetch when too large
  var MAX_RETRY_DELAY = 30000;

  // --- status line ---------------------------------------------------------------------
  function show(text, state) {
    if (!statusNode) { return; }
    statusNode.textContent = text || "";
    statusNode.setAttribute("data-state", state || "");
  }

  function showAttempt(result) {
    if (!attemptStatusNode || !result || !result.attempt) { return; }
    var labels = data.status_labels || {};
    var label = labels[result.attempt.status] || result.attempt.status;
    attemptStatusNode.textContent = label;
    attemptStatusNode.setAttribute("data-status", result.attempt.status);
  }

  // --- sequence numbers: strictly increasing per attempt, across page loads -------------
  var seqKey = "parcours:package-seq:" + data.attempt;
  function storedSeq() {
    try { return parseInt(window.localStorage.getItem(seqKey), 10) || 0; } catch (e) { return 0; }
  }
  var seq = Math.max(parseInt(data.last_seq, 10) || 0, storedSeq());
  function nextSeq() {
    seq += 1;
    try { window.localStorage.setItem(seqKey, String(seq)); } catch (e) { /* private mode */ }
    return seq;
  }
  function raiseSeq(value) {
    if (value > seq) {
      seq = value;
      try { window.localStorage.setItem(seqKey, String(seq)); } catch (e) { /* private mode */ }
    }
  }

  function csrfToken() {
    var fromPage = root && root.getAttribute("data-csrf");
    if (fromPage) { return fromPage; }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- the API object, loaded before the SCO starts --------------------------------------
  var settings = {
    lmsCommitUrl: false,        // our own transport, below
    autocommit: true,           // a safety net for SCOs that never commit
    autocommitSeconds: 30,
    logLevel: 4,                // errors only
    mastery_override: false,    // the server maps scores onto statuses
    autoProgress: false,
    selfReportSessionTime: false,
    alwaysSendTotalTime: false
  };
  var ApiClass = is12 ? window.Scorm12API : window.Scorm2004API;
  if (typeof ApiClass !== "function") {
    show(messages.unavailable || "", "error");
    return;
  }
  var api = new ApiClass(settings);
  api.loadFromFlattenedJSON(data.cmi || {}, "");
  if (is12) { window.API = api; } else { window.API_1484_11 = api; }

  // What a commit may carry: the SCO's elements, not those Parcours sets (read-only).
  var readOnly = {};
  (data.read_only || []).forEach(function (key) { readOnly[key] = true; });
  function writable(key) {
    if (key.indexOf("cmi.") !== 0 || readOnly[key]) { return false; }
    var prefixes = data.read_only_prefixes || [];
    for (var i = 0; i < prefixes.length; i++) { if (key.indexOf(prefixes[i]) === 0) { return false; } }
    var suffixes = data.ignored_suffixes || [];
    for (var j = 0; j < suffixes.length; j++) {
      if (key.length >= suffixes[j].length && key.slice(-suffixes[j].length) === suffixes[j]) { return false; }
    }
    return true;
  }

  // The flattened CMI as the server stores it: scalar values of writable "cmi.…" elements,
  // and the SCO's navigation request ("adl.nav.request", SCORM 2004).
  function snapshot() {
    var flat = api.getFlattenedCMI();
    var out = {};
    Object.keys(flat).forEach(function (key) {
      var value = flat[key];
      if (value === null || value === undefined || typeof value === "object") { return; }
      if (!writable(key)) { return; }
      out[key] = String(value);
    });
    var request = !is12 && api.adl && api.adl.nav ? api.adl.nav.request : "";
    if (request && request !== "_none_") { out["adl.nav.request"] = String(request); }
    return out;
  }
  function changes(current, base) {
    var out = {};
    Object.keys(current).forEach(function (key) {
      if (!base || base[key] !== current[key]) { out[key] = current[key]; }
    });
    return out;
  }
  function isEmpty(object) { return Object.keys(object).length === 0; }

  var loaded = snapshot();    // what the server already has
  var acked = null;           // the CMI at the last acknowledged commit (null: no full commit yet)
  var inflight = null;
  var queued = false;
  var retryTimer = null;
  var retryDelay = 2000;
  var beaconUrl = data.beacon_url;
  var beaconUsed = false;
  var lastFinalBody = null;
  var finalSeq = 0;           // sequence number of the last beacon / keepalive sent
  var terminated = false;
  var pendingTerminate = false;  // the SCO terminated; its commit waits for the one in flight
  var leaving = false;
  var finalPromise = null;

  function body(cmi, terminate, number) {
    return JSON.stringify({ sco: data.sco, seq: number, cmi: cmi, terminate: !!terminate });
  }

  function CommitError(status, detail) {
    this.status = status;
    this.detail = detail || "";
    this.retry = status === 0 || status === 408 || status === 429 || status >= 500;
  }

  function post(json, keepalive) {
    return fetch(data.commit_url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: json
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (payload) {
        if (!response.ok) { throw new CommitError(response.status, payload && payload.detail); }
        return payload;
      });
    }, function () { throw new CommitError(0, ""); });
  }

  function acknowledge(result, sentSeq, current) {
    if (result.beacon_url) { beaconUrl = result.beacon_url; beaconUsed = false; }
    if (typeof result.last_seq === "number") { raiseSeq(result.last_seq); }
    showAttempt(result);
    if (result.applied === false && sentSeq > finalSeq && !terminated) {
      return false;  // the server had a newer sequence number (another tab or device): send again
    }
    acked = current;
    return true;
  }

  function scheduleRetry() {
    if (retryTimer) { return; }
    retryTimer = window.setTimeout(function () { retryTimer = null; save(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_DELAY);
  }

  // An ordinary commit (the SCO's Commit, the autocommit, a retry, the return to the page).
  function save() {
    if (review || terminated) { return Promise.resolve(); }
    if (inflight) { queued = true; return inflight; }
    var current = snapshot();
    var cmi = acked ? changes(current, acked) : current;
    if (acked && isEmpty(cmi) && !beaconUsed) { return Promise.resolve(); }
    var number = nextSeq();
    show(messages.saving, "saving");
    inflight = post(body(cmi, false, number), false).then(function (result) {
      window.clearTimeout(retryTimer);
      retryTimer = null;
      retryDelay = 2000;
      if (!acknowledge(result, number, current)) { queued = true; }
      show(messages.saved, "saved");
    }, function (error) {
      if (error.retry) {
        show(navigator.onLine === false ? messages.offline : messages.failed, "retrying");
        scheduleRetry();
      } else {
        show((messages.refused || "%(detail)s").replace("%(detail)s", error.detail || String(error.status)), "error");
      }
    }).then(function () {
      inflight = null;
      if (queued) { queued = false; return save(); }
      return undefined;
    });
    return inflight;
  }

  // A beacon while the one-time URL is fresh, else a keepalive fetch with the session.
  function sendSmall(json) {
    if (beaconUrl && !beaconUsed && navigator.sendBeacon) {
      if (navigator.sendBeacon(beaconUrl, new Blob([json], { type: "text/plain" }))) {
        beaconUsed = true;
        return true;
      }
    }
    try {
      post(json, true).catch(function () { /* the page is going away */ });
      return true;
    } catch (e) {
      return false;
    }
  }

  // The terminate commit, or the save of a page being hidden or left: only what changed.
  function sendFinal(terminate) {
    if (review || (terminated && !terminate)) { return null; }
    var current = snapshot();
    var cmi = changes(current, acked || loaded);
    if (!terminate && isEmpty(cmi)) { return null; }
    var whole = JSON.stringify(cmi);
    if (!terminate && whole === lastFinalBody) { return null; }  // visibilitychange, then pagehide
    lastFinalBody = whole;
    if (whole.length <= BEACON_LIMIT) {
      finalSeq = nextSeq();
      sendSmall(body(cmi, terminate, finalSeq));
      return { seq: finalSeq, request: null };
    }
    // Too large for a beacon: the small elements by beacon first, then everything by an
    // ordinary fetch with a higher sequence number (the terminate flag travels with it).
    var small = {};
    Object.keys(cmi).forEach(function (key) {
      if (cmi[key].length <= LARGE_VALUE) { small[key] = cmi[key]; }
    });
    if (!isEmpty(small)) { sendSmall(body(small, false, nextSeq())); }
    var number = nextSeq();
    finalSeq = number;
    var request = post(body(cmi, terminate, number), false).then(function (result) {
      acknowledge(result, number, current);
      return result;
    });
    return { seq: number, request: request };
  }

  // Wait until the server has stored sequence number ``wanted`` (the beacon gives no answer).
  function confirmStored(wanted) {
    if (!data.attempt_url) { return new Promise(function (resolve) { window.setTimeout(resolve, 800); }); }
    var deadline = Date.now() + 5000;
    return new Promise(function (resolve) {
      function poll() {
        fetch(data.attempt_url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : {}; })
          .catch(function () { return {}; })
          .then(function (payload) {
            var stored = payload.last_seq;
            if (typeof stored !== "number" && payload.attempt) { stored = payload.attempt.last_seq; }
            if (typeof stored !== "number" || stored >= wanted || Date.now() > deadline) {
              showAttempt({ attempt: payload.attempt || payload });
              resolve();
            } else {
              window.setTimeout(poll, 200);
            }
          });
      }
      window.setTimeout(poll, 150);
    });
  }

  function within(promise, milliseconds) {
    return Promise.race([
      promise.catch(function () { return null; }),
      new Promise(function (resolve) { window.setTimeout(resolve, milliseconds); })
    ]);
  }

  function sendTerminate() {
    pendingTerminate = false;
    var sent = sendFinal(true);
    if (!sent) { return Promise.resolve(); }
    return sent.request ? sent.request.catch(function () { return null; }) : confirmStored(sent.seq);
  }

  // The SCO ended its session. While the page is alive, the commit it usually sends just
  // before is awaited first (the terminate then carries only what is left, and the server
  // does not see the two at once); a page being left sends it at once (pagehide).
  function onTerminate() {
    if (terminated) { return; }
    terminated = true;
    if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; }
    if (review) {
      finalPromise = Promise.resolve();
      show(messages.review, "review");
      return;
    }
    pendingTerminate = true;
    show(messages.saving, "saving");
    var alive = !leaving && document.visibilityState === "visible";
    var before = alive && inflight ? within(inflight, 5000) : Promise.resolve();
    finalPromise = before.then(function () {
      return pendingTerminate ? sendTerminate() : null;
    }).then(function () {
      show(messages.terminated, "saved");
    });
  }

  function go(url) {
    if (!url) { return; }
    (finalPromise || Promise.resolve()).then(function () {
      show(messages.leaving, "leaving");
      window.location.assign(url);
    });
  }

  // --- scorm-again events ----------------------------------------------------------------
  api.on(is12 ? "LMSCommit" : "Commit", function () { save(); });
  api.on(is12 ? "LMSFinish" : "Terminate", onTerminate);
  api.on("SequenceNext", function () { go(data.next_url || data.step_url); });
  api.on("SequencePrevious", function () { go(data.previous_url); });
  api.on("SequenceChoice", function (target) {
    var urls = data.choice_urls || {};
    go(urls[target] || null);
  });
  api.on("SequenceJump", function (target) {
    var urls = data.choice_urls || {};
    go(urls[target] || null);
  });
  ["SequenceExit", "SequenceExitAll", "SequenceAbandon", "SequenceAbandonAll"].forEach(function (name) {
    api.on(name, function () { go(data.step_url); });
  });

  // --- the page being hidden or left (never unload) ----------------------------------------
  function leave() {
    if (pendingTerminate) { sendTerminate(); } else { sendFinal(false); }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      leave();
    } else if (!terminated && (beaconUsed || lastFinalBody !== null)) {
      lastFinalBody = null;
      save();  // confirms what the beacon carried and brings a fresh one-time URL
    }
  });
  window.addEventListener("pagehide", function () { leaving = true; leave(); });
  window.addEventListener("online", function () {
    if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; save(); }
  });

  // --- start the SCO, now that the API is ready -----------------------------------------
  if (review) { show(messages.review, "review"); }
  frame.src = data.content_url;
})();
