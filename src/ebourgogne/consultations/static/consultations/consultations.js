/*
 * Consultation form: pressing Enter in the CPV search box runs the search (the button named in
 * data-enter-clicks) instead of submitting the whole form. Without JavaScript the form still works.
 */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field.getAttribute || !field.getAttribute("data-enter-clicks")) {
      return;
    }
    var button = document.getElementById(field.getAttribute("data-enter-clicks"));
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
