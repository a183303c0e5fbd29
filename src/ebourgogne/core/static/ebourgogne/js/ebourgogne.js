/*
 * e-bourgogne — small behaviours that need JavaScript. Every page works without it (strict CSP: this
 * file is the only place for our scripts; nothing inline).
 *
 * - Forms and buttons carrying data-confirm="question" ask for confirmation before submitting.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
