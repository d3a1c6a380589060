/* Recruitment pages: after a failed submission, move the focus to the error summary so
   that keyboard and screen reader users land on the list of errors (the summary is
   also announced through role="alert"). No inline script: the CSP allows 'self' only. */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
