/* The recruiters of an opening (page editor): a search box filtering the list of people who
   may be recruiters, by name, unit or e-mail, accents and case ignored. Progressive
   enhancement only: without it, every person is a checkbox in the list. No inline script:
   the CSP allows 'self' only. */
(function () {
  "use strict";

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setUp(root) {
    var box = root.querySelector("[data-recruiters-search]");
    var input = box && box.querySelector("input[type=search]");
    var count = root.querySelector("[data-recruiters-count]");
    var options = Array.prototype.slice.call(root.querySelectorAll("[data-recruiters-option]"));
    if (!input || !options.length || root.hasAttribute("data-recruiters-ready")) {
      return;
    }
    root.setAttribute("data-recruiters-ready", "");
    box.hidden = false;
    var texts = options.map(function (option) { return fold(option.textContent); });
    var timer = null;

    function say(shown) {
      var text = shown === 0 ? count.getAttribute("data-none")
        : shown === 1 ? count.getAttribute("data-one")
        : count.getAttribute("data-many").replace("%(n)s", String(shown));
      count.textContent = text;
    }

    function filter() {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      options.forEach(function (option, index) {
        var checked = option.querySelector("input:checked");
        var match = checked || words.every(function (word) { return texts[index].indexOf(word) !== -1; });
        option.hidden = !match;
        shown += match ? 1 : 0;
      });
      say(shown);
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(filter, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // searching never submits the page form
      }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-recruiters]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
