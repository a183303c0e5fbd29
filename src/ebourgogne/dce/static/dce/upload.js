// Upload progress for the DCE forms. Without JavaScript the forms post as usual (the browser shows its own
// progress); with it, the same request goes through XMLHttpRequest so that a <progress> bar can follow it.
(function () {
  "use strict";
  function enhance(form) {
    var bar = form.querySelector("progress");
    var text = form.parentNode.querySelector(".dce-progress-text");
    if (!bar || !window.FormData || !window.XMLHttpRequest) { return; }
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input || !input.files || !input.files.length) { return; }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      bar.hidden = false;
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var percent = Math.floor((e.loaded / e.total) * 100);
          bar.value = percent;
          if (text) { text.textContent = percent + " %"; }
        }
      });
      request.addEventListener("load", function () {
        // The answer is the page the form would have shown (after the redirect, with its message).
        var page = new DOMParser().parseFromString(request.responseText, "text/html");
        if (request.responseURL && request.responseURL !== window.location.href) {
          window.history.replaceState(null, "", request.responseURL);
        }
        document.title = page.title;
        document.body.replaceWith(document.adoptNode(page.body));
        document.querySelectorAll("form[data-dce-upload]").forEach(enhance);
        var focus = document.querySelector(".messages, .error-summary") || document.querySelector("main");
        if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus(); }
      });
      request.addEventListener("error", function () { form.submit(); });
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
      request.send(new FormData(form));
    });
  }
  document.querySelectorAll("form[data-dce-upload]").forEach(enhance);
})();
