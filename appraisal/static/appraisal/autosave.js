/* Autosave of a draft (the evaluator's compte rendu, the agent's observations).
 *
 * A form with data-autosave-url is posted there (fetch, same origin, CSRF header) every
 * 20 seconds when it has changed since the last save. The server answers JSON:
 * {saved_at, message} or {detail} with 400/401/403/404/409; the message is written in the
 * element named by data-autosave-status (role="status": read out by screen readers).
 * A 409 (the report was notified meanwhile) or 401/403/404 stops autosaving.
 * Without JavaScript the form's own buttons save the draft: this script only adds to them.
 */
(function () {
  "use strict";

  var INTERVAL = 20000;

  function setup(form) {
    var url = form.getAttribute("data-autosave-url");
    var status = document.getElementById(form.getAttribute("data-autosave-status") || "");
    var failure = form.getAttribute("data-autosave-error") || "";
    var tokenInput = form.querySelector("input[name=csrfmiddlewaretoken]");
    var dirty = false;
    var busy = false;
    var timer = null;

    function show(text) {
      if (status && text) {
        status.textContent = text;
      }
    }

    function stop() {
      if (timer !== null) {
        window.clearInterval(timer);
        timer = null;
      }
    }

    function save() {
      if (!dirty || busy) {
        return;
      }
      busy = true;
      dirty = false;
      var headers = { "Accept": "application/json", "X-Requested-With": "fetch" };
      if (tokenInput) {
        headers["X-CSRFToken"] = tokenInput.value;
      }
      window.fetch(url, { method: "POST", body: new FormData(form), headers: headers, credentials: "same-origin" })
        .then(function (response) {
          return response.json().then(function (body) {
            return { status: response.status, ok: response.ok, body: body };
          });
        })
        .then(function (result) {
          busy = false;
          if (result.ok) {
            show(result.body.message);
            return;
          }
          show(result.body.detail || failure);
          if (result.status === 400) {
            dirty = true; /* try again once the evaluator has corrected the field */
          } else {
            stop();
          }
        })
        .catch(function () {
          busy = false;
          dirty = true;
          show(failure);
        });
    }

    function markDirty() {
      dirty = true;
    }

    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("submit", function () {
      dirty = false;
      stop();
    });
    timer = window.setInterval(save, INTERVAL);
  }

  function init() {
    if (!window.fetch || !window.FormData) {
      return;
    }
    var forms = document.querySelectorAll("form[data-autosave-url]");
    for (var i = 0; i < forms.length; i += 1) {
      setup(forms[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
