/* The recruitment board: drag a card onto another column to move the application.
   Progressive enhancement only: every move is also a button on the card (the keyboard
   way), and a drop just submits the card's own form with the column's status, so the
   server checks the move, asks for a reason when the table requires one, and answers
   with a message. No inline script: the CSP allows 'self' only. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !("draggable" in document.createElement("span"))) {
    return;
  }
  var dragged = null;

  function targetsOf(card) {
    return (card.getAttribute("data-targets") || "").split(/\s+/).filter(Boolean);
  }

  function columnOf(element) {
    return element && element.closest ? element.closest("[data-status]") : null;
  }

  function allowed(column) {
    return dragged && column && targetsOf(dragged).indexOf(column.getAttribute("data-status")) !== -1;
  }

  function clear() {
    Array.prototype.forEach.call(board.querySelectorAll(".rc-column--target, .rc-column--drop"), function (column) {
      column.classList.remove("rc-column--target", "rc-column--drop");
    });
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest("[data-targets]") : null;
    if (!card) {
      return;
    }
    dragged = card;
    card.classList.add("rc-card--dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    targetsOf(card).forEach(function (status) {
      var column = board.querySelector('[data-status="' + status + '"]');
      if (column) {
        column.classList.add("rc-column--target");
      }
    });
  });

  board.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("rc-card--dragging");
    }
    dragged = null;
    clear();
  });

  board.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (allowed(column)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("rc-column--drop");
    }
  });

  board.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) {
      column.classList.remove("rc-column--drop");
    }
  });

  board.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!allowed(column)) {
      return;
    }
    event.preventDefault();
    var form = dragged.querySelector("form[data-board-move]");
    var input = form && form.querySelector("[data-drop-status]");
    if (!input) {
      return;
    }
    input.disabled = false;
    input.value = column.getAttribute("data-status");
    form.submit();
  });
})();
